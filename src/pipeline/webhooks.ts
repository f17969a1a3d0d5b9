import type { Logger } from "pino";
import { type GatewayAnswer, GatewayClient, GatewayError } from "../backends/gateway-client.ts";
import type { WebhookSettings } from "../config/operations.ts";
import { errorText } from "../errors.ts";
import type { Queue } from "../queue/queue.ts";
import type { ClaimedWebhook, OutgoingRecordInit, Store, WebhookOutcome } from "../store/store.ts";
import type { Leases } from "./leases.ts";
import { retryDelay } from "./policy.ts";
import { InternalAddressError, publicOnlyLookup } from "./webhook-address.ts";
import { repliesOf } from "./webhook-replies.ts";
import { signWebhook } from "./webhook-signature.ts";
import { shownUrl, unfitEventUrl } from "./webhook-url.ts";
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

type Kind = ClaimedWebhook["kind"];
const KINDS: readonly Kind[] = ["message", "status"];

/**
 * The places of `concurrency` each kind gets: status events (whose URLs API callers pick) half,
 * forwards of inbound messages the rest, so that a receiver that never answers an eventUrl holds
 * status events back, never the webhook app's forwards. One at least each.
 */
export function placesOf(concurrency: number): Record<Kind, number> {
  const status = Math.max(1, Math.floor(concurrency / 2));
  return { status, message: Math.max(1, concurrency - status) };
}

/**
 * POSTs the webhook outbox: claims due rows (leased; each kind in its own loop, with its share of
 * `concurrency`, see placesOf), signs and POSTs each within `timeoutMs`, and records the outcome
 * fenced by its claim: 2xx done (S, with the replies of a forwarded message queued in the same
 * transaction), 408, 429, 5xx and no answer tried again after a backoff (Retry-After honoured up
 * to `maxDelayMs`), any other answer given up (E), as is a POST still failing after `maxAttempts`.
 * Redirects are not followed. Status events go to URLs that API callers chose: their answers are
 * never kept (only the HTTP status), and without `allowedHosts` no internal address is connected to.
 */
export class WebhookDispatcher {
  private readonly init: WebhookDispatcherInit;
  private readonly places: Record<Kind, number>;
  /** Made at each start: stopping closes their connections. */
  private clients: Record<Kind, GatewayClient>;
  private readonly loops: Record<Kind, WorkLoop>;

  constructor(init: WebhookDispatcherInit) {
    this.init = init;
    this.places = placesOf(init.settings.concurrency);
    this.clients = this.newClients();
    const loop = (kind: Kind) =>
      new WorkLoop({
        name: `webhooks (${kind})`,
        concurrency: this.places[kind],
        pollMs: init.pollMs,
        logger: init.logger,
        claim: (free) => this.claim(kind, free),
      });
    this.loops = { message: loop("message"), status: loop("status") };
  }

  private newClients(): Record<Kind, GatewayClient> {
    const { settings } = this.init;
    const client = (kind: Kind) =>
      new GatewayClient({
        timeoutMs: settings.timeoutMs,
        connections: this.places[kind],
        secrets: [settings.secret],
        maxAnswerBytes: MAX_WEBHOOK_ANSWER_BYTES,
        // The webhook app's URL comes from the config; an eventUrl from any API caller.
        ...(kind === "status" && settings.allowedHosts === null ? { lookup: publicOnlyLookup } : {}),
      });
    return { message: client("message"), status: client("status") };
  }

  start(): void {
    for (const kind of KINDS) this.loops[kind].start();
  }

  /** There is a POST of `kind` due now (this process queued it). */
  wake(kind: Kind): void {
    this.loops[kind].wake();
  }

  get busy(): boolean {
    return KINDS.some((kind) => this.loops[kind].busy);
  }

