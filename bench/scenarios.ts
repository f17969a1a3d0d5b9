import type { ChildProcess } from "node:child_process";
import { Pool } from "undici";
import { closedLoop, fixedRate, helloPath, inboundPath, type LoadResult } from "./load.ts";
import {
  forkChild,
  memoryMiB,
  meter,
  now,
  perMessage,
  type ServerChild,
  type ServerCode,
  type ServerOptions,
  sleep,
  startServer,
  type ThreadsCpuMs,
} from "./processes.ts";
import { summarize, type Summary } from "./report.ts";

export interface Settings {
  connections: number;
  warmupSeconds: number;
  seconds: number;
  rate: number;
  rateSeconds: number;
  outboundMessages: number;
  /** Waiting for replies gives up after this long without a new one. */
  stallMs: number;
  soakRate: number;
  soakSeconds: number;
  soakSampleSeconds: number;
  /** How the server's SQLite commits reach the disk (`?synchronous=` of its database URL). */
  synchronous: "full" | "normal";
  /** The server's `metrics` setting (GET /metrics and the counters on the hot paths). */
  metrics: boolean;
  /** Whether the server runs the build (dist/, what users install) or the TypeScript sources. */
  code: ServerCode;
  /** The steady light load: its rate, measured seconds and warm-up seconds. */
  steadyRate: number;
  steadySeconds: number;
  steadyWarmupSeconds: number;
  /** The closed loop before the steady rate's second measurement, for V8 to compile the hot code. */
  steadyJitWarmupSeconds: number;
  /** Seconds of no load over which the steady scenario's server's idle CPU is measured. */
  idleSeconds: number;
  /** Starts measured in the start-up scenario, each on a fresh database and again on it. */
  startupRuns: number;
  /** How long after its first 200 a started server's RSS is read. */
  startupIdleSeconds: number;
}

export const FULL: Settings = {
  connections: 32,
  warmupSeconds: 5,
  seconds: 15,
  rate: 1_000,
  rateSeconds: 20,
  outboundMessages: 50_000,
  stallMs: 15_000,
  soakRate: 200,
  soakSeconds: 600,
  soakSampleSeconds: 5,
  synchronous: "full",
  metrics: true,
  code: "dist",
  steadyRate: 150,
  steadySeconds: 20,
  steadyWarmupSeconds: 3,
  steadyJitWarmupSeconds: 8,
  idleSeconds: 5,
  startupRuns: 5,
  startupIdleSeconds: 3,
};

export const QUICK: Settings = {
  connections: 32,
  warmupSeconds: 1,
  seconds: 3,
  rate: 500,
  rateSeconds: 3,
  outboundMessages: 5_000,
  stallMs: 10_000,
  soakRate: 200,
  soakSeconds: 30,
  soakSampleSeconds: 1,
  synchronous: "full",
  metrics: true,
  code: "dist",
  steadyRate: 150,
  steadySeconds: 3,
  steadyWarmupSeconds: 1,
  steadyJitWarmupSeconds: 2,
  idleSeconds: 2,
  startupRuns: 2,
  startupIdleSeconds: 3,
};

