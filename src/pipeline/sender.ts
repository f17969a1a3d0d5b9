import { errorText, MessageSendingError } from "../errors.ts";
import { smsSize } from "../messages/encoding.ts";
import type { Queue } from "../queue/queue.ts";
import type { Router } from "../router/router.ts";
import type { ClaimedTransmission, OutgoingWork, SendOutcome } from "../store/store.ts";
import { retryDelay, sendInterval, sendLateness, type PipelineOptions } from "./policy.ts";
import type { Job } from "./work-loop.ts";

/** Transmissions of one message on one backend, sent in one `send` call. */
interface Batch {
  messageId: string;
  backend: string;
  text: string;
  context: ClaimedTransmission["context"];
  transmissions: ClaimedTransmission[];
}

/**
 * Claims due transmissions, sends them in batches (one `send` per message and backend, at most
 * `batchSize` identities, or one at a time to a rate-limited backend), and records each attempt:
 * S, Q again after a backoff for a retryable failure, or E once retries are spent or the failure
 * is permanent.
 */
export class Sender {
  private readonly router: Router;
  private readonly options: PipelineOptions;
  private readonly owner: string;
  private readonly queue: Queue;
  /** Batches for the same recipients on the same backend go out in the order they were queued. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Rate-limited backends this process has sent to. */
  private readonly warm = new Set<string>();

  constructor(router: Router, options: PipelineOptions, owner: string, queue: Queue) {
    this.router = router;
    this.options = options;
    this.owner = owner;
    this.queue = queue;
  }

  /** Claims due transmissions (of `only`, if given) for up to `free` send calls. */
  async claim(free: number, only?: OutgoingWork): Promise<Job[]> {
    const limit = only ? this.batchSize(only.backend) : free * this.options.batchSize;
    const claimed = await this.router.store.claimTransmissions(this.owner, limit, this.options.leaseMs, Date.now(), only);
    return this.batches(claimed).map((batch) => () => this.sendInOrder(batch));
  }

  /** Sends transmissions this process already holds (see Router.processClaimed), batch after batch. */
  async sendClaimed(claimed: readonly ClaimedTransmission[]): Promise<void> {
    for (const batch of this.batches(claimed)) await this.sendInOrder(batch);
  }

  private sendInOrder(batch: Batch): Promise<void> {
    return this.inOrder(`${batch.backend}\n${batch.transmissions.map((t) => t.identity).join(",")}`, () => this.send(batch));
  }

  private batchSize(backend: string): number {
    return this.options.rateLimits[backend] ? 1 : this.options.batchSize;
  }

  /**
   * Waits for a rate-limited backend's turn. Slots are reserved in the store, so every worker
   * process on it shares the limit, whatever the queue.
   */
  private async pace(backend: string, text: string): Promise<void> {
    const limit = this.options.rateLimits[backend];
    if (!limit) return;
    const interval = sendInterval(limit.perSecond);
    // A send to a backend limited in segments takes a slot per segment. This process's first send
    // to the backend runs cold (connection set-up, code not yet compiled) and can reach the
    // gateway tens of ms behind its slot: it takes one more.
    const slots = (limit.count === "segments" ? smsSize(text).segments : 1) + (this.warm.has(backend) ? 0 : 1);
    this.warm.add(backend);
    for (;;) {
      const at = await this.router.store.reserveSendSlot(backend, interval * slots);
      if (at > Date.now()) await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
      // A send held up past its slot gives the slot up and takes the next free one, rather than
      // going out right behind the send of the following slot.
      if (Date.now() - at <= sendLateness(interval)) return;
    }
  }

  private batches(claimed: readonly ClaimedTransmission[]): Batch[] {
    const batches: Batch[] = [];
    const open = new Map<string, Batch>();
    for (const transmission of claimed) {
      const key = `${transmission.messageId}\n${transmission.backend}`;
      let batch = open.get(key);
      if (!batch || batch.transmissions.length >= this.batchSize(transmission.backend)) {
        batch = { messageId: transmission.messageId, backend: transmission.backend, text: transmission.text, context: transmission.context, transmissions: [] };
        open.set(key, batch);
        batches.push(batch);
      }
      batch.transmissions.push(transmission);
    }
    return batches;
  }

  private inOrder(key: string, run: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(key) ?? Promise.resolve()).then(run);
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }

  private async send(batch: Batch): Promise<void> {
    await this.pace(batch.backend, batch.text);
    const started = performance.now();
    const identities = batch.transmissions.map((t) => t.identity);
    let outcomes: SendOutcome[];
    try {
      const result = await this.router.sendToBackend(batch.backend, batch.messageId, batch.text, identities, batch.context);
      const durationMs = performance.now() - started;
      outcomes = batch.transmissions.map((t) => ({
        transmissionId: t.id,
        messageId: t.messageId,
        attempt: t.attempt,
        status: "S",
        answer: result?.answer ?? null,
        externalId: result?.externalIds?.[t.identity] ?? null,
        segments: result?.segments ?? null,
        durationMs,
      }));
    } catch (error) {
      outcomes = this.failureOutcomes(batch, error, performance.now() - started);
    }
    await this.router.store.recordAttempts(outcomes);
    const retries = outcomes.filter((o) => o.status === "Q").map((o) => o.nextAttemptAt!);
    if (retries.length > 0) {
      await this.queue.outgoingQueued([{ messageId: batch.messageId, backend: batch.backend, notBefore: Math.min(...retries) }]);
    }
  }

  private failureOutcomes(batch: Batch, error: unknown, durationMs: number): SendOutcome[] {
    const sendError = error instanceof MessageSendingError ? error : undefined;
    const failed = new Set(sendError?.failedIdentities ?? []);
    const retryable = sendError?.retryable ?? true;
    const reason = errorText(error);
    const now = Date.now();
    return batch.transmissions.map((t): SendOutcome => {
      if (failed.size > 0 && !failed.has(t.identity)) {
        return { transmissionId: t.id, messageId: t.messageId, attempt: t.attempt, status: "S", durationMs };
      }
      if (retryable && t.attempt < this.options.maxAttempts) {
        const nextAttemptAt = now + retryDelay(t.attempt, this.options);
        return { transmissionId: t.id, messageId: t.messageId, attempt: t.attempt, status: "Q", nextAttemptAt, error: reason, durationMs };
      }
      const why = retryable ? `${reason} (gave up after ${t.attempt} attempts)` : reason;
      return { transmissionId: t.id, messageId: t.messageId, attempt: t.attempt, status: "E", error: why, durationMs };
    });
  }
}
