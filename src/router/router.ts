import type { Logger } from "pino";
import { INCOMING_PHASES, type AppBase, type AppClass } from "../apps/app.ts";
import type { BackendBase, SendResult } from "../backends/backend.ts";
import { errorText, MessageSendingError, NoBackendError } from "../errors.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { pipelineOptionsSchema, type PipelineOptions, type PipelineSettings } from "../pipeline/policy.ts";
import type { Connection } from "../messages/connection.ts";
import { ErrorMessage, IncomingMessage, OutgoingMessage, type BackendContext, type Fields, type OutgoingKind } from "../messages/messages.ts";
import { EmbeddedQueue } from "../queue/embedded.ts";
import type { Queue } from "../queue/queue.ts";
import type { Reservation } from "../pipeline/work-loop.ts";
import type { Claim, ClaimedIncoming, MessageRecord, OutgoingRecordInit, OutgoingWork, Store } from "../store/store.ts";
import { silentLogger } from "../logger.ts";

export interface RouterSettings {
  /** Interpolated into the default response as `%(project_name)s`. */
  projectName: string;
  /** What the `default` app answers to unhandled messages; `null` to stay silent. */
  defaultResponse: string | null;
}

export const DEFAULT_SETTINGS: RouterSettings = {
  projectName: "RapidSMS",
  defaultResponse: "Sorry, %(project_name)s could not understand your message.",
};

export type BackendFactory = (router: Router) => BackendBase<any>;

export interface RouterOptions {
  store: Store;
  apps?: readonly AppClass[];
  /** Installed backends by name. */
  backends?: Readonly<Record<string, BackendFactory>>;
  settings?: Partial<RouterSettings>;
  pipeline?: PipelineSettings;
  /** Hands accepted work to workers; default: the embedded queue on the store. */
  queue?: Queue;
  logger?: Logger;
}

export interface ReceiveOptions {
  fields?: Fields;
  id?: string;
}

export interface SendOptions {
  inResponseTo?: IncomingMessage;
  fields?: Fields;
  kind?: OutgoingKind;
  id?: string;
  /** Higher goes first; replies are sent with priority 1, other messages default to 0. */
  priority?: number;
}

const REPLY_PRIORITY = 1;

/**
 * Runs incoming messages through the apps and outgoing messages through the backends. Both go
 * through the store: `receive` and `send` record the message durably and return; the pipeline
 * (started by `start()`) processes and sends it, and records every per-identity outcome.
 */
export class Router {
  readonly store: Store;
  readonly apps: AppBase[];
  readonly backends = new Map<string, BackendBase>();
  readonly settings: RouterSettings;
  readonly logger: Logger;
  readonly pipelineOptions: PipelineOptions;
  readonly queue: Queue;
  private pipeline: Pipeline | undefined;

  constructor(options: RouterOptions) {
    this.store = options.store;
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.logger = options.logger ?? silentLogger;
    this.pipelineOptions = pipelineOptionsSchema.parse(options.pipeline ?? {});
    this.queue = options.queue ?? new EmbeddedQueue(this.logger);
    for (const [name, create] of Object.entries(options.backends ?? {})) {
      this.backends.set(name, create(this));
    }
    this.apps = (options.apps ?? []).map((App) => new App(this));
  }

  /** Get-or-create a connection per identity on the named backend, in input order. */
  lookupConnections(backendName: string, identities: readonly (string | number)[]): Promise<Connection[]> {
    return this.store.lookupConnections(backendName, identities.map(String));
  }

  /** Starts the background work (a worker's role): processing accepted messages and sending queued ones. */
  async start(): Promise<void> {
    if (this.pipeline) return;
    this.pipeline = new Pipeline(this, this.pipelineOptions, this.queue);
    await this.pipeline.start();
  }

  /** Stops taking new work, waits for running work and gives back the rest (it stays queued). */
  async stop(): Promise<void> {
    await this.pipeline?.stop();
    this.pipeline = undefined;
  }

  /** Resolves when every accepted message is processed and every transmission is final, retries included. */
  async idle(): Promise<void> {
    await this.pipeline?.idle();
  }

