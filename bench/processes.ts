import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/free-port.ts";

/** What `npm start` runs, with the Node flags it runs it with (its heap sizes), so that the bench measures that. */
const MAIN = fileURLToPath(new URL("../bin/rapidsms.js", import.meta.url));
export const START_FLAGS = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).scripts.start as string)
  .split(/\s+/)
  .filter((arg) => arg.startsWith("--"));

/**
 * Which code the server runs: `dist` is what users install (bin/rapidsms.js takes dist/ when Node
 * cannot strip types, so the flag turns the stripper off), `sources` the checkout's TypeScript.
 */
export type ServerCode = "dist" | "sources";

/** The Node arguments that run a script the way `npm start` does, from `code`. */
export function nodeArgs(code: ServerCode): string[] {
  return code === "dist" ? ["--no-experimental-strip-types", ...START_FLAGS] : START_FLAGS;
}

/** Milliseconds on a clock every process of the run shares: wall-clock origin plus a monotonic offset. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const children = new Set<ChildProcess>();

/** Kills every child still running; safe to call from an `exit` handler (synchronous). */
export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
}

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** `spawn`, with the child killed by `killChildren` if it is still running then. */
export const spawnTracked = (...args: Parameters<typeof spawn>): ChildProcess => track(spawn(...args));

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** User plus system CPU time of a process so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** User plus system CPU time of the children this process has waited for (reaped), in milliseconds. */
export function reapedChildrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
}

/** Resident memory (`VmRSS`) or its peak so far (`VmHWM`) of a process, in MiB. */
export function memoryMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** A process's CPU by kind of thread, in ms: its main thread, its Node worker threads (the store's), V8's helpers (the GC's), the rest. */
export interface ThreadsCpuMs {
  main: number;
  workers: number;
  v8: number;
  /** Every other thread (libuv's pool, the inspector's), and threads that ended within the window. */
  other: number;
}

/** CPU so far of each thread of `pid` by the name Node and V8 give it (`/proc/<pid>/task/<tid>/comm`). */
function threadsCpuMs(pid: number): Omit<ThreadsCpuMs, "other"> {
  const kinds = { main: 0, workers: 0, v8: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let comm: string;
    let stat: string;
    try {
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // It ended meanwhile: its CPU shows in the process's total, so in "other".
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    if (tid === String(pid)) kinds.main += ms;
    else if (comm === "WorkerThread") kinds.workers += ms;
    else if (comm.startsWith("V8Worker")) kinds.v8 += ms;
  }
  return kinds;
}

/** A CPU-time and peak-memory reading window over one process. */
export function meter(pid: number) {
  const cpu0 = cpuMs(pid);
  const threads0 = threadsCpuMs(pid);
  const wall0 = now();
  return () => {
    const cpu = cpuMs(pid) - cpu0;
    const threads1 = threadsCpuMs(pid);
    const main = threads1.main - threads0.main;
    const workers = threads1.workers - threads0.workers;
    const v8 = threads1.v8 - threads0.v8;
    const threads: ThreadsCpuMs = { main, workers, v8, other: Math.max(0, cpu - main - workers - v8) };
    return { cpuMs: cpu, threads, cores: cpu / (now() - wall0), peakRssMiB: memoryMiB(pid, "VmHWM") };
  };
}

/** `threads` per message. */
export function perMessage(threads: ThreadsCpuMs, messages: number): ThreadsCpuMs {
  return { main: threads.main / messages, workers: threads.workers / messages, v8: threads.v8 / messages, other: threads.other / messages };
}

/** A bench child started with `fork`: it reports `{ port }` over IPC once it listens. */
export async function forkChild(file: string): Promise<{ child: ChildProcess; port: number; pid: number }> {
  const child = track(fork(fileURLToPath(new URL(file, import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`${file} exited (${code}) before listening`)));
  });
  return { child, port, pid: child.pid! };
}

export interface ServerChild {
  url: string;
  pid: number;
  /** Whether the process is still running, and the last 4,000 characters it printed (for errors). */
  running(): boolean;
  output(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  synchronous?: "full" | "normal";
  metrics?: boolean;
  code?: ServerCode;
}

export interface SpawnedServer extends ServerChild {
  port: number;
  /** When the spawn was asked for, on `now()`'s clock. */
  spawnedAt: number;
}

/** Writes the config of `name` in `dir` (the database beside it), unless it is there already: a second start reuses both. */
function writeConfig(dir: string, name: string, installedBackends: Record<string, object>, options: ServerOptions): string {
  const configPath = join(dir, `${name}.config.json`);
  if (existsSync(configPath)) return configPath;
  writeFileSync(
    configPath,
    JSON.stringify({
      installedBackends,
      apps: ["echo"],
      logLevel: "warn",
      metrics: options.metrics ?? true,
      database: `sqlite:${join(dir, `${name}.db`)}?synchronous=${options.synchronous ?? "full"}`,
    }),
  );
  return configPath;
}

/**
 * Spawns `rapidsms start` on the SQLite file `<dir>/<name>.db` (new, or left by an earlier start of
 * the same name) with the given backends and the echo app; does not wait for it to answer.
 */
export async function spawnServer(dir: string, name: string, installedBackends: Record<string, object>, options: ServerOptions = {}): Promise<SpawnedServer> {
  const configPath = writeConfig(dir, name, installedBackends, options);
  const port = await freePort();
  const env = { ...process.env };
  for (const key of ["LOG_LEVEL", "PORT", "HOST", "RAPIDSMS_DATABASE", "DATABASE_URL", "RAPIDSMS_API_TOKEN", "RAPIDSMS_CONFIG"]) delete env[key];
  const spawnedAt = now();
  const child = track(
    spawn(process.execPath, [...nodeArgs(options.code ?? "sources"), MAIN, "start", "--config", configPath, "--port", String(port)], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let tail = "";
  const keepTail = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4000));
  child.stdout!.on("data", keepTail);
  child.stderr!.on("data", keepTail);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    spawnedAt,
    running: () => child.exitCode === null,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts `rapidsms start` on a fresh SQLite file with the given backends and the echo app. At
 * `logLevel: warn` the "listening" line is not logged, so readiness is `/healthz` answering.
 */
export async function startServer(dir: string, name: string, installedBackends: Record<string, object>, options: ServerOptions = {}): Promise<ServerChild> {
  const server = await spawnServer(dir, name, installedBackends, options);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!server.running()) throw new Error(`the server exited before answering:\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`the server did not answer /healthz within 30 s:\n${server.output()}`);
    const ok = await fetch(`${server.url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return server;
    await sleep(50);
  }
}
