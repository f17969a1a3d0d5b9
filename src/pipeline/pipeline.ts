import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { BackendBase, BackendClass } from "../backends/backend.ts";
import { buildBackend } from "../backends/build.ts";
import { InvalidInputError } from "../errors.ts";
import type { Connection } from "../messages/connection.ts";
import { unfitExternalId, unfitIdentity, unfitMessageText } from "../messages/limits.ts";
import type { IncomingMessage, OutgoingMessage } from "../messages/messages.ts";
import type { Queue, WorkSource } from "../queue/queue.ts";
import type { AppContacts, AppOptOuts, RouterPort } from "../router/api.ts";
import type { Router } from "../router/router.ts";
import type { MessageRecord, OutgoingWork, Store } from "../store/store.ts";
import { backendPort } from "./backend-port.ts";
import { type Metrics, NoMetrics } from "../metrics/metrics.ts";
import { Leases } from "./leases.ts";
import { keptReportsMs, type PipelineOptions } from "./policy.ts";
import { handOver, outgoingRecord, outgoingWork, Processor } from "./processor.ts";
import type { Conversation, SessionAnswer } from "../messages/session.ts";
import { RetentionPurge } from "./retention.ts";
import { cancelOutgoing } from "./cancel.ts";
import { scheduledTime } from "../messages/send-at.ts";
import { Sender } from "./sender.ts";
import { StatusEvents } from "./status-events.ts";
import type { WebhookSettings } from "../config/operations.ts";
import { ForwardedMessages } from "./forwards.ts";
import type { Job } from "./work-loop.ts";
import type { RetentionSettings } from "../config/operations.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function checkText(text: string): void {
  const unfit = unfitMessageText(text);
  if (unfit) throw new InvalidInputError("text", unfit);
}

/** Session steps one process runs at once at most (each holds its request open): past it, a step is answered at once and not stored. */
const MAX_CONVERSATIONS = 512;
/** Answers to session steps kept for a gateway that sends a step again: at most this many, for this long. */
const KEPT_ANSWERS = 10_000;
const KEPT_ANSWER_MS = 5 * 60_000;

function checkExternalId(msg: IncomingMessage): void {
  const externalId = msg.fields.externalId;
  if (typeof externalId === "string") {
    const unfit = unfitExternalId(externalId);
    if (unfit) throw new InvalidInputError("externalId", unfit);
  }
}

export interface PipelineInit {
  store: Store;
  queue: Queue;
  router: Router;
  /** The installed backends: the pipeline builds each and gives it its port. */
  backends: Readonly<Record<string, { engine: BackendClass; options: object }>>;
  options: PipelineOptions;
  logger: Logger;
  /** The base URL the outside world reaches this server at (the config's `publicUrl`), for the backends' signatures and callbacks. */
  publicUrl?: string | null;
  /** The config's `retention`: workers purge finished messages older than that. */
  retention?: RetentionSettings | null;
  /** How forwards to other apps and status events are signed and retried (the config's `webhooks`); none: no webhooks. */
  webhooks?: WebhookSettings;
  /** Counters and histograms for /metrics; none by default. */
  metrics?: Metrics;
}

/**
 * Owns durable work: accepting inbound messages (dedupe, store, hand-off to a local worker),
 * processing them (claim, the router's phases, complete), sending (the backends, batching,
 * retries, pacing, deadlines), delivery reports, and every claim's lease. The router it is given
 * sends its messages here (it is the router's port).
 */
export class Pipeline implements RouterPort, WorkSource {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly backends: ReadonlyMap<string, BackendBase<object>>;
  /** The status changes this process records (its sends, the reports it receives). */
  readonly events: StatusEvents;
  private readonly store: Store;
  private readonly queue: Queue;
  private readonly options: PipelineOptions;
  private readonly logger: Logger;
  private readonly leases: Leases;
  private readonly sender: Sender;
  private readonly processor: Processor;
  private active = false;
  /** The engines of the installed backends, for their identity rules. */
  private readonly engines: ReadonlyMap<string, BackendClass>;
  private housekeeping: NodeJS.Timeout | undefined;
  private readonly retention: RetentionPurge | undefined;
  /** Forwards to other apps and status events (see forwards.ts). */
  private readonly forwards: ForwardedMessages;

