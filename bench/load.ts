import autocannon from "autocannon";
import { Pool } from "undici";
import { now } from "./processes.ts";

/** What one load run saw; `accepted` maps each request number answered 200 to when it was sent. */
export interface LoadResult {
  startedAt: number;
  durationMs: number;
  ok: number;
  /** Other statuses, connection errors and timeouts. */
  failed: number;
  /** Milliseconds from send to the 200, one per accepted request. */
  latencies: number[];
  accepted: Map<number, number>;
  /** CPU the load generator (this process) used meanwhile, in cores. */
  loadgenCores: number;
}

/** Request numbers are unique over the whole run, so a reply always names its request. */
let counter = 0;

/** A Kannel get-url MO whose echo reply is `m<N>`: the fake gateway reports N back with its arrival time. */
export function inboundPath(n: number): string {
  return `/backend/kannel/?id=%2B2557${String(n % 10_000).padStart(8, "0")}&text=echo+m${n}&charset=UTF-8&coding=0&msgid=bench-${n}`;
}

export const helloPath = (n: number) => `/?n=${n}`;

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
 * Closed loop with autocannon: `connections` keep-alive connections, each sending its next request
 * as soon as the previous one is answered, for `seconds`. Each request gets its own number, so
 * the send time is taken here, per request, rather than from autocannon's whole-millisecond histogram.
 */
export function closedLoop(url: string, path: (n: number) => string, connections: number, seconds: number): Promise<LoadResult> {
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
    return { ok, failed: rejected + result.errors, latencies, accepted };
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
    return { ok, failed, latencies, accepted, offered: issued, sustained };
  });
}