  /** Stops claiming and waits for the POSTs under way, `timeoutMs` at most (their claims are given back by the caller then). */
  async stop(options: { timeoutMs: number; onDeadline?: () => Promise<void> }): Promise<void> {
    const { onDeadline } = options;
    let deadline: Promise<void> | undefined;
    const once = onDeadline && (() => (deadline ??= onDeadline()));
    await Promise.all(KINDS.map((kind) => this.loops[kind].stop({ timeoutMs: options.timeoutMs, ...(once ? { onDeadline: once } : {}) })));
    const closing = this.clients;
    this.clients = this.newClients();
    await Promise.all(KINDS.map((kind) => closing[kind].close()));
  }

  private async claim(kind: Kind, free: number): Promise<Job[]> {
    const { store, leases, settings } = this.init;
    const claimed = await store.claimWebhooks({ claim: leases.claim(), limit: free, maxAttempts: settings.maxAttempts, kind });
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
    if (forward.kind === "status") {
      // Checked again here: the config may have changed since it was queued, and IP literals skip the lookup that checks names.
      const unfit = unfitEventUrl(forward.url, settings.allowedHosts);
      if (unfit) return { ...base, status: "E", error: `not POSTed: the eventUrl ${shownUrl(forward.url)} ${unfit}` };
    }
    const headers = {
      "content-type": "application/json",
      "user-agent": "RapidSMS.ts webhooks",
      ...signWebhook({ secret: settings.secret, body: forward.body, delivery: forward.id }),
    };
    const client = this.clients[forward.kind];
    let answer: GatewayAnswer;
    try {
      answer = await client.call({ method: "POST", url: forward.url, headers, body: forward.body, signal });
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return this.failed(forward, error);
    }
    if (forward.kind !== "message") return { ...base, status: "S", answerStatus: answer.status };
    const taken = { ...base, status: "S" as const, answerStatus: answer.status, answer: answer.logText };
    // Received all the same, in both cases: sending it again would not mend the answer.
    if (answer.truncated) return { ...taken, error: `replies not sent: the answer is longer than ${MAX_WEBHOOK_ANSWER_BYTES} bytes` };
    const replies = repliesOf(answer.body);
    if ("refused" in replies) return { ...taken, error: `replies not sent: ${replies.refused}` };
    if (replies.texts.length === 0) return taken;
    try {
      return { ...taken, replies: await this.init.makeReplies(forward, replies.texts) };
    } catch (error) {
      // Left P, it would be POSTed again at each lease's end, and fail the same way.
      const why = client.redact(errorText(error));
      return {
        ...base,
        status: "E",
        answerStatus: answer.status,
        answer: answer.logText,
        error: `the receiver took it, but its replies could not be made: ${why}`,
      };
    }
  }

  private failed(forward: ClaimedWebhook, error: GatewayError): WebhookOutcome {
    const { settings } = this.init;
    const status = forward.kind === "status";
    // A status event's receiver is whatever an API caller named: its answers are not shown to them (they could read internal services).
    const base = { id: forward.id, token: forward.token, answerStatus: error.status, answer: status ? null : error.answer };
    const shown = shownUrl(forward.url);
    const refused = internalAddressRefusal(error);
    if (refused) return { ...base, status: "E", error: `not POSTed to ${shown}: ${refused.message}` };
    const noAnswer =
      error.failure === "timeout"
        ? `none within ${settings.timeoutMs} ms`
        : error.failure === "cancelled"
          ? "the POST was cancelled (the worker stopped)"
          : status
            ? "connection failed"
            : this.clients[forward.kind].redact(errorText(error.cause ?? error));
    const why =
      error.status === null ? `no answer from ${shown}: ${noAnswer}` : `${shown} answered ${error.status}${!status && error.answer ? `: ${error.answer}` : ""}`;
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

/** The InternalAddressError a failed connection came from, if it did (a cause, or one of an AggregateError's). */
function internalAddressRefusal(error: unknown, depth = 0): InternalAddressError | undefined {
  if (error instanceof InternalAddressError) return error;
  if (depth > 5 || typeof error !== "object" || error === null) return undefined;
  const nested = [(error as { cause?: unknown }).cause, ...((error as { errors?: unknown[] }).errors ?? [])];
  for (const inner of nested) {
    const found = internalAddressRefusal(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