  constructor(init: PipelineInit) {
    const { store, queue, router, options, logger } = init;
    const metrics = init.metrics ?? new NoMetrics();
    this.store = store;
    this.queue = queue;
    this.options = options;
    this.logger = logger;
    this.events = new StatusEvents(logger);
    this.leases = new Leases({ store, owner: this.owner, leaseMs: options.leaseMs, logger });
    this.engines = new Map(Object.entries(init.backends).map(([name, { engine }]) => [name, engine]));
    const backends = new Map<string, BackendBase<object>>();
    for (const [name, { engine, options: backendOptions }] of Object.entries(init.backends)) {
      const port = backendPort({
        name,
        engine,
        options: backendOptions,
        publicUrl: init.publicUrl ?? null,
        store,
        logger,
        events: this.events,
        metrics,
        accept: (msg) => this.accept(msg),
        converse: (msg, converseOptions) => this.converse(msg, converseOptions),
        lookupConnections: (backend, identities) => this.lookupConnections(backend, identities),
      });
      backends.set(name, buildBackend(engine, port, backendOptions));
    }
    this.backends = backends;
    this.sender = new Sender({ store, events: this.events, backends, leases: this.leases, queue, options, logger, metrics });
    this.processor = new Processor({ store, events: this.events, router, leases: this.leases, queue, sender: this.sender, options, logger, metrics });
    if (init.retention) this.retention = new RetentionPurge({ store, settings: init.retention, logger });
    this.forwards = new ForwardedMessages({ store, queue, router, leases: this.leases, settings: init.webhooks, pollMs: options.pollMs, logger });
    router.connect(this);
  }

  /** Whether this process's workers run (start() was called, stop() not yet). */
  get running(): boolean {
    return this.active;
  }

  /** Throws InvalidInputError for an identity no store can keep: nothing reaches the store that it cannot keep. */
  lookupConnections(backendName: string, identities: readonly string[]): Promise<Connection[]> {
    for (const [i, identity] of identities.entries()) {
      const unfit = unfitIdentity(identity);
      if (unfit) return Promise.reject(new InvalidInputError("identity", unfit, identities.length > 1 ? i : undefined));
    }
    return this.store.lookupConnections({ backend: backendName, identities });
  }

  connectionLanguages(connectionIds: readonly number[]): Promise<Record<number, string>> {
    return this.store.connectionLanguages(connectionIds);
  }

  get contacts(): AppContacts {
    return this.store;
  }

  get optOuts(): AppOptOuts {
    return this.store;
  }

  /** `backend "x" is not installed; installed: …` when no backend has that name, else undefined. */
  notInstalled(backendName: string): string | undefined {
    if (this.backends.has(backendName)) return undefined;
    return `backend "${backendName}" is not installed; installed: ${[...this.backends.keys()].join(", ")}`;
  }

  /** Why `backendName` cannot send to `identity` (see BackendBase.identityPattern), or undefined. */
  unsendable(backendName: string, identity: string): string | undefined {
    const engine = this.engines.get(backendName);
    return unfitIdentity(identity, engine?.identityPattern, engine?.identityRule);
  }

  /**
   * Stores an inbound message durably (status Q), deduplicated by its gateway id. A worker of
   * this process with room takes it straight from here: it is stored claimed by that worker, so
   * no other takes it unless this process dies.
   */
  async accept(msg: IncomingMessage): Promise<{ id: string; duplicate: boolean }> {
    checkText(msg.text);
    checkExternalId(msg);
    const place = this.active ? this.queue.local?.reserveInbound() : undefined;
    const claim = place ? this.leases.claim() : undefined;
    const connection = msg.connection;
    let accepted: { id: string; duplicate: boolean };
    try {
      accepted = await this.store.acceptIncoming({
        message: { id: msg.id, text: msg.text, fields: msg.fields, connection },
        dedupeWindowMs: this.options.dedupeWindowMs,
        claim,
      });
    } catch (error) {
      place?.cancel();
      throw error;
    }
    if (accepted.duplicate) {
      place?.cancel();
    } else if (place && claim) {
      // The fields as a worker would read them back from the store (JSON), whichever path it takes.
      const fields = JSON.parse(JSON.stringify(msg.fields));
      place.run(this.processor.job({ id: msg.id, text: msg.text, fields, connection, token: claim.token, attempt: 1 }));
    } else {
      await handOver(this.logger, () => this.queue.incomingAccepted(msg.id));
    }
    return accepted;
  }

