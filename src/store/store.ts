import type { Connection } from "../messages/connection.ts";
import type { BackendContext, Fields } from "../messages/messages.ts";
import type { Direction, Status } from "../messages/status.ts";

export interface BackendRow {
  id: number;
  name: string;
}

export interface ContactRow {
  id: number;
  name: string;
  language: string;
}

/** S: the gateway took it; retry: a retryable failure, tried again later; E: given up. */
export type AttemptOutcome = "S" | "retry" | "E";

export interface AttemptRecord {
  attempt: number;
  at: string;
  outcome: AttemptOutcome;
  durationMs: number;
  error: string | null;
  answer: string | null;
}

export interface DeliveryReportRecord {
  at: string;
  status: Status;
  detail: string | null;
}

export interface TransmissionRecord {
  id: number;
  connectionId: number;
  backend: string;
  identity: string;
  status: Status;
  error: string | null;
  attempts: number;
  /** Epoch ms of the next try, for a transmission waiting to be retried. */
  nextAttemptAt: number | null;
  externalId: string | null;
  /** SMS parts the gateway sends for it, when the backend reports it. */
  segments: number | null;
  sentAt: string | null;
  deliveredAt: string | null;
}

export interface TransmissionDetail extends TransmissionRecord {
  attemptLog: AttemptRecord[];
  deliveryReports: DeliveryReportRecord[];
}

export interface MessageRecord {
  id: string;
  direction: Direction;
  status: Status;
  text: string;
  fields: Fields;
  context: BackendContext;
  externalId: string | null;
  inResponseTo: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  transmissions: TransmissionRecord[];
}

export interface IncomingRecordInit {
  id: string;
  text: string;
  fields: Fields;
  connection: Connection;
}

/** A lease on work: `owner` has it until `until` (epoch ms). */
export interface Claim {
  owner: string;
  until: number;
}

export interface IncomingResult {
  status: "R" | "E";
  error?: string;
  replies: readonly OutgoingRecordInit[];
}

export interface AcceptOptions {
  /** A redelivery of the same gateway id on the same backend within this window is a duplicate. */
  dedupeWindowMs: number;
  now?: number;
  /** Stores the message already claimed, by `owner` until `until` (epoch ms): a worker in the accepting process takes it. */
  claim?: Claim;
}

export interface AcceptResult {
  /** The stored message's id: the new one, or for a duplicate the original's. */
  id: string;
  duplicate: boolean;
}

export interface OutgoingRecordInit {
  id: string;
  text: string;
  fields: Fields;
  context: BackendContext;
  inResponseTo: string | null;
  connections: readonly Connection[];
  /** Higher first; replies go before bulk sends. */
  priority?: number;
}

export interface ClaimedIncoming {
  id: string;
  text: string;
  fields: Fields;
  connection: Connection;
}

export interface ClaimedTransmission {
  id: number;
  messageId: string;
  text: string;
  context: BackendContext;
  backend: string;
  identity: string;
  /** Counting this one. */
  attempt: number;
}

/** Outbound work of one message on one backend. */
export interface OutgoingWork {
  messageId: string;
  backend: string;
  priority?: number;
  /** Epoch ms before which there is nothing to send (a retry's time). */
  notBefore?: number;
}

export interface SendOutcome {
  transmissionId: number;
  /** The transmission's message, when the caller has it at hand: saves looking it up. */
  messageId?: string;
  attempt: number;
  /** S sent, Q to retry at `nextAttemptAt`, E given up. */
  status: "S" | "Q" | "E";
  nextAttemptAt?: number;
  error?: string | null;
  answer?: string | null;
  externalId?: string | null;
  segments?: number | null;
  durationMs: number;
}

/** Which transmission a delivery report is about. */
export type TransmissionRef = { transmissionId: number } | { messageId: string; identity: string } | { backend: string; externalId: string };

export interface DeliveryReport {
  /** D delivered; E failed; S still on its way (buffered, submitted): recorded, status unchanged. */
  status: "D" | "E" | "S";
  detail?: string;
}

export interface MessageQuery {
  direction?: Direction;
  status?: Status;
  backend?: string;
  identity?: string;
  inResponseTo?: string;
  limit?: number;
  /** Only messages older than this message (keyset paging, newest first). */
  before?: string;
}

export interface PendingWork {
  /** Inbound messages accepted and not yet processed. */
  inbound: number;
  /** Transmissions to send now (queued and due, or claimed). */
  outbound: number;
  /** Epoch ms of the earliest retry waiting, or null. */
  nextRetryAt: number | null;
}

/** A row of the database backend's table: one message per identity, both directions. */
export interface BackendMessage {
  id: number;
  name: string;
  date: string;
  direction: Direction;
  messageId: string;
  externalId: string;
  identity: string;
  text: string;
}

export type BackendMessageInit = Omit<BackendMessage, "id" | "date">;