/** The fake Kannel child, seen from here: arrivals of `m<N>` replies and identities received so far. */
export class FakeKannel {
  readonly url: string;
  identities = 0;
  lastAt = 0;
  private readonly child: ChildProcess;
  private readonly arrivals = new Map<number, number>();

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.url = `http://127.0.0.1:${port}/cgi-bin/sendsms`;
  }

  static async start(): Promise<FakeKannel> {
    const { child, port } = await forkChild("./fake-kannel.ts");
    return new FakeKannel(child, port);
  }

  async refresh(): Promise<void> {
    const stats = await new Promise<{ arrivals: number[]; identities: number; lastAt: number }>((resolve) => {
      this.child.once("message", (message) => resolve(message as never));
      this.child.send("take");
    });
    for (let i = 0; i < stats.arrivals.length; i += 2) this.arrivals.set(stats.arrivals[i], stats.arrivals[i + 1]);
    this.identities = stats.identities;
    this.lastAt = stats.lastAt;
  }

  /**
   * Waits until every numbered reply has arrived (or `enough` of them), or none has for `stallMs`;
   * returns the arrival times found.
   */
  async replies(numbers: Iterable<number>, stallMs: number, enough = Number.POSITIVE_INFINITY): Promise<Map<number, number>> {
    const waiting = new Set(numbers);
    const found = new Map<number, number>();
    let progressAt = Date.now();
    while (waiting.size > 0 && found.size < enough && Date.now() - progressAt < stallMs) {
      await this.refresh();
      for (const n of waiting) {
        const at = this.arrivals.get(n);
        if (at === undefined) continue;
        found.set(n, at);
        waiting.delete(n);
        this.arrivals.delete(n);
        progressAt = Date.now();
      }
      if (waiting.size > 0 && found.size < enough) await sleep(100);
    }
    return found;
  }

  /**
   * The replies of a load's accepted requests. wrk does not say which of the numbers it sent were
   * answered (the last one per connection was in flight when it stopped), so then: the first `ok`
   * replies to arrive among them.
   */
  async repliesTo(load: LoadResult, stallMs: number): Promise<Map<number, number>> {
    if (load.generator !== "wrk") return this.replies(load.numbers, stallMs);
    const found = await this.replies(load.numbers, stallMs, load.ok);
    return new Map([...found].sort((a, b) => a[1] - b[1]).slice(0, load.ok));
  }

  /** Waits until `count` identities have arrived in total, or none has for `stallMs`. */
  async identitiesReach(count: number, stallMs: number): Promise<void> {
    let seen = -1;
    let progressAt = Date.now();
    while (Date.now() - progressAt < stallMs) {
      await this.refresh();
      if (this.identities >= count) return;
      if (this.identities !== seen) [seen, progressAt] = [this.identities, Date.now()];
      await sleep(50);
    }
  }
}

export interface Context {
  dir: string;
  fake: FakeKannel;
  settings: Settings;
  log: (line: string) => void;
}

/** How every scenario starts the server. */
export const serverOptions = ({ synchronous, metrics, code }: Settings): ServerOptions => ({ synchronous, metrics, code });

/** `count` over `ms` milliseconds, per second. */
export const perSecond = (count: number, ms: number) => (count * 1000) / ms;
export const errorRate = (load: LoadResult) => load.failed / Math.max(1, load.ok + load.failed);

export async function withServer<T>(context: Context, name: string, run: (server: ServerChild) => Promise<T>): Promise<T> {
  const server = await startServer(context.dir, name, { kannel: { engine: "kannel", sendsmsUrl: context.fake.url } }, serverOptions(context.settings));
  try {
    return await run(server);
  } catch (error) {
    // A reading of /proc/<pid> fails when the server has died: say so, with what it printed last.
    if (!server.running()) throw new Error(`${name}: the server exited during the scenario:\n${server.output()}`, { cause: error });
    throw error;
  } finally {
    await server.stop();
  }
}

export interface BaselineResult {
  loadGenerator: "wrk" | "autocannon";
  requestsPerSec: number;
  latencyMs: Summary;
  errorRate: number;
  cpuMsPerRequest: number;
  serverCores: number;
  loadgenCores: number;
  peakRssMiB: number;
  fixedRate: { rate: number; achievedPerSec: number; sustained: boolean; latencyMs: Summary; errorRate: number };
}

