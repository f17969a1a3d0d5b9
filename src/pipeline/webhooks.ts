import type { Logger } from "pino";
import { GatewayClient, GatewayError } from "../backends/gateway-client.ts";
import type { WebhookSettings } from "../config/operations.ts";
import { errorText } from "../errors.ts";
import type { Queue } from "../queue/queue.ts";
import type { ClaimedWebhook, OutgoingRecordInit, Store, WebhookOutcome } from "../store/store.ts";
import type { Leases } from "./leases.ts";
import { retryDelay } from "./policy.ts";
import { signWebhook } from "./webhook-signature.ts";
import { repliesOf } from "./webhook-replies.ts";
import { shownUrl } from "./webhook-url.ts";
import { type Job, WorkLoop } from "./work-loop.ts";

/** A receiver's answer is read up to this many bytes. */
export const MAX_WEBHOOK_ANSWER_BYTES = 64 * 1024;

export interface WebhookDispatcherInit {
  store: Store;
  queue: Queue;
  leases: Leases;
  /** `secret` is non-null: the pipeline starts no dispatcher without one. */
  settings: WebhookSettings & { secret: string };
  pollMs: number;
  logger: Logger;
  /** The replies to a forwarded message, made as the router makes replies (its outgoing phases run); none when they are cancelled. */
  makeReplies(forward: ClaimedWebhook, texts: readonly string[]): Promise<OutgoingRecordInit[]>;
}

/**
 * POSTs the webhook outbox: claims due rows (leased, up to `concurrency` at once), signs and POSTs
 * each within `timeoutMs`, and records the outcome fenced by its claim: 2xx done (S, with the
 * replies of a forwarded message queued in the same transaction), 408, 429, 5xx and no answer
 * tried again after a backoff (Retry-After honoured up to `maxDelayMs`), any other answer given
 * up (E), as is a POST still failing after `maxAttempts`. Redirects are not followed.
 */
export class WebhookDispatcher {
  private readonly init: WebhookDispatcherInit;
  /** Made at each start: stopping closes its connections. */
  private client: GatewayClient;
  private readonly loop: WorkLoop;

  constructor(init: WebhookDispatcherInit) {
    this.init = init;
    this.client = this.newClient();
    this.loop = new WorkLoop({
      name: "webhooks",
      concurrency: init.settings.concurrency,
      pollMs: init.pollMs,
      logger: init.logger,
      claim: (free) => this.claim(free),
    });
  }

  private newClient(): GatewayClient {
    const { settings } = this.init;
    return new GatewayClient({
      timeoutMs: settings.timeoutMs,
      connections: settings.concurrency,
      secrets: [settings.secret],
      maxAnswerBytes: MAX_WEBHOOK_ANSWER_BYTES,
    });
  }

  start(): void {
    this.loop.start();
  }

  /** There is a POST due now (this process queued it). */
  wake(): void {
    this.loop.wake();
  }

  get busy(): boolean {
    return this.loop.busy;
  }

  /** Stops claiming and waits for the POSTs under way, `timeoutMs` at most (their claims are given back by the caller then). */
  async stop(options: { timeoutMs: number; onDeadline?: () => Promise<void> }): Promise<void> {
    await this.loop.stop(options);
    const closing = this.client;
    this.client = this.newClient();
    await closing.close();
  }

  private async claim(free: number): Promise<Job[]> {
    const { store, leases, settings } = this.init;
    const claimed = await store.claimWebhooks({ claim: leases.claim(), limit: free, maxAttempts: settings.maxAttempts });
    return claimed.map((forward) => (signal) => this.post(forward, signal));
  }

  private async post(forward: ClaimedWebhook, signal: AbortSignal): Promise<void> {
    const { store, leases, queue, logger } = this.init;
    const release = leases.hold(forward.token);
    try {
      const outcome = await this.attempt(forward, signal);
      const { applied, queued } = await store.completeWebhook(outcome);
      const where = { webhook: forward.id, kind: forward.kind, url: shownUrl(forward.url), messageId: forward.messageId, attempt: forward.attempt };
      if (!applied) logger.warn(where, "a webhook POST's claim was taken over before its outcome was recorded; the other worker's stands");
      else if (outcome.status === "E") logger.warn({ ...where, error: outcome.error }, "a webhook POST was given up");
      else if (outcome.status === "Q") logger.info({ ...where, error: outcome.error }, "a webhook POST failed; it will be tried again");
      if (queued.length > 0) await queue.outgoingQueued(queued);
    } finally {
      release();
    }
  }

  /** One POST and what it came to. */
  private async attempt(forward: ClaimedWebhook, signal: AbortSignal): Promise<WebhookOutcome> {
    const { settings } = this.init;
    const base = { id: forward.id, token: forward.token };
    const headers = {
      "content-type": "application/json",
      "user-agent": "RapidSMS.ts webhooks",
      ...signWebhook({ secret: settings.secret, body: forward.body, delivery: forward.id }),
    };
    try {
      const answer = await this.client.call({ method: "POST", url: forward.url, headers, body: forward.body, signal });
      if (forward.kind !== "message") return { ...base, status: "S", answerStatus: answer.status, answer: answer.logText };
      // Received all the same, in both cases: sending it again would not mend the answer.
      if (answer.truncated) {
        const error = `replies not sent: the answer is longer than ${MAX_WEBHOOK_ANSWER_BYTES} bytes`;
        return { ...base, status: "S", answerStatus: answer.status, answer: answer.logText, error };
      }
      const replies = repliesOf(answer.body);
      if ("refused" in replies)
        return { ...base, status: "S", answerStatus: answer.status, answer: answer.logText, error: `replies not sent: ${replies.refused}` };
      const made = replies.texts.length > 0 ? await this.init.makeReplies(forward, replies.texts) : [];
      return { ...base, status: "S", answerStatus: answer.status, answer: answer.logText, replies: made };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return this.failed(forward, error);
    }
  }

  private failed(forward: ClaimedWebhook, error: GatewayError): WebhookOutcome {
    const { settings } = this.init;
    const base = { id: forward.id, token: forward.token, answerStatus: error.status, answer: error.answer };
    const why =
      error.status === null
        ? `no answer from ${shownUrl(forward.url)}: ${error.failure === "timeout" ? `none within ${settings.timeoutMs} ms` : this.client.redact(errorText(error.cause ?? error))}`
        : `${shownUrl(forward.url)} answered ${error.status}${error.answer ? `: ${error.answer}` : ""}`;
    if (!error.retryable) {
      const fix =
        error.status !== null && error.status >= 300 && error.status < 400
          ? "redirects are not followed: configure the URL it redirects to"
          : "the receiver refuses this POST; fix the receiver or the URL";
      return { ...base, status: "E", error: `${why}; ${fix}` };
    }
    if (forward.attempt >= settings.maxAttempts) return { ...base, status: "E", error: `gave up after ${forward.attempt} attempts: ${why}` };
    const backoff = retryDelay(forward.attempt, settings);
    const asked = error.retryAfterMs === null ? 0 : Math.min(error.retryAfterMs, settings.maxDelayMs);
    return { ...base, status: "Q", nextAttemptAt: Date.now() + Math.max(backoff, asked), error: `${why}; will retry` };
  }
}