export interface BackendMessageQuery {
  name: string;
  identity?: string;
  direction?: Direction;
  limit?: number;
  offset?: number;
}

/**
 * Everything the system persists, and the durable queues on it: accepted inbound messages wait
 * as Q until a worker claims them; outbound transmissions wait as Q until a sender claims them.
 * A claim is a lease: work whose lease ran out (its process died) is claimed again. The embedded
 * SQLite store implements it; every implementation passes store.contract.ts.
 */
export interface Store {
  /** Creates or upgrades the schema; safe to run on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;

  getOrCreateBackend(name: string): Promise<BackendRow>;
  /** Get-or-create one connection per identity on the named backend, in input order. */
  lookupConnections(backendName: string, identities: readonly string[]): Promise<Connection[]>;

  createContact(init: { name?: string; language?: string }): Promise<ContactRow>;
  getContact(id: number): Promise<ContactRow | undefined>;
  setConnectionContact(connectionId: number, contactId: number | null): Promise<void>;

  /**
   * Durably records an inbound message (status Q) unless `fields.externalId` was already
   * accepted on the same backend within the dedupe window.
   */
  acceptIncoming(init: IncomingRecordInit, options: AcceptOptions): Promise<AcceptResult>;
  /** Leases up to `limit` unprocessed inbound messages to `owner`, oldest first (or just message `only`). */
  claimIncoming(owner: string, limit: number, leaseMs: number, now?: number, only?: string): Promise<ClaimedIncoming[]>;
  /**
   * Marks an inbound message R or E and queues its replies, in one transaction. With `claim`, the
   * replies' transmissions are stored already claimed (P, first attempt) by `claim.owner` and
   * returned, for a sender of that process to send at once; without, they are queued (Q) and none
   * are returned. Returns nothing either way when the message was already completed.
   */
  completeIncoming(id: string, result: IncomingResult, options?: { claim?: Claim }): Promise<ClaimedTransmission[]>;

  /** Records an outbound message (P) with one queued transmission (Q) per connection. */
  enqueueOutgoing(init: OutgoingRecordInit): Promise<void>;
  /**
   * Leases up to `limit` due transmissions to `owner` (marking them P), by priority then age;
   * `only` limits them to one message on one backend.
   */
  claimTransmissions(owner: string, limit: number, leaseMs: number, now?: number, only?: OutgoingWork): Promise<ClaimedTransmission[]>;
  /** How many transmissions of `work` are due now (queued and due, or claimed with an expired lease). */
  dueTransmissions(work: OutgoingWork, now?: number): Promise<number>;
  /**
   * Outbound work nobody seems to be on: transmissions due for longer than `graceMs`, or claimed
   * by a process whose lease ran out. For queues whose jobs can be lost (a web process dying
   * between its commit and the enqueue).
   */
  staleOutgoing(graceMs: number, limit: number, now?: number): Promise<OutgoingWork[]>;
  /** Records one send attempt's outcomes and re-derives each message's status; returns them by message id. */
  recordAttempts(outcomes: readonly SendOutcome[]): Promise<Map<string, Status>>;
  /** Extends the leases `owner` holds. */
  renewClaims(owner: string, leaseMs: number, now?: number): Promise<void>;
  /** Gives back what `owner` claimed and did not finish, to be claimed again at once. */
  releaseClaims(owner: string): Promise<void>;
  /** What is left to do; `nextRetryAt` tells a worker when to look again. */
  pendingWork(now?: number): Promise<PendingWork>;
  /**
   * Reserves the next send slot of a rate-limited backend, for every process on this store:
   * returns the epoch ms at which this send may go (now, or later), one `intervalMs` after the last.
   */
  reserveSendSlot(backend: string, intervalMs: number, now?: number): Promise<number>;
  /** Forgets gateway ids accepted before `olderThan` (epoch ms); returns how many. */
  purgeDedupe(olderThan: number): Promise<number>;

  /**
   * Records a gateway's delivery report on a transmission: D and E update its status (and the
   * message's), S is recorded only. Returns the transmission's id, or null when none matches.
   */
  reportDelivery(ref: TransmissionRef, report: DeliveryReport): Promise<number | null>;

  getMessage(id: string): Promise<MessageRecord | undefined>;
  /** One transmission with every attempt and delivery report. */
  getTransmission(id: number): Promise<TransmissionDetail | undefined>;
  /** Newest first. */
  listMessages(query: MessageQuery): Promise<MessageRecord[]>;

  addBackendMessages(rows: readonly BackendMessageInit[]): Promise<void>;
  /** Newest first. */
  listBackendMessages(query: BackendMessageQuery): Promise<BackendMessage[]>;
  countBackendMessages(query: Omit<BackendMessageQuery, "limit" | "offset">): Promise<number>;
  clearBackendMessages(name: string, identity?: string): Promise<number>;
}