/** A bare node:http hello world under the same load: the yardstick for every other figure. */
export async function baseline({ settings, log }: Context): Promise<BaselineResult> {
  const hello = await forkChild("./hello-server.ts");
  const url = `http://127.0.0.1:${hello.port}`;
  try {
    log(`baseline: node:http hello world, ${settings.connections} connections, ${settings.seconds} s`);
    await closedLoop(url, "hello", settings.connections, settings.warmupSeconds);
    const reading = meter(hello.pid);
    const load = await closedLoop(url, "hello", settings.connections, settings.seconds);
    const used = reading();
    log(`baseline: ${settings.rate} req/s for ${settings.rateSeconds} s`);
    const paced = await fixedRate(url, helloPath, settings.rate, settings.rateSeconds);
    return {
      loadGenerator: load.generator as "wrk" | "autocannon",
      requestsPerSec: perSecond(load.ok, load.durationMs),
      latencyMs: load.latencyMs,
      errorRate: errorRate(load),
      cpuMsPerRequest: used.cpuMs / load.ok,
      serverCores: used.cores,
      loadgenCores: load.loadgenCores,
      peakRssMiB: used.peakRssMiB,
      fixedRate: {
        rate: settings.rate,
        achievedPerSec: perSecond(paced.ok, paced.durationMs),
        sustained: paced.sustained,
        latencyMs: paced.latencyMs,
        errorRate: errorRate(paced),
      },
    };
  } finally {
    hello.child.kill("SIGKILL");
  }
}

/** Latencies from each accepted request's send to its reply at the fake gateway. */
export function endToEnd(load: LoadResult, arrivals: Map<number, number>): Summary {
  const latencies: number[] = [];
  for (const [n, sent] of load.sentAt) {
    const at = arrivals.get(n);
    if (at !== undefined) latencies.push(at - sent);
  }
  return summarize(latencies);
}

export interface InboundResult {
  loadGenerator: "wrk" | "autocannon";
  acceptedPerSec: number;
  latencyMs: Summary;
  accepted: number;
  delivered: number;
  /** Replies delivered from the start of the load to the last reply. */
  repliesPerSec: number;
  /** Replies delivered while the load lasted: lower than `repliesPerSec` when replies wait for the load to end. */
  repliesDuringLoadPerSec: number;
  /** From the end of the load to the last reply at the fake gateway. */
  drainMs: number;
  /** Absent when wrk ran: it does not say when each request was sent. */
  endToEndMs?: Summary;
  errorRate: number;
  cpuMsPerMessage: number;
  /** `cpuMsPerMessage` by kind of thread. */
  cpuMsPerMessageByThread: ThreadsCpuMs;
  serverCores: number;
  loadgenCores: number;
  peakRssMiB: number;
}

/** Kannel MOs as fast as the server answers, echo replies to the fake gateway. */
export function inbound(context: Context): Promise<InboundResult> {
  const { settings, fake, log } = context;
  return withServer(context, "inbound", async (server) => {
    log(`inbound: Kannel GET, echo, ${settings.connections} connections, ${settings.warmupSeconds} s warm-up`);
    const warm = await closedLoop(server.url, "inbound", settings.connections, settings.warmupSeconds);
    await fake.repliesTo(warm, settings.stallMs);
    log(`inbound: measuring ${settings.seconds} s, then waiting for every reply`);
    const reading = meter(server.pid);
    const load = await closedLoop(server.url, "inbound", settings.connections, settings.seconds);
    const arrivals = await fake.repliesTo(load, settings.stallMs);
    const used = reading();
    const endedAt = load.startedAt + load.durationMs;
    let lastAt = endedAt;
    let duringLoad = 0;
    for (const at of arrivals.values()) {
      lastAt = Math.max(lastAt, at);
      if (at <= endedAt) duringLoad++;
    }
    return {
      loadGenerator: load.generator as "wrk" | "autocannon",
      acceptedPerSec: perSecond(load.ok, load.durationMs),
      latencyMs: load.latencyMs,
      accepted: load.ok,
      delivered: arrivals.size,
      repliesPerSec: perSecond(arrivals.size, lastAt - load.startedAt),
      repliesDuringLoadPerSec: perSecond(duringLoad, load.durationMs),
      drainMs: lastAt - endedAt,
      ...(load.generator === "wrk" ? {} : { endToEndMs: endToEnd(load, arrivals) }),
      errorRate: errorRate(load),
      cpuMsPerMessage: used.cpuMs / load.ok,
      cpuMsPerMessageByThread: perMessage(used.threads, load.ok),
      serverCores: used.cores,
      loadgenCores: load.loadgenCores,
      peakRssMiB: used.peakRssMiB,
    };
  });
}

