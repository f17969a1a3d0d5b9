import { z } from "zod";
import { PARSED_ONCE } from "../parse-once.ts";

const rateLimitSchema = z.union([
  z
    .number()
    .positive()
    .transform((perSecond) => ({ perSecond, count: "messages" as const })),
  z.object({ perSecond: z.number().positive(), count: z.enum(["messages", "segments"]).default("messages") }).strict(),
]);

/** How the durable pipeline works; every value can be set under `pipeline` in the config. */
export const pipelineOptionsSchema = z
  .object({
    /** Identities per `send` call at most. */
    batchSize: z.number().int().positive().default(200),
    /**
     * Tries per transmission, and per inbound message's processing (a failing app or store, a
     * worker that died with it), the first included, before it is marked E.
     */
    maxAttempts: z.number().int().positive().default(10),
    /** The first retry waits about this long; each next one twice as long, up to `maxDelayMs`. */
    baseDelayMs: z.number().int().nonnegative().default(1_000),
    maxDelayMs: z.number().int().nonnegative().default(600_000),
    /** A claim not renewed for this long is taken to belong to a dead process and is claimed again. */
    leaseMs: z.number().int().positive().default(30_000),
    /** A gateway id seen again on the same backend within this window is a duplicate. */
    dedupeWindowMs: z
      .number()
      .int()
      .nonnegative()
      .default(24 * 60 * 60 * 1000),
    /**
     * Inbound messages processed at once. Each holds its place through its commit, so a disk that
     * stalls for tens of ms fills the places; an accepted message that finds none waits for a claim.
     */
    inboundConcurrency: z.number().int().positive().default(64),
    /** `send` calls in flight at once, each with the commit of its outcome (see `inboundConcurrency`). */
    sendConcurrency: z.number().int().positive().default(64),
    /** How often idle workers look for work another process queued (this process wakes them at once). */
    pollMs: z.number().int().positive().default(1_000),
    /**
     * Sends per second at most, per backend name, across every worker: messages
     * (`{ "kannel": 50 }`) or SMS segments (`{ "kannel": { "perSecond": 50, "count": "segments" } }`).
     */
    rateLimits: z.record(z.string(), rateLimitSchema).default({}),
    /**
     * Queued work not picked up for this long is handed out again (queues whose jobs can be lost);
     * longer than any backlog should last, since work still waiting in the queue looks the same.
     */
    staleAfterMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000),
    /**
     * The deadline of every send to a backend, from the call to its answer; past it the send is
     * a retryable failure. Backends' own `timeoutMs` bound each gateway call within it.
     */
    sendTimeoutMs: z.number().int().positive().default(30_000),
    /** Per backend name, a `sendTimeoutMs` of its own. */
    sendTimeouts: z.record(z.string(), z.number().int().positive()).default({}),
    /** How long stopping waits for work under way before it gives that work back for other workers. */
    shutdownTimeoutMs: z.number().int().nonnegative().default(30_000),
  })
  .strict();

export type PipelineOptions = z.output<typeof pipelineOptionsSchema>;
/** Pipeline options as written in a config: any may be left out. */
export type PipelineSettings = z.input<typeof pipelineOptionsSchema>;

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = pipelineOptionsSchema.parse({}, PARSED_ONCE);

/**
 * The spacing of sends to a backend limited to `perSecond`: 3% wider than the plain interval, so
 * `perSecond + 1` slots span 1,030 ms. Sends may run up to `sendLateness` behind their slot,
 * which leaves 22 ms for the trip to the gateway before a second could hold one send too many,
 * however the second is placed; a backlog still goes at 97% of the limit.
 */
export function sendInterval(perSecond: number): number {
  return (1_000 / perSecond) * 1.03;
}

/** How far behind its slot a rate-limited send may still go out (see `sendInterval`). */
export function sendLateness(intervalMs: number): number {
  return Math.min(intervalMs / 2, 8);
}

/**
 * The wait before retry number `attempt` (1 = the first retry): exponential, capped, with jitter
 * (half fixed, half random) so that many failed sends do not all come back at the same moment.
 */
export function retryDelay(attempt: number, options: Pick<PipelineOptions, "baseDelayMs" | "maxDelayMs">, random = Math.random): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/**
 * How long a delivery report that came before its send's answer is kept for that answer: a report
 * can only overtake an answer still under way, which comes within the send's deadline. Ten minutes,
 * or twice the longest deadline if that is longer; a report kept longer belongs to no send of ours.
 */
export function keptReportsMs(options: Pick<PipelineOptions, "sendTimeoutMs" | "sendTimeouts">): number {
  return Math.max(10 * 60_000, 2 * Math.max(options.sendTimeoutMs, ...Object.values(options.sendTimeouts)));
}