  /**
   * Accepts an inbound message: once this resolves it is durably stored (status Q) and will be
   * processed, even if the process dies now. A gateway id (`fields.externalId`) already accepted
   * on the same backend within the dedupe window is not stored again: the message returned then
   * has the original's id and `duplicate` set.
   */
  async receive(text: string, connection: Connection, options: ReceiveOptions = {}): Promise<IncomingMessage> {
    const msg = new IncomingMessage({ connections: [connection], text, fields: options.fields, id: options.id });
    // A worker of this process with room takes the message straight from here: it is stored
    // claimed by this process, so no other worker takes it unless this process dies.
    const place = this.pipeline ? this.queue.reserveInbound?.() : undefined;
    const accepted = await this.storeHolding(place, (claim) =>
      this.store.acceptIncoming({ id: msg.id, text: msg.text, fields: msg.fields, connection }, { dedupeWindowMs: this.pipelineOptions.dedupeWindowMs, claim }),
    );
    if (accepted.duplicate) {
      place?.cancel();
      const original = new IncomingMessage({ connections: [connection], text, fields: options.fields, id: accepted.id });
      original.duplicate = true;
      return original;
    }
    // The fields as a worker would read them back from the store (JSON), whichever path it takes.
    if (place) place.run(() => this.processClaimed({ id: msg.id, text: msg.text, fields: JSON.parse(JSON.stringify(msg.fields)), connection }));
    else await this.handOver(() => this.queue.incomingAccepted(msg.id));
    return msg;
  }

  /** Processes a message claimed from the store: the phases, then its replies queued atomically with its R. */
  async processClaimed(claimed: ClaimedIncoming): Promise<void> {
    const msg = new IncomingMessage({ connections: [claimed.connection], text: claimed.text, fields: claimed.fields, id: claimed.id });
    try {
      await this.processIncomingPhases(msg);
    } catch (error) {
      this.logger.error({ err: error, messageId: msg.id }, "an app failed while processing an incoming message");
      await this.store.completeIncoming(msg.id, { status: "E", error: errorText(error), replies: [] });
      return;
    }
    const replies: OutgoingRecordInit[] = [];
    for (const response of msg.responses) {
      const reply = await this.prepareOutgoing(response.text, response.connections, {
        inResponseTo: response.inResponseTo,
        fields: response.fields,
        kind: response.kind,
      });
      if (reply) replies.push(this.outgoingRecord(reply, REPLY_PRIORITY));
    }
    await this.completeWithReplies(msg.id, replies);
  }

  /**
   * Marks a processed message R and queues its replies in the same transaction. A sender of this
   * process with room takes the replies straight from here, as receive() hands over accepted
   * messages: they are stored claimed by this process, which saves a claim through the store.
   */
  private async completeWithReplies(id: string, replies: OutgoingRecordInit[]): Promise<void> {
    const pipeline = this.pipeline;
    const recipients = replies.reduce((n, r) => n + r.connections.length, 0);
    const place = pipeline && recipients > 0 && recipients <= this.pipelineOptions.batchSize ? this.queue.reserveSend?.() : undefined;
    const handed = await this.storeHolding(place, (claim) => this.store.completeIncoming(id, { status: "R", replies }, { claim }));
    if (place) {
      if (handed.length > 0) place.run(() => pipeline!.sendClaimed(handed));
      else place.cancel();
    } else if (replies.length > 0) {
      await this.handOver(() => this.queue.outgoingQueued(replies.flatMap((r) => outgoingWork(r))));
    }
  }

  /**
   * Stores work through `write`, claimed by this process (with a fresh lease) when `place` holds a
   * place for it in one of its work loops; if the write fails, the place is given back.
   */
  private async storeHolding<T>(place: Reservation | undefined, write: (claim: Claim | undefined) => Promise<T>): Promise<T> {
    const claim = place && this.pipeline ? { owner: this.pipeline.owner, until: Date.now() + this.pipelineOptions.leaseMs } : undefined;
    try {
      return await write(claim);
    } catch (error) {
      place?.cancel();
      throw error;
    }
  }

  private async processIncomingPhases(msg: IncomingMessage): Promise<void> {
    for (const phase of INCOMING_PHASES) {
      if (phase === "default" && msg.handled) break;
      for (const app of this.apps) {
        const result = await app[phase](msg);
        if (phase === "filter" && result === true) {
          this.logger.debug({ app: app.name, messageId: msg.id }, "message filtered");
          return;
        }
        if ((phase === "handle" || phase === "default") && result === true) {
          if (phase === "handle") msg.handled = true;
          break;
        }
      }
    }
    msg.processed = true;
  }

