import type { Logger } from "pino";
import type { BackendBase, SendResult } from "../backends/backend.ts";
import { errorText, MessageSendingError, NoBackendError, SendCancelledError, SendTimeoutError } from "../errors.ts";
import { smsSize } from "../messages/encoding.ts";
import { CANCELLED, OPTED_OUT } from "../messages/status.ts";
import { unfitIdentity } from "../messages/limits.ts";
import type { Queue } from "../queue/queue.ts";
import type { ClaimedTransmission, OutgoingWork, SendOutcome, Store, TransmissionChange } from "../store/store.ts";
import type { Leases } from "./leases.ts";
import type { StatusEvents } from "./status-events.ts";
import { retryDelay, sendInterval, sendLateness, type PipelineOptions } from "./policy.ts";
import type { Job } from "./work-loop.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { sendOutcomeLabel } from "../metrics/labels.ts";

/**
 * More batches than places (a claim of many messages with a recipient or two each): `places` jobs
 * that take the batches in turn, so that no more sends run at once than the loop allows. Every
 * batch runs, whatever the one before it did (each holds a claim until it has run).
 */
function lanes(jobs: readonly Job[], places: number): Job[] {
  const lanes: Job[][] = Array.from({ length: places }, () => []);
  for (const [i, job] of jobs.entries()) lanes[i % places].push(job);
  return lanes.map((lane) => async (signal) => {
    const failures: unknown[] = [];
    for (const job of lane) await job(signal).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} batches failed`);
  });
}

/** Transmissions of one message on one backend, sent in one `send` call. */
interface Batch {
  messageId: string;
  backend: string;
  text: string;
  context: ClaimedTransmission["context"];
  transmissions: ClaimedTransmission[];
  /** performance.now() when it was claimed (or handed over claimed): where its send latency starts. */
  claimedAt: number;
}

export interface SenderInit {
  store: Store;
  events: StatusEvents;
  backends: ReadonlyMap<string, BackendBase<object>>;
  leases: Leases;
  queue: Queue;
  options: PipelineOptions;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Claims due transmissions, sends them in batches (one `send` per message and backend, at most
 * `batchSize` identities, or one at a time to a rate-limited backend), each within its backend's
 * deadline, and records each attempt: S, Q again after a backoff for a retryable failure, or E
 * once retries are spent or the failure is permanent.
 */
export class Sender {
  private readonly init: SenderInit;
  /** Batches for the same recipients on the same backend go out in the order they were queued. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Rate-limited backends this process has sent to. */
  private readonly warm = new Set<string>();

  constructor(init: SenderInit) {
    this.init = init;
  }

  /** Claims due transmissions (of `only`, if given) for up to `free` send calls; a job per batch. */
  async claim(free: number, only?: OutgoingWork): Promise<Job[]> {
    const { store, leases, options } = this.init;
    const limit = only ? this.batchSize(only.backend) : free * options.batchSize;
    const claimed = await store.claimTransmissions({ claim: leases.claim(), limit, maxAttempts: options.maxAttempts, only });
    const jobs = this.batches(claimed).map((batch) => this.job(batch));
    return jobs.length <= free ? jobs : lanes(jobs, free);
  }

  /** Sends transmissions this process stored already claimed (see Processor), batch after batch. */
  async sendClaimed(claimed: readonly ClaimedTransmission[], signal: AbortSignal): Promise<void> {
    for (const batch of this.batches(claimed)) await this.job(batch)(signal);
  }

  /**
   * Records replies that were the answer to their gateway's waiting request (a USSD hop): sent, or,
   * when the request no longer waited for them (its deadline passed), failed, for they never
   * reached the user.
   */
  async recordAnswered(claimed: readonly ClaimedTransmission[], taken: boolean): Promise<void> {
    for (const batch of this.batches(claimed)) {
      const outcomes = batch.transmissions.map(
        (t): SendOutcome => ({
          transmissionId: t.id,
          messageId: t.messageId,
          token: t.token,
          attempt: t.attempt,
          durationMs: 0,
          ...(taken
            ? { status: "S", answer: "answered within the gateway's request (the session's step)", segments: smsSize(t.text).segments }
            : { status: "E", error: `${t.backend}: the reply came after the session's deadline; the gateway had been answered without it` }),
        }),
      );
      await this.record(batch, outcomes);
    }
  }

  /** The job of one batch: it holds the batch's claim (renewed) until it is done, whatever happens. */
  private job(batch: Batch): Job {
    const release = this.init.leases.hold(batch.transmissions[0].token);
    return (signal) =>
      this.inOrder(`${batch.backend}\n${batch.transmissions.map((t) => t.identity).join(",")}`, () => this.send(batch, signal)).finally(release);
  }

  private redactor(backend: string): (text: string) => string {
    return this.init.backends.get(backend)?.port.redact ?? ((text) => text);
  }

  private batchSize(backend: string): number {
    if (this.init.options.rateLimits[backend]) return 1;
    return Math.min(this.init.options.batchSize, this.init.backends.get(backend)?.batchLimit ?? Number.POSITIVE_INFINITY);
  }

  /**
   * Waits for a rate-limited backend's turn. Slots are reserved in the store, so every worker
   * process on it shares the limit, whatever the queue.
   */
  private async pace(backend: string, text: string): Promise<void> {
    const limit = this.init.options.rateLimits[backend];
    if (!limit) return;
    const interval = sendInterval(limit.perSecond);
    // A send to a backend limited in segments takes a slot per segment. This process's first send
    // to the backend runs cold (connection set-up, code not yet compiled) and can reach the
    // gateway tens of ms behind its slot: it takes one more.
    const slots = (limit.count === "segments" ? smsSize(text).segments : 1) + (this.warm.has(backend) ? 0 : 1);
    this.warm.add(backend);
    for (;;) {
      const at = await this.init.store.reserveSendSlot({ backend, intervalMs: interval * slots });
      if (at > Date.now()) await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
      // A send held up past its slot gives the slot up and takes the next free one, rather than
      // going out right behind the send of the following slot.
      if (Date.now() - at <= sendLateness(interval)) return;
    }
  }

  private batches(claimed: readonly ClaimedTransmission[]): Batch[] {
    const batches: Batch[] = [];
    const open = new Map<string, Batch>();
    const claimedAt = performance.now();
    for (const transmission of claimed) {
      const key = `${transmission.messageId}\n${transmission.backend}\n${transmission.token}`;
      let batch = open.get(key);
      if (!batch || batch.transmissions.length >= this.batchSize(transmission.backend)) {
        batch = {
          messageId: transmission.messageId,
          backend: transmission.backend,
          text: transmission.text,
          context: transmission.context,
          transmissions: [],
          claimedAt,
        };
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

  private async send(claimed: Batch, signal: AbortSignal): Promise<void> {
    const refused = this.unsendable(claimed);
    const refusedIds = new Set(refused.map((r) => r.transmissionId));
    const batch = refused.length === 0 ? claimed : { ...claimed, transmissions: claimed.transmissions.filter((t) => !refusedIds.has(t.id)) };
    let outcomes: SendOutcome[] = refused;
    if (batch.transmissions.length > 0) outcomes = [...refused, ...(await this.sendOut(batch, signal))];
    await this.record(claimed, outcomes);
    const retries = outcomes.filter((o) => o.status === "Q").map((o) => o.nextAttemptAt!);
    if (retries.length > 0) {
      await this.init.queue.outgoingQueued([{ messageId: batch.messageId, backend: batch.backend, notBefore: Math.min(...retries) }]);
    }
  }

  /**
   * The transmissions never sent, each E with the reason: to recipients who opted out (the store
   * marked them as it claimed them), and to identities the backend cannot send to (its
   * `identityPattern`: a reply to a sender id such as "MY BANK" through Kannel).
   */
  private unsendable(batch: Batch): SendOutcome[] {
    const engine = this.init.backends.get(batch.backend)?.constructor as typeof BackendBase | undefined;
    return batch.transmissions.flatMap((t) => {
      const unfit = engine && unfitIdentity(t.identity, engine.identityPattern, engine.identityRule);
      const error = t.optedOut ? OPTED_OUT : unfit ? `${batch.backend} cannot send to "${t.identity}": ${unfit}` : undefined;
      if (error === undefined) return [];
      return [{ transmissionId: t.id, messageId: t.messageId, token: t.token, attempt: t.attempt, status: "E" as const, error, durationMs: 0 }];
    });
  }

  /**
   * Opts out the identities the gateway said opted out (Twilio's 21610: they texted STOP to the
   * provider), so that nothing more is sent to them. A failure here is logged: the send's outcome is recorded anyway.
   */
  private async providerOptOuts(batch: Batch, error: unknown): Promise<void> {
    if (!(error instanceof MessageSendingError) || error.optedOutIdentities.length === 0) return;
    const redact = this.redactor(batch.backend);
    for (const identity of new Set(error.optedOutIdentities)) {
      if (!batch.transmissions.some((t) => t.identity === identity)) continue;
      const detail = redact(`${batch.backend}: ${error.identityErrors[identity] ?? errorText(error)}`);
      try {
        const { created } = await this.init.store.optOut({ backend: batch.backend, identity, source: "provider", detail });
        if (created) this.init.logger.info({ backend: batch.backend, messageId: batch.messageId }, "the gateway said a recipient opted out; recorded");
      } catch (failure) {
        this.init.logger.error({ err: failure, backend: batch.backend, messageId: batch.messageId }, "recording a provider's opt-out failed");
      }
    }
  }

  private async sendOut(batch: Batch, signal: AbortSignal): Promise<SendOutcome[]> {
    await this.pace(batch.backend, batch.text);
    const started = performance.now();
    try {
      const result = await this.call(batch, signal);
      const durationMs = performance.now() - started;
      this.init.metrics.gatewayAnswer(batch.backend, durationMs / 1_000);
      const answer = result?.answer ? this.redactor(batch.backend)(result.answer) : null;
      return batch.transmissions.map((t) => ({
        transmissionId: t.id,
        messageId: t.messageId,
        token: t.token,
        attempt: t.attempt,
        status: "S",
        answer,
        externalId: result?.externalIds?.[t.identity] ?? null,
        partIds: result?.partIds?.[t.identity] ?? null,
        segments: typeof result?.segments === "object" ? (result.segments[t.identity] ?? null) : (result?.segments ?? null),
        durationMs,
      }));
    } catch (error) {
      const durationMs = performance.now() - started;
      // A send refused before it reached the gateway (its backend is gone, or the job was told to stop) had no answer to time.
      if (!(error instanceof NoBackendError || error instanceof SendCancelledError)) this.init.metrics.gatewayAnswer(batch.backend, durationMs / 1_000);
      const outcomes = this.failureOutcomes(batch, error, durationMs);
      await this.providerOptOuts(batch, error);
      return outcomes;
    }
  }
  /**
   * Calls the backend's `send` within its deadline: past it (or when the job is told to stop) the
   * call's signal aborts, and the send is a retryable failure whether or not the backend listens.
   */
  private async call(batch: Batch, signal: AbortSignal): Promise<SendResult | void> {
    const { backends, options, logger } = this.init;
    const backend = backends.get(batch.backend);
    if (!backend) throw new NoBackendError(batch.backend);
    // Told to stop while it waited its turn (behind an earlier send, or for a rate-limited slot):
    // starting it now would reach the gateway after its claim was given back to other workers.
    if (signal.aborted) throw new SendCancelledError();
    const timeoutMs = options.sendTimeouts[batch.backend] ?? options.sendTimeoutMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let shutdown = () => {};
    const stopped = new Promise<never>((_resolve, reject) => {
      const stop = (error: Error) => {
        controller.abort(error);
        reject(error);
      };
      timer = setTimeout(() => stop(new SendTimeoutError(batch.backend, timeoutMs)), timeoutMs);
      shutdown = () => stop(new SendCancelledError());
      if (signal.aborted) shutdown();
      else signal.addEventListener("abort", shutdown, { once: true });
    });
    stopped.catch(() => undefined);
    const identities = batch.transmissions.map((t) => t.identity);
    try {
      return await Promise.race([
        backend.send({
          id: batch.messageId,
          text: batch.text,
          identities,
          context: batch.context,
          signal: controller.signal,
          deadline: Date.now() + timeoutMs,
        }),
        stopped,
      ]);
    } catch (error) {
      if (!(error instanceof MessageSendingError))
        logger.error(
          { err: error, backend: batch.backend, messageId: batch.messageId },
          `${batch.backend} failed while sending (not a MessageSendingError: a bug in the backend?)`,
        );
      else logger.warn({ err: error, backend: batch.backend, messageId: batch.messageId }, `${batch.backend} could not send`);
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", shutdown);
    }
  }

  /**
   * Records the outcomes. A store that fails is asked once more; if it fails again, the job ends
   * and its claim runs out, so that the send is claimed (and made) again: at least once.
   */
  private async record(batch: Batch, outcomes: SendOutcome[]): Promise<void> {
    const { store, logger } = this.init;
    let recorded: Awaited<ReturnType<Store["recordAttempts"]>>;
    try {
      recorded = await store.recordAttempts({ outcomes });
    } catch (error) {
      logger.error({ err: error, messageId: batch.messageId }, "recording a send's outcome failed; trying once more");
      recorded = await store.recordAttempts({ outcomes });
    }
    this.count(batch, outcomes, recorded.fenced);
    const { events } = this.init;
    if (events.listening) {
      const identities = new Map(batch.transmissions.map((t) => [t.id, t.identity]));
      const retries = new Map(outcomes.map((o) => [o.transmissionId, o.nextAttemptAt]));
      const fenced = new Set(recorded.fenced);
      const cancelled = new Set(recorded.cancelled);
      // The outcomes as written (a fenced one was not; a retry of a cancelled message ended E), then what the reports they let land changed.
      const written: TransmissionChange[] = outcomes
        .filter((o) => !fenced.has(o.transmissionId))
        .map((o) =>
          cancelled.has(o.transmissionId)
            ? { transmissionId: o.transmissionId, status: "E", error: CANCELLED }
            : { transmissionId: o.transmissionId, status: o.status, error: o.status === "S" ? null : (o.error ?? null) },
        );
      events.emitRecorded(batch.backend, [...written, ...recorded.keptReports], (change) => ({
        messageId: batch.messageId,
        identity: identities.get(change.transmissionId),
        retryAt: retries.get(change.transmissionId),
      }));
    }
    if (recorded.fenced.length > 0) {
      logger.warn(
        { messageId: batch.messageId, backend: batch.backend, transmissions: recorded.fenced },
        "a send's outcome was not recorded: its claim ran out and another worker holds the transmission now",
      );
    }
  }

  /** The outcomes written (a fenced one was not: the worker that holds it now counts its own). */
  private count(batch: Batch, outcomes: readonly SendOutcome[], fenced: readonly number[]): void {
    const { metrics } = this.init;
    if (!metrics.enabled) return;
    const latency = (performance.now() - batch.claimedAt) / 1_000;
    for (const outcome of outcomes) {
      if (fenced.length > 0 && fenced.includes(outcome.transmissionId)) continue;
      metrics.sent(batch.backend, sendOutcomeLabel(outcome), latency);
    }
  }

  private failureOutcomes(batch: Batch, error: unknown, durationMs: number): SendOutcome[] {
    const { options } = this.init;
    const sendError = error instanceof MessageSendingError ? error : undefined;
    const failed = new Set(sendError?.failedIdentities ?? []);
    const optedOut = new Set(sendError?.optedOutIdentities ?? []);
    const permanent = new Set([...(sendError?.permanentIdentities ?? []), ...optedOut]);
    // Input the backend cannot encode (a URIError from encodeURIComponent) will never go; any other
    // error (a bug, or a library's network error) is the backend's failure and is tried again.
    const retryable = sendError?.retryable ?? !(error instanceof URIError);
    // As RapidSMS logs it: which backend failed, then why (a partial failure's own message names the identities).
    // Whatever a gateway answered may echo a secret back: every recorded text is redacted here, whichever backend wrote it.
    const redact = this.redactor(batch.backend);
    const reason = redact(
      failed.size > 0 || error instanceof NoBackendError ? errorText(error) : `${batch.backend} encountered an error while sending: ${errorText(error)}`,
    );
    const now = Date.now();
    return batch.transmissions.map((t): SendOutcome => {
      const base = { transmissionId: t.id, messageId: t.messageId, token: t.token, attempt: t.attempt, durationMs };
      if (failed.size > 0 && !failed.has(t.identity))
        return {
          ...base,
          status: "S",
          externalId: sendError?.externalIds[t.identity] ?? null,
          segments: sendError?.segments[t.identity] ?? null,
          partIds: sendError?.partIds[t.identity] ?? null,
        };
      const own = sendError?.identityErrors[t.identity];
      const why = own === undefined ? reason : redact(`${batch.backend} could not send to ${t.identity}: ${own}`);
      if (optedOut.has(t.identity)) return { ...base, status: "E", error: `${why} (RECIPIENT_OPTED_OUT: the recipient opted out; not retried)` };
      if (retryable && !permanent.has(t.identity) && t.attempt < options.maxAttempts) {
        return { ...base, status: "Q", nextAttemptAt: now + retryDelay(t.attempt, options), error: why };
      }
      return { ...base, status: "E", error: retryable && !permanent.has(t.identity) ? `${why} (gave up after ${t.attempt} attempts)` : why };
    });
  }
}
