import type { Logger } from "pino";
import type { WebhookSettings } from "../config/operations.ts";
import { ConfigError, InvalidInputError } from "../errors.ts";
import { IncomingMessage, type Fields } from "../messages/messages.ts";
import type { Queue } from "../queue/queue.ts";
import { REPLY_PRIORITY, type Router } from "../router/router.ts";
import type { ClaimedWebhook, OutgoingRecordInit, Store } from "../store/store.ts";
import type { Leases } from "./leases.ts";
import { outgoingRecord } from "./processor.ts";
import { unfitEventUrl } from "./webhook-url.ts";
import { WebhookDispatcher } from "./webhooks.ts";

/** What a forwarded inbound message is POSTed as (RapidPro's names for the sender, text and time: `from`, `text`, `date`). */
export interface MessageEventBody {
  event: "message";
  /** The message's id: replies and status lookups name it. */
  id: string;
  /** The backend it came through. */
  backend: string;
  /** The sender's identity (a phone number) on that backend. */
  from: string;
  text: string;
  /** When it was received (ISO 8601). */
  date: string;
  /** What the backend read besides (the gateway's id as `externalId`, …). */
  fields: Fields;
}

export const NO_SECRET =
  "webhooks need a secret to sign with: set webhooks.secret in the config (16 characters at least) or the environment variable RAPIDSMS_WEBHOOK_SECRET";

export interface ForwardedMessagesInit {
  store: Store;
  queue: Queue;
  router: Router;
  leases: Leases;
  settings: WebhookSettings | undefined;
  pollMs: number;
  logger: Logger;
}

/**
 * The pipeline's part of webhooks: queues forwards of inbound messages (the `webhook` app), checks
 * eventUrls, and runs the dispatcher that POSTs the outbox in a worker. Without a secret nothing
 * is queued: forwarding and eventUrls are refused with what to set.
 */
export class ForwardedMessages {
  private readonly init: ForwardedMessagesInit;
  private readonly dispatcher: WebhookDispatcher | undefined;
  private started = false;

  constructor(init: ForwardedMessagesInit) {
    this.init = init;
    const secret = init.settings?.secret;
    if (init.settings && secret) {
      this.dispatcher = new WebhookDispatcher({
        store: init.store,
        queue: init.queue,
        leases: init.leases,
        settings: { ...init.settings, secret },
        pollMs: init.pollMs,
        logger: init.logger,
        makeReplies: (forward, texts) => this.makeReplies(forward, texts),
      });
      if (!init.settings.allowedHosts)
        init.logger.warn(
          "webhooks.allowedHosts is not set: an eventUrl given to the API may name any public host (internal addresses are refused); set it to the hosts of your apps (see docs/operations.md)",
        );
    }
  }

  /** Throws InvalidInputError (eventUrl) when status events cannot go to `url`: see unfitEventUrl, and a secret is needed. */
  checkEventUrl(url: string): void {
    if (!this.dispatcher) throw new InvalidInputError("eventUrl", NO_SECRET);
    const unfit = unfitEventUrl(url, this.init.settings?.allowedHosts ?? null);
    if (unfit) throw new InvalidInputError("eventUrl", unfit);
  }

  async forward(msg: IncomingMessage, url: string): Promise<void> {
    if (!this.dispatcher) throw new ConfigError(NO_SECRET);
    // When it was accepted, not when (perhaps after a retry) it is processed.
    const receivedAt = (await this.init.store.getMessage(msg.id))?.createdAt ?? new Date().toISOString();
    const body: MessageEventBody = {
      event: "message",
      id: msg.id,
      backend: msg.connection.backend,
      from: msg.connection.identity,
      text: msg.text,
      date: receivedAt,
      fields: msg.fields,
    };
    const queued = await this.init.store.queueWebhook({ messageId: msg.id, url, body: JSON.stringify(body) });
    if (!queued.duplicate) this.dispatcher.wake("message");
  }

  /** There are status events due (this process queued them). */
  wake(): void {
    this.dispatcher?.wake("status");
  }

  start(): void {
    if (!this.dispatcher || this.started) return;
    this.started = true;
    this.dispatcher.start();
  }

  async stop(options: { timeoutMs: number; onDeadline?: () => Promise<void> }): Promise<void> {
    if (!this.dispatcher || !this.started) return;
    this.started = false;
    await this.dispatcher.stop(options);
  }

  /** The receiver's reply texts as replies to the forwarded message: through the router's outgoing phases, like any reply. */
  private async makeReplies(forward: ClaimedWebhook, texts: readonly string[]): Promise<OutgoingRecordInit[]> {
    const { router } = this.init;
    const body = JSON.parse(forward.body) as MessageEventBody;
    const [connection] = await router.lookupConnections(body.backend, [body.from]);
    const original = new IncomingMessage({ id: body.id, connections: [connection], text: body.text, fields: body.fields });
    const replies: OutgoingRecordInit[] = [];
    for (const text of texts) {
      const reply = await router.prepareOutgoing(text, connection, { inResponseTo: original, priority: REPLY_PRIORITY });
      if (reply.processed) replies.push(outgoingRecord(reply, REPLY_PRIORITY));
    }
    return replies;
  }
}
