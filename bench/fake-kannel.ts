/**
 * A stand-in for Kannel's sendsms endpoint, run as its own process so that neither the server
 * nor the load generator shares its event loop. It answers every request `202 0: Accepted for
 * delivery` over keep-alive connections and records, for each reply text `m<N>`, when it arrived.
 * The parent asks over IPC (`"take"`) for the arrivals since its last question.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const now = (): number => performance.timeOrigin + performance.now();

/** Flat pairs: N, arrival time, N, arrival time, … */
let arrivals: number[] = [];
let identities = 0;
let requests = 0;
let lastAt = 0;

const server = createServer((request, response) => {
  const at = now();
  const url = request.url ?? "";
  const query = new URLSearchParams(url.slice(url.indexOf("?") + 1));
  const to = query.get("to") ?? "";
  identities += to === "" ? 0 : to.split(" ").length;
  requests++;
  lastAt = at;
  const match = /^m(\d+)$/.exec(query.get("text") ?? "");
  if (match) arrivals.push(Number(match[1]), at);
  response.writeHead(202, { "content-type": "text/plain" }).end("0: Accepted for delivery");
});
server.keepAliveTimeout = 60_000;

process.on("message", (message) => {
  if (message !== "take") return;
  process.send!({ arrivals, identities, requests, lastAt });
  arrivals = [];
});
process.on("disconnect", () => process.exit(0));

server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));
