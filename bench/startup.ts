/**
 * Start-up, from the build as users install it: from the spawn of `rapidsms start` to the first
 * 200 of a real Kannel MO, on a fresh database (creating the SQLite file and migrating it is part
 * of a first start) and again on that database ("restart"); the RSS a few seconds later; and a bare
 * node:http hello world started the same way, for Node's own share.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/free-port.ts";
import { inboundPath, nextNumber } from "./load.ts";
import { memoryMiB, nodeArgs, now, sleep, spawnServer, spawnTracked } from "./processes.ts";
import { type Context, serverOptions } from "./scenarios.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** `npm run build` into this checkout's dist/ (its output to stderr, keeping stdout for the table); returns how long it took. */
export function buildDist(log: (line: string) => void): number {
  log("building dist/ (node scripts/build.js)");
  const started = now();
  const built = spawnSync(process.execPath, [join(ROOT, "scripts/build.js")], { cwd: ROOT, stdio: ["ignore", 2, 2] });
  if (built.status !== 0) throw new Error(`node scripts/build.js failed (${built.status ?? built.signal}): the server cannot run from dist/`);
  return now() - started;
}

export interface Spread {
  median: number;
  max: number;
}

export interface StartFigures {
  /** From the spawn to the first TCP connection accepted. */
  listeningMs: Spread;
  /** From the spawn to the first 200 of a Kannel MO. */
  firstOkMs: Spread;
  /** From the spawn to that MO's echo reply at the fake gateway. */
  firstReplyMs: Spread;
  /** VmRSS `startupIdleSeconds` after the first 200, no other request meanwhile. */
  idleRssMiB: Spread;
  /** VmHWM then. */
  peakRssMiB: Spread;
}

export interface StartupResult {
  runs: number;
  idleSeconds: number;
  buildMs: number;
  fresh: StartFigures;
  restart: StartFigures;
  /** A node:http hello world, same Node flags: from the spawn to its first 200. */
  baselineFirstOkMs: Spread;
}

interface StartRun {
  listeningMs: number;
  firstOkMs: number;
  firstReplyMs: number;
  idleRssMiB: number;
  peakRssMiB: number;
}

/** One GET on a new connection: its status, and whether the connection was accepted; `undefined` status if it failed. */
function getOnce(port: number, path: string): Promise<{ status?: number; connectedAt?: number }> {
  return new Promise((resolve) => {
    let connectedAt: number | undefined;
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (response) => {
      response.resume();
      response.once("end", () => resolve({ status: response.statusCode, connectedAt }));
    });
    req.once("socket", (socket) => socket.once("connect", () => (connectedAt = now())));
    req.once("error", () => resolve({ connectedAt }));
    req.end();
  });
}

/** Asks `path` afresh every 2 ms until it answers 200; returns when the port first accepted and when the 200 came. */
export async function firstOk(port: number, path: string, running: () => boolean): Promise<{ connectedAt: number; okAt: number }> {
  const deadline = Date.now() + 30_000;
  let connectedAt: number | undefined;
  for (;;) {
    const attempt = await getOnce(port, path);
    connectedAt ??= attempt.connectedAt;
    if (attempt.status === 200) return { connectedAt: connectedAt ?? now(), okAt: now() };
    if (!running()) throw new Error("the server exited before its first 200");
    if (Date.now() > deadline) throw new Error(`no 200 from ${path} within 30 s (last status ${attempt.status ?? "none"})`);
    await sleep(2);
  }
}

async function timedStart(context: Context, dir: string): Promise<StartRun> {
  const { settings, fake } = context;
  const server = await spawnServer(dir, "startup", { kannel: { engine: "kannel", sendsmsUrl: fake.url } }, { ...serverOptions(settings), code: "dist" });
  try {
    const n = nextNumber();
    const { connectedAt, okAt } = await firstOk(server.port, inboundPath(n), server.running);
    const replyAt = (await fake.replies([n], settings.stallMs)).get(n) ?? Number.NaN;
    await sleep(okAt + settings.startupIdleSeconds * 1000 - now());
    return {
      listeningMs: connectedAt - server.spawnedAt,
      firstOkMs: okAt - server.spawnedAt,
      firstReplyMs: replyAt - server.spawnedAt,
      idleRssMiB: memoryMiB(server.pid, "VmRSS"),
      peakRssMiB: memoryMiB(server.pid, "VmHWM"),
    };
  } finally {
    await server.stop();
  }
}

const HELLO = `import { createServer } from "node:http";
createServer((_q, r) => r.writeHead(200, { "content-type": "text/plain" }).end("hello world")).listen(Number(process.env.PORT), "127.0.0.1");`;

async function helloStart(): Promise<number> {
  const port = await freePort();
  const spawnedAt = now();
  const child = spawnTracked(process.execPath, [...nodeArgs("dist"), "--input-type=module", "-e", HELLO], {
    env: { ...process.env, PORT: String(port) },
    stdio: "ignore",
  });
  try {
    const { okAt } = await firstOk(port, "/", () => child.exitCode === null);
    return okAt - spawnedAt;
  } finally {
    child.kill("SIGKILL");
  }
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, max: sorted.at(-1) ?? Number.NaN };
}

function figures(runs: StartRun[]): StartFigures {
  const of = (key: keyof StartRun) => spread(runs.map((run) => run[key]));
  return {
    listeningMs: of("listeningMs"),
    firstOkMs: of("firstOkMs"),
    firstReplyMs: of("firstReplyMs"),
    idleRssMiB: of("idleRssMiB"),
    peakRssMiB: of("peakRssMiB"),
  };
}

/** `buildMs`: how long building dist/ took at the start of the run (the bench builds once, before every scenario). */
export async function startup(context: Context, buildMs: number): Promise<StartupResult> {
  const { settings, log } = context;
  log(`startup: ${settings.startupRuns} starts from dist/ on a fresh database and again on it, RSS ${settings.startupIdleSeconds} s after the first 200`);
  const fresh: StartRun[] = [];
  const restart: StartRun[] = [];
  const hello: number[] = [];
  for (let run = 0; run < settings.startupRuns; run++) {
    const dir = join(context.dir, `startup-${run}`);
    mkdirSync(dir);
    fresh.push(await timedStart(context, dir));
    restart.push(await timedStart(context, dir));
    hello.push(await helloStart());
  }
  return {
    runs: settings.startupRuns,
    idleSeconds: settings.startupIdleSeconds,
    buildMs,
    fresh: figures(fresh),
    restart: figures(restart),
    baselineFirstOkMs: spread(hello),
  };
}