export interface FixedRateResult {
  rate: number;
  seconds: number;
  offered: number;
  /** False if the server fell 2 s behind the rate and the run stopped offering early. */
  sustained: boolean;
  achievedPerSec: number;
  latencyMs: Summary;
  endToEndMs: Summary;
  accepted: number;
  delivered: number;
  errorRate: number;
  peakRssMiB: number;
}

/** Kannel MOs at a steady rate well below saturation: the latency a normal day sees. */
export function latencyAtRate(context: Context): Promise<FixedRateResult> {
  const { settings, fake, log } = context;
  return withServer(context, "fixed-rate", async (server) => {
    log(`fixed rate: ${settings.rate} msg/s, ${settings.warmupSeconds} s warm-up, ${settings.rateSeconds} s measured`);
    const warm = await fixedRate(server.url, inboundPath, settings.rate, settings.warmupSeconds);
    await fake.repliesTo(warm, settings.stallMs);
    const load = await fixedRate(server.url, inboundPath, settings.rate, settings.rateSeconds);
    const arrivals = await fake.repliesTo(load, settings.stallMs);
    return {
      rate: settings.rate,
      seconds: settings.rateSeconds,
      offered: load.offered,
      sustained: load.sustained,
      achievedPerSec: perSecond(load.ok, load.durationMs),
      latencyMs: load.latencyMs,
      endToEndMs: endToEnd(load, arrivals),
      accepted: load.ok,
      delivered: arrivals.size,
      errorRate: errorRate(load),
      peakRssMiB: memoryMiB(server.pid, "VmHWM"),
    };
  });
}

export interface OutboundResult {
  messages: number;
  delivered: number;
  /** Identities accepted by POST /api/messages per second. */
  queuedPerSec: number;
  /** Identities received by the fake gateway per second, from the first POST to the last send. */
  sendsPerSec: number;
  apiErrors: number;
  cpuMsPerMessage: number;
  serverCores: number;
  peakRssMiB: number;
}

export const IDENTITIES_PER_POST = 100;
export const POSTS_IN_FLIGHT = 8;

/**
 * `posts` POST /api/messages to `backend`, `POSTS_IN_FLIGHT` at a time, each one message "bulk"
 * to `IDENTITIES_PER_POST` identities from `nextIdentity`; resolves with the POSTs not answered 202.
 */
export async function postIdentities(pool: Pool, backend: string, posts: number, nextIdentity: () => string): Promise<number> {
  let apiErrors = 0;
  let next = 0;
  const worker = async () => {
    while (next++ < posts) {
      const identities = Array.from({ length: IDENTITIES_PER_POST }, nextIdentity);
      const response = await pool
        .request({
          method: "POST",
          path: "/api/messages",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ backend, identities, text: "bulk" }),
        })
        .catch(() => undefined);
      await response?.body.dump();
      if (response?.statusCode !== 202) apiErrors++;
    }
  };
  await Promise.all(Array.from({ length: POSTS_IN_FLIGHT }, worker));
  return apiErrors;
}