  /** Session steps being processed for requests that wait for them. */
  private readonly conversations = new Set<Promise<void>>();
  /** Session steps taken by this process and not done: being stored, or processed. */
  private conversing = 0;
  /** Recent session answers by message id, for a gateway that sends a step again. */
  private readonly answers = new Map<string, { answer: SessionAnswer; at: number }>();

  /**
   * For a gateway that waits for the answer within its request (USSD): stores the message
   * durably like `accept` (a restart loses nothing), processes it at once in this process, and
   * resolves with its replies to the sender, which are recorded as answered rather than sent.
   * Past `deadlineMs` it resolves `late`; processing goes on, and its replies are recorded as
   * failed. A message that fails is tried again later like any other, out of the session.
   */
  async converse(msg: IncomingMessage, { deadlineMs }: { deadlineMs: number }): Promise<Conversation> {
    checkText(msg.text);
    checkExternalId(msg);
    // Counted from here, before the first await: a burst of steps must not all pass the check.
    if (this.conversing >= MAX_CONVERSATIONS) return { outcome: "busy" };
    this.conversing++;
    let handedOver = false;
    try {
      // A web-only process renews its claims too while a step runs here (workers renew theirs anyway).
      this.leases.start();
      const claim = this.leases.claim();
      const accepted = await this.store.acceptIncoming({
        message: { id: msg.id, text: msg.text, fields: msg.fields, connection: msg.connection },
        dedupeWindowMs: this.options.dedupeWindowMs,
        claim,
      });
      if (accepted.duplicate) {
        const kept = this.answers.get(accepted.id);
        return kept ? { outcome: "answered", ...kept.answer } : { outcome: "duplicate" };
      }
      handedOver = true;
      return this.runStep(msg, claim.token, deadlineMs);
    } finally {
      if (!handedOver) this.conversing--;
    }
  }

