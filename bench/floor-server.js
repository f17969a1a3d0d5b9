/**
 * The floor: the durable echo loop with none of RapidSMS's code, built on the same parts the
 * server is (node:http inbound, node:sqlite in a worker thread with group commits under
 * `synchronous = FULL`, undici to the gateway), doing the least the product promises:
 *
 * - the 200 goes out only once the message is committed (one row);
 * - the reply is committed before it is sent (the message marked handled, the reply's row);
 * - the gateway's answer is committed after the send (the reply marked sent).
 *
 * Three commits and four statements per message when messages come one at a time; concurrent
 * messages share commits. No router, no validation beyond the two fields, no retries, no
 * metrics, no logging. Whatever the server costs above this is the price of its code; this
 * process's own cost is what Node and SQLite ask on this machine for the promises alone.
 *
 * Plain JavaScript, so that it starts without the type stripper, as the server does from dist/.
 * `node floor-server.js <database file> <sendsms URL> <port>`, with an IPC channel: it exits when that closes.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

if (isMainThread) await serve(process.argv[2], process.argv[3], Number(process.argv[4]));
else store(workerData);

/** The store thread: every operation that arrived while the last commit ran goes into the next one. */
function store(file) {
  const db = new DatabaseSync(file);
  db.exec("pragma journal_mode = wal; pragma synchronous = full; pragma busy_timeout = 5000;");
  db.exec(
    "create table if not exists incoming (id text primary key, identity text not null, text text not null, status text not null);" +
      "create table if not exists outgoing (id text primary key, in_response_to text not null, identity text not null, text text not null, status text not null, answer text)",
  );
  const accept = db.prepare("insert into incoming (id, identity, text, status) values (?, ?, ?, 'Q')");
  const handled = db.prepare("update incoming set status = 'R' where id = ?");
  const reply = db.prepare("insert into outgoing (id, in_response_to, identity, text, status) values (?, ?, ?, ?, 'P')");
  const sent = db.prepare("update outgoing set status = ?, answer = ? where id = ?");
  let pending = [];
  const commit = () => {
    const ops = pending;
    pending = [];
    db.exec("begin");
    for (const op of ops) {
      if (op.kind === "accept") accept.run(op.id, op.identity, op.text);
      else if (op.kind === "complete") {
        handled.run(op.id);
        reply.run(op.replyId, op.id, op.identity, op.text);
      } else sent.run(op.status, op.answer, op.replyId);
    }
    db.exec("commit");
    parentPort.postMessage(ops.map((op) => op.seq));
  };
  parentPort.on("message", (op) => {
    if (pending.push(op) === 1) setImmediate(commit);
  });
}

async function serve(file, sendsmsUrl, port) {
  const worker = new Worker(new URL(import.meta.url), { workerData: file });
  const waiting = new Map();
  let seq = 0;
  worker.on("message", (done) => {
    for (const n of done) {
      waiting.get(n)();
      waiting.delete(n);
    }
  });
  worker.on("error", (error) => {
    console.error(error);
    process.exit(1);
  });
  const call = (op) =>
    new Promise((resolve) => {
      op.seq = ++seq;
      waiting.set(op.seq, resolve);
      worker.postMessage(op);
    });
  const gateway = new URL(sendsmsUrl);
  // Loaded with the first send, as the server loads it: the first 200 does not wait for it.
  let pool;
  const gatewayPool = async () => {
    const { Pool } = await import("undici");
    return (pool ??= new Pool(gateway.origin, { connections: 32, keepAliveTimeout: 30_000 }));
  };

  const deliver = async (id, identity, text) => {
    const replyId = randomUUID();
    await call({ kind: "complete", id, replyId, identity, text });
    const response = await (pool ?? (await gatewayPool())).request({
      method: "GET",
      path: `${gateway.pathname}?to=${encodeURIComponent(identity)}&text=${encodeURIComponent(text)}`,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const answer = await response.body.text();
    await call({ kind: "sent", replyId, status: response.statusCode < 300 ? "S" : "E", answer });
  };

  const server = createServer((request, response) => {
    const url = request.url ?? "";
    const query = new URLSearchParams(url.slice(url.indexOf("?") + 1));
    const identity = query.get("id");
    const text = query.get("text");
    if (!identity || text === null) {
      response.writeHead(400, { "content-type": "text/plain" }).end("id and text are required");
      return;
    }
    const id = randomUUID();
    call({ kind: "accept", id, identity, text }).then(() => {
      response.writeHead(200, { "content-type": "text/plain" }).end("OK");
      deliver(id, identity, text.replace(/^echo\s+/i, "")).catch((error) => console.error(`floor: the reply to ${id} failed: ${error}`));
    });
  });
  server.keepAliveTimeout = 60_000;
  process.on("disconnect", () => process.exit(0));
  server.listen(port, "127.0.0.1");
}
