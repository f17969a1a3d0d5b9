import autocannon from "autocannon";
import { Pool } from "undici";
import { now } from "./processes.ts";
import { summarize, type Summary } from "./report.ts";
import { findWrk, runWrk, wrkThreads } from "./wrk.ts";

/** What generated a load: the closed loop is wrk when there is one, else autocannon; the open loop is undici. */
export type LoadGenerator = "wrk" | "autocannon" | "undici";

/** What one load run saw. */
export interface LoadResult {
  generator: LoadGenerator;
  startedAt: number;
  durationMs: number;
  ok: number;
  /** Other statuses, connection errors and timeouts. */
  failed: number;
  /** From send to the 200. */
  latencyMs: Summary;
  /**
   * The request numbers whose replies may come: each answered 200, and with wrk (which cannot
   * tell which were answered) every one sent, up to one per connection more than `ok`.
   */
  numbers: number[];
  /** When each request answered 200 was sent (for the open loop: due); empty with wrk. */
  sentAt: Map<number, number>;
  /** CPU the load generator (this process, or the wrk child) used meanwhile, in cores. */
  loadgenCores: number;
}

/** Request numbers are unique over the whole run, so a reply always names its request. */
let counter = 0;

/** A request number no load has used or will use. */
export const nextNumber = (): number => counter++;

/** A Kannel get-url MO whose echo reply is `m<N>`: the fake gateway reports N back with its arrival time. wrk-inbound.lua builds the same. */
export function inboundPath(n: number): string {
  return `/backend/kannel/?id=%2B2557${String(n % 10_000).padStart(8, "0")}&text=echo+m${n}&charset=UTF-8&coding=0&msgid=bench-${n}`;
}

export const helloPath = (n: number) => `/?n=${n}`;

export type Shape = "hello" | "inbound";
const PATHS: Record<Shape, (n: number) => string> = { hello: helloPath, inbound: inboundPath };

const wrk = findWrk();

/** The closed loop's generator in this run. */
export const closedLoopGenerator = (): "wrk" | "autocannon" => (wrk ? "wrk" : "autocannon");

/** wrk's threads, when wrk runs. */
export const closedLoopThreads = (): number | undefined => (wrk ? wrkThreads() : undefined);

function measure<T>(run: () => Promise<T>): Promise<T & { startedAt: number; durationMs: number; loadgenCores: number }> {
  const cpu = process.cpuUsage();
  const started = now();
  return run().then((result) => {
    const durationMs = now() - started;
    const used = process.cpuUsage(cpu);
    return { ...result, startedAt: started, durationMs, loadgenCores: (used.user + used.system) / 1000 / durationMs };
  });
}

/**
 * Closed loop: `connections` keep-alive connections, each sending its next request as soon as the
 * previous one is answered, for `seconds`; by wrk if there is one, else autocannon.
 */
export async function closedLoop(url: string, shape: Shape, connections: number, seconds: number): Promise<LoadResult> {
  if (!wrk) return autocannonLoop(url, PATHS[shape], connections, seconds);
  const run = await runWrk(wrk, url, shape, connections, seconds, wrkThreads(), counter);
  counter = run.next;
  return { ...run, generator: "wrk", sentAt: new Map() };
}

/**
 * The closed loop with autocannon, in this process. Each request gets its own number, so the send
 * time is taken here, per request, rather than from autocannon's whole-millisecond histogram.
 */
function autocannonLoop(url: string, path: (n: number) => string, connections: number, seconds: number): Promise<LoadResult> {
  return measure(async () => {
    const accepted = new Map<number, number>();
    const latencies: number[] = [];
    const sentAt = new Map<number, number>();
    let ok = 0;
    let rejected = 0;
    const result = await autocannon({
      url,
      connections,
      duration: seconds,
      requests: [
        {
          method: "GET",
          setupRequest(request, context) {
            const n = counter++;
            (context as { n: number }).n = n;
            sentAt.set(n, now());
            return { ...request, path: path(n) };
          },
          onResponse(status, _body, context) {
            const at = now();
            const n = (context as { n: number }).n;
            const sent = sentAt.get(n)!;
            sentAt.delete(n);
            if (status !== 200) {
              rejected++;
              return;
            }
            ok++;
            accepted.set(n, sent);
            latencies.push(at - sent);
          },
        },
      ],
    });
    return {
      generator: "autocannon" as const,
      ok,
      failed: rejected + result.errors,
      latencyMs: summarize(latencies),
      numbers: [...accepted.keys()],
      sentAt: accepted,
    };
  });
}

/** An open loop stops offering once this many seconds of requests are unanswered: the rate is not sustained. */
const MAX_BACKLOG_SECONDS = 2;

export interface FixedRateLoad extends LoadResult {
  offered: number;
  /** False if the server fell so far behind that the run stopped early (after `offered` requests). */
  sustained: boolean;
}

/**
 * Open loop at a fixed rate: request i is due at start + i/rate and its latency counts from then,
 * so a slow answer cannot delay the next requests and hide itself. (autocannon's own rate limit
 * sends each second's quota in a burst at the start of the second, which measures bursts.)
 */
export function fixedRate(url: string, path: (n: number) => string, rate: number, seconds: number): Promise<FixedRateLoad> {
  return measure(async () => {
    const pool = new Pool(url, { connections: 128, keepAliveTimeout: 60_000 });
    const accepted = new Map<number, number>();
    const latencies: number[] = [];
    let ok = 0;
    let failed = 0;
    const total = Math.round(rate * seconds);
    const pending = new Set<Promise<void>>();
    const send = (due: number) => {
      const n = counter++;
      const done: Promise<void> = pool
        .request({ method: "GET", path: path(n) })
        .then(async (response) => {
          await response.body.dump();
          if (response.statusCode !== 200) return void failed++;
          ok++;
          accepted.set(n, due);
          latencies.push(now() - due);
        })
        .catch(() => void failed++)
        .finally(() => pending.delete(done));
      pending.add(done);
    };
    const start = now();
    let issued = 0;
    let sustained = true;
    while (issued < total) {
      if (pending.size > rate * MAX_BACKLOG_SECONDS) {
        sustained = false;
        break;
      }
      const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000) + 1);
      for (; issued < due; issued++) send(start + (issued * 1000) / rate);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
    await pool.close();
    return {
      generator: "undici" as const,
      ok,
      failed,
      latencyMs: summarize(latencies),
      numbers: [...accepted.keys()],
      sentAt: accepted,
      offered: issued,
      sustained,
    };
  });
}