/** Bulk sends: POST /api/messages with 100 identities each, until the fake gateway has them all. */
export function outbound(context: Context): Promise<OutboundResult> {
  const { settings, fake, log } = context;
  let identity = 0;
  return withServer(context, "outbound", async (server) => {
    const pool = new Pool(server.url, { connections: POSTS_IN_FLIGHT });
    let apiErrors = 0;
    const post = async (posts: number) => {
      apiErrors += await postIdentities(pool, "kannel", posts, () => `+1555${String(identity++).padStart(7, "0")}`);
    };
    try {
      const posts = Math.ceil(settings.outboundMessages / IDENTITIES_PER_POST);
      log(`outbound: warm-up, then ${posts} POST /api/messages × ${IDENTITIES_PER_POST} identities`);
      await fake.refresh();
      const warmPosts = Math.max(5, Math.ceil(posts / 20));
      const warmTarget = fake.identities + warmPosts * IDENTITIES_PER_POST;
      await post(warmPosts);
      await fake.identitiesReach(warmTarget, settings.stallMs);
      apiErrors = 0;
      const before = fake.identities;
      const messages = posts * IDENTITIES_PER_POST;
      const reading = meter(server.pid);
      const started = now();
      await post(posts);
      const queuedAt = now();
      await fake.identitiesReach(before + messages, settings.stallMs);
      const used = reading();
      const delivered = fake.identities - before;
      return {
        messages,
        delivered,
        queuedPerSec: perSecond(messages, queuedAt - started),
        sendsPerSec: perSecond(delivered, fake.lastAt - started),
        apiErrors,
        cpuMsPerMessage: used.cpuMs / messages,
        serverCores: used.cores,
        peakRssMiB: used.peakRssMiB,
      };
    } finally {
      await pool.close();
    }
  });
}

export interface SoakResult {
  rate: number;
  seconds: number;
  sustained: boolean;
  /** RSS at each sample, and the worst end-to-end latency of the messages sent since the previous one (stalls show here). */
  samples: { atSec: number; rssMiB: number; maxEndToEndMs?: number }[];
  firstMiB: number;
  lastMiB: number;
  maxMiB: number;
  slopeMiBPerMin: number;
  /** Over the second half only: a warm-up ramp shows in the whole slope, a leak in both. */
  secondHalfSlopeMiBPerMin: number;
  accepted: number;
  delivered: number;
  errorRate: number;
  latencyMs: Summary;
  endToEndMs: Summary;
}

/** A long steady inbound run at the fixed rate, sampling the server's RSS: does memory stay flat? */
export function soak(context: Context): Promise<SoakResult> {
  const { settings, fake, log } = context;
  return withServer(context, "soak", async (server) => {
    log(`soak: ${settings.soakRate} msg/s for ${settings.soakSeconds} s, RSS every ${settings.soakSampleSeconds} s`);
    const warm = await fixedRate(server.url, inboundPath, settings.soakRate, settings.warmupSeconds);
    await fake.repliesTo(warm, settings.stallMs);
    const samples: SoakResult["samples"] = [];
    const started = now();
    const sample = () => samples.push({ atSec: (now() - started) / 1000, rssMiB: memoryMiB(server.pid, "VmRSS") });
    sample();
    const sampler = setInterval(sample, settings.soakSampleSeconds * 1000);
    const load = await fixedRate(server.url, inboundPath, settings.soakRate, settings.soakSeconds).finally(() => clearInterval(sampler));
    sample();
    const arrivals = await fake.repliesTo(load, settings.stallMs);
    const rss = samples.map((s) => s.rssMiB);
    for (const [n, sent] of load.sentAt) {
      const window = samples.find((s) => started + s.atSec * 1000 >= sent);
      const at = arrivals.get(n);
      if (window && at !== undefined) window.maxEndToEndMs = Math.max(window.maxEndToEndMs ?? 0, at - sent);
    }
    return {
      rate: settings.soakRate,
      seconds: settings.soakSeconds,
      sustained: load.sustained,
      samples,
      firstMiB: rss[0],
      lastMiB: rss.at(-1)!,
      maxMiB: Math.max(...rss),
      slopeMiBPerMin: slope(samples.map((s) => [s.atSec / 60, s.rssMiB])),
      secondHalfSlopeMiBPerMin: slope(samples.filter((s) => s.atSec >= settings.soakSeconds / 2).map((s) => [s.atSec / 60, s.rssMiB])),
      accepted: load.ok,
      delivered: arrivals.size,
      errorRate: errorRate(load),
      latencyMs: load.latencyMs,
      endToEndMs: endToEnd(load, arrivals),
    };
  });
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}
