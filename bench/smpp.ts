/**
 * The SMPP scenario: the server with an `smpp` backend bound (one transceiver) to the fake SMSC
 * (`fake-smsc.ts`, its own process). Outbound: bulk sends through `POST /api/messages`, submit_sm
 * per second at the SMSC with a window of 1, 10 and 50, a fresh server for each. MO: the SMSC
 * floods deliver_sm `echo m<N>`, the echo app answers, the replies come back as submit_sm.
 */
import type { ChildProcess } from "node:child_process";
import { Pool } from "undici";
import type { FloodResult, SmscCounts, SmscOp } from "./fake-smsc.ts";
import { forkChild, meter, now, sleep, startServer } from "./processes.ts";
import { summarize, type Summary } from "./report.ts";
import { type Context, IDENTITIES_PER_POST, POSTS_IN_FLIGHT, perSecond, postIdentities, serverOptions } from "./scenarios.ts";

export interface SmppSettings {
  windows: number[];
  /** Identities queued per window (in POSTs of IDENTITIES_PER_POST), after a warm-up of a twentieth of that. */
  outboundMessages: number;
  /** How long the SMSC floods deliver_sm, after a warm-up flood of `warmupSeconds`. */
  moSeconds: number;
  warmupSeconds: number;
  /** deliver_sm the SMSC keeps unanswered at most. */
  moOutstanding: number;
  /** The bind's window in the MO run (its echo replies go through it). */
  moWindow: number;
}

export const SMPP_FULL: SmppSettings = { windows: [1, 10, 50], outboundMessages: 30_000, moSeconds: 15, warmupSeconds: 3, moOutstanding: 50, moWindow: 10 };
export const SMPP_QUICK: SmppSettings = { windows: [1, 10, 50], outboundMessages: 2_000, moSeconds: 2, warmupSeconds: 1, moOutstanding: 50, moWindow: 10 };

export interface SmppOutboundResult {
  window: number;
  messages: number;
  /** submit_sm the SMSC answered. */
  submitted: number;
  /** Of those, the ones to an identity that had one already. */
  duplicates: number;
  /** submit_sm per second at the SMSC, from the first to the last. */
  submitsPerSec: number;
  /** Identities accepted by POST /api/messages per second (while the bind was held: nothing sent meanwhile). */
  queuedPerSec: number;
  apiErrors: number;
  /** Submits the server sent again after a lost answer (its /healthz count): the SMSC has those twice. */
  resentUnconfirmed: number;
  /** The server's CPU from the bind's release (the backlog queued) to the last submit_sm, per message. */
  cpuMsPerMessage: number;
  /** That CPU over the time from the first submit_sm to the last. */
  serverCores: number;
  peakRssMiB: number;
}

export interface SmppMoResult {
  seconds: number;
  outstanding: number;
  window: number;
  sent: number;
  answered: number;
  /** deliver_sm_resp with an error status. */
  refused: number;
  /** deliver_sm answered per second, from the first sent to the last answered. */
  moPerSec: number;
  replies: number;
  duplicateReplies: number;
  /** Echo replies (submit_sm) per second, from the first deliver_sm to the last reply. */
  repliesPerSec: number;
  /** From the last deliver_sm answered to the last reply: the replies' backlog when the flood ended. */
  drainMs: number;
  /** From each deliver_sm to its echo reply at the SMSC. */
  endToEndMs: Summary;
  /** The server's CPU from the first deliver_sm to the last reply, per MO. */
  cpuMsPerMessage: number;
  serverCores: number;
  peakRssMiB: number;
  /** Why the flood stopped early (the bind closed), if it did. */
  cut?: string;
}

export interface SmppResult {
  outbound: SmppOutboundResult[];
  mo: SmppMoResult;
}

