/**
 * The closed loop run by `wrk` (Debian's package), about three times lighter than autocannon in
 * this process, so that the generator is not what limits the baseline. wrk-inbound.lua numbers
 * the requests; wrk cannot time each one, so it reports percentiles and how many each thread sent.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { now, reapedChildrenCpuMs } from "./processes.ts";

const SCRIPT = fileURLToPath(new URL("./wrk-inbound.lua", import.meta.url));

/** `wrk` on PATH, unless RAPIDSMS_BENCH_LOADGEN=autocannon asks for the fallback. */
export function findWrk(): string | undefined {
  const wanted = process.env.RAPIDSMS_BENCH_LOADGEN;
  if (wanted !== undefined && wanted !== "wrk" && wanted !== "autocannon") throw new Error(`RAPIDSMS_BENCH_LOADGEN: expected wrk or autocannon, got ${wanted}`);
  if (wanted === "autocannon") return undefined;
  try {
    return execFileSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    if (wanted === "wrk") throw new Error("RAPIDSMS_BENCH_LOADGEN=wrk, but there is no wrk on PATH (Debian: apt-get install wrk)");
    return undefined;
  }
}

/**
 * wrk's threads. One: on 2 cores a second wrk thread takes CPU from the server under test more
 * than it adds load (docs/performance.md, "What runs"). RAPIDSMS_BENCH_WRK_THREADS overrides it.
 */
export function wrkThreads(): number {
  const threads = Number(process.env.RAPIDSMS_BENCH_WRK_THREADS ?? 1);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`RAPIDSMS_BENCH_WRK_THREADS: expected a whole number ≥ 1, got ${threads}`);
  return threads;
}

/** The JSON line wrk-inbound.lua's done() prints; times in µs. */
interface WrkSummary {
  durationUs: number;
  requests: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  statusErrors: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** Requests each thread sent, answered or not. */
  issued: number[];
}

export interface WrkRun {
  startedAt: number;
  durationMs: number;
  /** Answered below 400 (wrk counts 400 and above as status errors; this path answers nothing in 1xx or 3xx). */
  ok: number;
  failed: number;
  latencyMs: { count: number; p50: number; p99: number; max: number };
  /** Every number sent: those answered, plus the ones in flight when wrk stopped. */
  numbers: number[];
  /** The first number not used. */
  next: number;
  loadgenCores: number;
}

export async function runWrk(
  wrk: string,
  url: string,
  shape: "hello" | "inbound",
  connections: number,
  seconds: number,
  threads: number,
  offset: number,
): Promise<WrkRun> {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency", "-s", SCRIPT, url, "--", shape, String(offset), String(threads)];
  const cpuBefore = reapedChildrenCpuMs();
  const startedAt = now();
  const child = spawn(wrk, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  // Once wrk is reaped its CPU time is in this process's children's total.
  const loadgenCpuMs = reapedChildrenCpuMs() - cpuBefore;
  const line = stdout.split("\n").find((l) => l.startsWith('{"durationUs"'));
  if (code !== 0 || !line) throw new Error(`wrk ${args.join(" ")} failed (${code}):\n${stderr}${stdout}`);
  const summary = JSON.parse(line) as WrkSummary;
  const numbers: number[] = [];
  summary.issued.forEach((count, thread) => {
    for (let k = 0; k < count; k++) numbers.push(offset + k * threads + thread);
  });
  const durationMs = summary.durationUs / 1000;
  return {
    startedAt,
    durationMs,
    ok: summary.requests - summary.statusErrors,
    failed: summary.statusErrors + summary.connectErrors + summary.readErrors + summary.writeErrors + summary.timeouts,
    latencyMs: { count: summary.requests, p50: summary.p50Us / 1000, p99: summary.p99Us / 1000, max: summary.maxUs / 1000 },
    numbers,
    next: offset + Math.max(0, ...summary.issued) * threads,
    loadgenCores: loadgenCpuMs / durationMs,
  };
}