  /**
   * Sends `text` to one or more connections: runs the outgoing phases (apps in reverse order,
   * `false` cancels), then queues one transmission per connection. Once this resolves the message
   * is stored and will be sent (one `send` call per backend, batched); its status tells the outcome.
   */
  async send(text: string, connections: Connection | readonly Connection[], options: SendOptions = {}): Promise<OutgoingMessage> {
    const msg = await this.prepareOutgoing(text, connections, options);
    if (!msg.processed) return msg;
    const record = this.outgoingRecord(msg, options.priority ?? 0);
    await this.store.enqueueOutgoing(record);
    await this.handOver(() => this.queue.outgoingQueued(outgoingWork(record)));
    return msg;
  }

  /**
   * Tells the queue about work already committed to the store. A failure here loses nothing (the
   * workers' sweep finds the work in the store), so it is logged, not thrown.
   */
  private async handOver(notify: () => Promise<void>): Promise<void> {
    try {
      await notify();
    } catch (error) {
      this.logger.error({ err: error }, "the queue could not be told about new work; the store sweep will pick it up");
    }
  }

  private async prepareOutgoing(text: string, connections: Connection | readonly Connection[], options: SendOptions): Promise<OutgoingMessage> {
    const list = Array.isArray(connections) ? (connections as readonly Connection[]) : [connections as Connection];
    if (list.length === 0) throw new TypeError("send needs at least one connection");
    const MessageClass = options.kind === "error" ? ErrorMessage : OutgoingMessage;
    const msg = new MessageClass({
      connections: uniqueConnections(list),
      text,
      fields: options.fields,
      inResponseTo: options.inResponseTo,
      id: options.id,
    });
    await this.processOutgoingPhases(msg);
    return msg;
  }

  private outgoingRecord(msg: OutgoingMessage, priority: number): OutgoingRecordInit {
    return {
      id: msg.id,
      text: msg.text,
      fields: msg.fields,
      context: msg.extraBackendContext(),
      inResponseTo: msg.inResponseTo?.id ?? null,
      connections: msg.connections,
      priority,
    };
  }

  private async processOutgoingPhases(msg: OutgoingMessage): Promise<void> {
    for (const app of [...this.apps].reverse()) {
      let result: unknown;
      try {
        result = await app.outgoing(msg);
      } catch (error) {
        this.logger.error({ err: error, app: app.name, messageId: msg.id }, "an app failed in the outgoing phase; continuing");
        continue;
      }
      if (result === false) {
        this.logger.info({ app: app.name, messageId: msg.id }, "Message cancelled");
        return;
      }
    }
    msg.processed = true;
  }

  /**
   * Waits until a message is done: an inbound one processed (R or E) and its replies final, an
   * outbound one sent, delivered or failed (S, D or E). Returns its record, or the last seen on timeout.
   */
  async waitForMessage(id: string, timeoutMs = 30_000): Promise<MessageRecord | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = await this.store.getMessage(id);
      const done = record && (record.direction === "I" ? record.status !== "Q" : !["Q", "P"].includes(record.status));
      if (done || Date.now() >= deadline) return record;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Calls one backend's `send`. Throws `NoBackendError` for an unknown name, and a
   * `MessageSendingError` (the backend's own when it lists failed identities) on failure.
   */
  async sendToBackend(backendName: string, id: string, text: string, identities: string[], context: BackendContext): Promise<SendResult | void> {
    const backend = this.backends.get(backendName);
    if (!backend) {
      const error = new NoBackendError(backendName);
      this.logger.error({ backend: backendName, messageId: id }, error.message);
      throw error;
    }
    try {
      return await backend.send({ id, text, identities, context });
    } catch (error) {
      this.logger.error({ err: error, backend: backendName, messageId: id }, `${backendName} encountered an error while sending.`);
      if (error instanceof MessageSendingError && error.failedIdentities.length > 0) throw error;
      throw new MessageSendingError(`${backendName} encountered an error while sending: ${errorText(error)}`, {
        cause: error,
        retryable: error instanceof MessageSendingError ? error.retryable : true,
      });
    }
  }
}

function outgoingWork(record: OutgoingRecordInit): OutgoingWork[] {
  return [...new Set(record.connections.map((c) => c.backend))].map((backend) => ({ messageId: record.id, backend, priority: record.priority }));
}

function uniqueConnections(connections: readonly Connection[]): Connection[] {
  const seen = new Set<number>();
  return connections.filter((c) => !seen.has(c.id) && seen.add(c.id));
}