/** The fake SMSC child, seen from here. */
class FakeSmsc {
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly answers = new Map<number, (answer: never) => void>();
  private asked = 0;

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    child.on("message", (message: { id: number }) => {
      this.answers.get(message.id)?.(message as never);
      this.answers.delete(message.id);
    });
  }

  static async start(): Promise<FakeSmsc> {
    const { child, port } = await forkChild("./fake-smsc.ts");
    return new FakeSmsc(child, port);
  }

  private ask<T>(request: SmscOp): Promise<T> {
    const id = ++this.asked;
    return new Promise<T>((resolve) => {
      this.answers.set(id, resolve as (answer: never) => void);
      this.child.send({ ...request, id });
    });
  }

  take = () => this.ask<SmscCounts>({ op: "take" });
  reset = () => this.ask<void>({ op: "reset" });
  hold = () => this.ask<void>({ op: "hold" });
  release = () => this.ask<void>({ op: "release" });
  flood = (seconds: number, outstanding: number) => this.ask<FloodResult>({ op: "flood", seconds, outstanding });

  /** Polls until `done` holds of the counts, or they stop moving for `stallMs`; returns the last counts and every reply latency seen. */
  async until(done: (counts: SmscCounts) => boolean, stallMs: number): Promise<{ counts: SmscCounts; latencies: number[] }> {
    const latencies: number[] = [];
    let progress = "";
    let progressAt = Date.now();
    for (;;) {
      const counts = await this.take();
      for (const latency of counts.replyLatencies) latencies.push(latency);
      if (done(counts) || Date.now() - progressAt > stallMs) return { counts, latencies };
      const seen = `${counts.submits} ${counts.replies}`;
      if (seen !== progress) [progress, progressAt] = [seen, Date.now()];
      await sleep(50);
    }
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

interface SmppServer {
  url: string;
  pid: number;
  /** The backend's counts from /healthz. */
  counts(): Promise<Record<string, number>>;
  /** Resolves once every bind is up (`true`) or none is (`false`), as /healthz says; throws after `ms`. */
  binds(up: boolean, ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** `rapidsms start` (processes.ts's startServer) with one `smpp` backend bound to the fake SMSC; resolves once the bind is up. */
async function startSmppServer(context: Context, name: string, smscPort: number, window: number): Promise<SmppServer> {
  const child = await startServer(
    context.dir,
    name,
    { smpp: { engine: "smpp", host: "127.0.0.1", port: smscPort, systemId: "bench", password: "bench", window, registeredDelivery: 0 } },
    serverOptions(context.settings),
  );
  const backend = async () => {
    const health = (await fetch(`${child.url}/healthz`).then((r) => r.json())) as {
      backends: { smpp: { connections: { state: string }[]; counts: Record<string, number> } };
    };
    return health.backends.smpp;
  };
  const server: SmppServer = {
    url: child.url,
    pid: child.pid,
    counts: async () => (await backend()).counts,
    async binds(up, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (!child.running()) throw new Error(`the server exited:\n${child.output()}`);
        const states = await backend().then(
          (smpp) => smpp.connections.map((c) => c.state),
          () => [],
        );
        if (states.length > 0 && states.every((state) => (state === "bound") === up)) return;
        if (Date.now() > deadline)
          throw new Error(`the server's SMPP bind was not ${up ? "up" : "down"} within ${ms} ms (${states.join(", ")}):\n${child.output()}`);
        await sleep(20);
      }
    },
    stop: () => child.stop(),
  };
  try {
    await server.binds(true, 30_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function withSmppServer<T>(context: Context, name: string, smsc: FakeSmsc, window: number, run: (server: SmppServer) => Promise<T>): Promise<T> {
  const server = await startSmppServer(context, name, smsc.port, window);
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

let identity = 0;
const nextIdentity = () => `+1666${String(identity++).padStart(7, "0")}`;

/** Bulk sends through one bind with `window` submit_sm unanswered at most. */
function outboundThrough(context: Context, smpp: SmppSettings, smsc: FakeSmsc, window: number): Promise<SmppOutboundResult> {
  const { settings, log } = context;
  return withSmppServer(context, `smpp-out-${window}`, smsc, window, async (server) => {
    const pool = new Pool(server.url, { connections: POSTS_IN_FLIGHT });
    try {
      const posts = Math.ceil(smpp.outboundMessages / IDENTITIES_PER_POST);
      const messages = posts * IDENTITIES_PER_POST;
      log(`smpp outbound, window ${window}: warm-up, then ${messages} identities queued with the bind held, then sent`);
      const warmPosts = Math.max(2, Math.ceil(posts / 20));
      await smsc.reset();
      await postIdentities(pool, "smpp", warmPosts, nextIdentity);
      await smsc.until((c) => c.submits >= warmPosts * IDENTITIES_PER_POST, settings.stallMs);
      // The backlog is queued while the bind is down, so that the submit rate is the sending's alone, not the API's.
      await smsc.hold();
      await server.binds(false, 10_000);
      await smsc.reset();
      const resentBefore = (await server.counts()).resentUnconfirmed;
      const queueing = now();
      const apiErrors = await postIdentities(pool, "smpp", posts, nextIdentity);
      const queuedAt = now();
      const reading = meter(server.pid);
      await smsc.release();
      const { counts } = await smsc.until((c) => c.submits >= messages, settings.stallMs);
      const used = reading();
      return {
        window,
        messages,
        submitted: counts.submits,
        duplicates: counts.duplicateSubmits,
        submitsPerSec: perSecond(counts.submits, counts.lastSubmitAt - counts.firstSubmitAt),
        queuedPerSec: perSecond(messages, queuedAt - queueing),
        apiErrors,
        resentUnconfirmed: (await server.counts()).resentUnconfirmed - resentBefore,
        cpuMsPerMessage: used.cpuMs / messages,
        serverCores: used.cpuMs / (counts.lastSubmitAt - counts.firstSubmitAt),
        peakRssMiB: used.peakRssMiB,
      };
    } finally {
      await pool.close();
    }
  });
}

/** MO as fast as the server answers deliver_sm, each echoed back as a submit_sm. */
function mo(context: Context, smpp: SmppSettings, smsc: FakeSmsc): Promise<SmppMoResult> {
  const { settings, log } = context;
  return withSmppServer(context, "smpp-mo", smsc, smpp.moWindow, async (server) => {
    log(`smpp MO: deliver_sm "echo m<N>", ${smpp.moOutstanding} unanswered at most, ${smpp.warmupSeconds} s warm-up, ${smpp.moSeconds} s measured`);
    await smsc.reset();
    const warm = await smsc.flood(smpp.warmupSeconds, smpp.moOutstanding);
    await smsc.until((c) => c.replies >= warm.answered, settings.stallMs);
    await smsc.reset();
    const reading = meter(server.pid);
    const flood = await smsc.flood(smpp.moSeconds, smpp.moOutstanding);
    const { counts, latencies } = await smsc.until((c) => c.replies >= flood.answered, settings.stallMs);
    const used = reading();
    return {
      seconds: smpp.moSeconds,
      outstanding: smpp.moOutstanding,
      window: smpp.moWindow,
      sent: flood.sent,
      answered: flood.answered,
      refused: flood.refused,
      moPerSec: perSecond(flood.answered, flood.lastAnsweredAt - flood.firstSentAt),
      replies: counts.replies,
      duplicateReplies: counts.duplicateReplies,
      repliesPerSec: perSecond(counts.replies, counts.lastReplyAt - flood.firstSentAt),
      drainMs: Math.max(0, counts.lastReplyAt - flood.lastAnsweredAt),
      endToEndMs: summarize(latencies),
      cpuMsPerMessage: used.cpuMs / flood.answered,
      serverCores: used.cores,
      peakRssMiB: used.peakRssMiB,
      ...(flood.cut && { cut: flood.cut }),
    };
  });
}

/** The SMPP scenario: outbound through each window, then MO with echo replies, against one fake SMSC. */
export async function smpp(context: Context, settings: SmppSettings): Promise<SmppResult> {
  const smsc = await FakeSmsc.start();
  try {
    const outbound: SmppOutboundResult[] = [];
    for (const window of settings.windows) outbound.push(await outboundThrough(context, settings, smsc, window));
    return { outbound, mo: await mo(context, settings, smsc) };
  } finally {
    smsc.stop();
  }
}