  /** Processes an accepted step now; it counts among `conversing` until its processing ends. */
  private runStep(msg: IncomingMessage, token: string, deadlineMs: number): Promise<Conversation> {
    const connection = msg.connection;
    const fields = JSON.parse(JSON.stringify(msg.fields));
    return new Promise<Conversation>((resolve) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        resolve({ outcome: "late" });
      }, deadlineMs);
      const job = this.processor.job(
        { id: msg.id, text: msg.text, fields, connection, token, attempt: 1 },
        {
          backend: connection.backend,
          deliver: (answer) => {
            if (!waiting) return false;
            waiting = false;
            clearTimeout(timer);
            this.keepAnswer(msg.id, answer);
            resolve({ outcome: "answered", ...answer });
            return true;
          },
        },
      );
      const running: Promise<void> = job(new AbortController().signal)
        .catch((error: unknown) => this.logger.error({ err: error, messageId: msg.id }, "processing a session's step failed"))
        .finally(() => {
          this.conversations.delete(running);
          this.conversing--;
          if (!waiting) return;
          waiting = false;
          clearTimeout(timer);
          resolve({ outcome: "failed" });
        });
      this.conversations.add(running);
    });
  }

  private keepAnswer(id: string, answer: SessionAnswer): void {
    const now = Date.now();
    for (const [kept, { at }] of this.answers) {
      if (this.answers.size < KEPT_ANSWERS && now - at < KEPT_ANSWER_MS) break;
      this.answers.delete(kept);
    }
    this.answers.set(id, { answer, at: now });
  }

  /** Stores an outgoing message with one queued transmission per connection, and tells the queue. */
  async enqueue(msg: OutgoingMessage, { priority, sendAt }: { priority: number; sendAt?: Date | string | number }): Promise<void> {
    checkText(msg.text);
    if (msg.eventUrl !== undefined) this.forwards.checkEventUrl(msg.eventUrl);
    const record = outgoingRecord(msg, priority, scheduledTime(sendAt));
    await this.store.enqueueOutgoing({ message: record });
    if (record.eventUrl) this.forwards.wake();
    this.events.emitQueued([record]);
    await handOver(this.logger, () => this.queue.outgoingQueued(outgoingWork(record)));
  }

  /** Cancels what is still queued of an outbound message (see ScheduledStore.cancelOutgoing), and tells the status listeners. */
  cancelOutgoing(id: string): ReturnType<Store["cancelOutgoing"]> {
    return cancelOutgoing(this.store, this.events, id);
  }

  /** Why status events cannot be POSTed to `url` (no secret, a host not allowed, …), or undefined. */
  eventUrlRefusal(url: string): string | undefined {
    try {
      this.forwards.checkEventUrl(url);
      return undefined;
    } catch (error) {
      if (error instanceof InvalidInputError) return error.reason;
      throw error;
    }
  }

  /** Queues the POST of an inbound message to another app, once per message and url (see RouterApi.forward). */
  forward(msg: IncomingMessage, { url }: { url: string }): Promise<void> {
    return this.forwards.forward(msg, url);
  }

  claimIncoming(limit: number, only?: string): Promise<Job[]> {
    return this.processor.claim(limit, only);
  }

  claimSends(limit: number, only?: OutgoingWork): Promise<Job[]> {
    return this.sender.claim(limit, only);
  }

  async hasDueSends(work: OutgoingWork): Promise<boolean> {
    return (await this.store.dueTransmissions({ work })) > 0;
  }

  staleOutgoing(): Promise<OutgoingWork[]> {
    return this.store.staleOutgoing({ graceMs: this.options.staleAfterMs, limit: 1_000 });
  }

  /** Starts the background work (a worker's role): processing accepted messages and sending queued ones. */
  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.leases.start();
    for (const backend of this.backends.values()) await backend.start();
    this.forwards.start();
    await this.queue.consume(this, {
      inboundConcurrency: this.options.inboundConcurrency,
      sendConcurrency: this.options.sendConcurrency,
      pollMs: this.options.pollMs,
      backends: [...this.backends.keys()],
    });
    let lastPurge = Date.now();
    this.housekeeping = setInterval(() => {
      const now = Date.now();
      if (now - lastPurge < 10 * 60_000) return;
      lastPurge = now;
      void this.store
        .purgeDedupe({ olderThan: now - this.options.dedupeWindowMs, keptReportsOlderThan: now - keptReportsMs(this.options) })
        .catch((error) => this.logger.error({ err: error }, "purging old gateway ids failed"));
    }, 60_000);
    this.housekeeping.unref();
    this.retention?.start();
  }

  /**
   * Stops taking work and waits for the work under way, `shutdownTimeoutMs` at most (or
   * `timeoutMs`); work still running then is given back for other workers, and this resolves.
   */
  async stop({ timeoutMs = this.options.shutdownTimeoutMs }: { timeoutMs?: number } = {}): Promise<void> {
    // Session steps run in whichever process took their request, workers or not.
    if (this.conversations.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([Promise.allSettled([...this.conversations]), deadline]);
      clearTimeout(timer);
      // Steps still running then are given back, as workers' jobs are: another process takes them at once.
      if (this.conversations.size > 0)
        await this.leases.release().catch((error) => this.logger.error({ err: error }, "giving back unfinished session steps failed; their leases run out"));
    }
    if (!this.active) {
      this.leases.stop();
      return;
    }
    this.active = false;
    clearInterval(this.housekeeping);
    await this.retention?.stop();
    // Work still running at the deadline is given back before it is told to stop, so that
    // whatever it writes as it stops is fenced out.
    let released: Promise<void> | undefined;
    const onDeadline = () =>
      (released ??= this.leases.release().catch((error) => this.logger.error({ err: error }, "giving back unfinished work failed; its leases run out")));
    await Promise.all([this.queue.stop({ timeoutMs, onDeadline }), this.forwards.stop({ timeoutMs, onDeadline })]);
    this.leases.stop();
  }

  /** Lets go of the backends' connections to their gateways. */
  async closeBackends(): Promise<void> {
    await Promise.allSettled([...this.backends.values()].map((backend) => backend.close()));
  }

  /**
   * Resolves when everything is done: every accepted message processed and every transmission
   * final (S, D or E), retries included. For tests and tools; a server never needs it.
   */
  async idle(): Promise<void> {
    for (;;) {
      while (this.queue.busy) await sleep(2);
      const pending = await this.store.pendingWork();
      if (pending.inbound === 0 && pending.outbound === 0 && pending.nextRetryAt === null) return;
      await sleep(pending.nextRetryAt === null ? 5 : Math.max(5, Math.min(1_000, pending.nextRetryAt - Date.now())));
    }
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
      await sleep(10);
    }
  }
}
