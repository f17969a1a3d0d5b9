import type { HeldPart, HoldOutcome } from "../messages/parts.ts";
import type { Kysely } from "kysely";
import type { Connection } from "../messages/connection.ts";
import type { StoreNaming } from "./kysely/naming.ts";
import type { BackendContext, Fields } from "../messages/messages.ts";
import type { DeliveryReport, Direction, Status } from "../messages/status.ts";

export interface BackendRow {
  id: number;
  name: string;
}

/** A connection named by its backend and identity, as people and the API know it. */
export interface ConnectionRef {
  backend: string;
  identity: string;
}

/** A person: their name, language and fields of the service's own, the connections they text from, and their groups. */
export interface ContactRecord {
  id: number;
  name: string;
  /** A language tag (`en`, `sw`, `pt-BR`), or "" for the configured default. */
  language: string;
  fields: Fields;
  connections: ConnectionRef[];
  groups: { id: number; name: string }[];
  createdOn: string;
  modifiedOn: string;
}

export interface ContactInit {
  name?: string;
  language?: string;
  fields?: Fields;
  /** The contact's connections; each is made when missing, and moved from another contact when linked. */
  connections?: readonly ConnectionRef[];
  /** Ids of the groups the contact belongs to. */
  groups?: readonly number[];
}

export interface GroupRecord {
  id: number;
  name: string;
  description: string;
  /** How many contacts belong to it. */
  members: number;
  createdOn: string;
  modifiedOn: string;
}

/** A page of a list by id: `next` is the `after` of the next page, or null on the last. */
export interface Page<T> {
  items: T[];
  total: number;
  next: number | null;
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
  /** When a scheduled outbound message was to go (ISO 8601); null when it was sent at once. */
  sendAt: string | null;
  /** Inbound: the app whose handle (or default) phase answered it; null when none did, or not processed yet. */
  handledBy: string | null;
  /** Inbound: when it was processed (R), or null. */
  processedAt: string | null;
  /**
   * Its recipients in id order: every one from getMessage; from listMessages and searchMessages
   * the first LISTED_TRANSMISSIONS only (a bulk message has up to 10,000), with `recipients`
   * counting them all.
   */
  transmissions: TransmissionRecord[];
}

/** How many transmissions a listed message carries at most (see MessageRecord.transmissions). */
export const LISTED_TRANSMISSIONS = 20;

/** A message's transmissions by status, and all of them. */
export type RecipientCounts = { total: number } & Record<Status, number>;

/** A message as listMessages and searchMessages give it: its first transmissions, and the counts of all. */
export interface ListedMessage extends MessageRecord {
  recipients: RecipientCounts;
}

/** A message with one page of its recipients (in id order), each with every attempt and delivery report. */
export interface MessageDetail extends Omit<ListedMessage, "transmissions"> {
  transmissions: TransmissionDetail[];
  /** The `recipientsAfter` of the next page of recipients; null on the last. */
  nextRecipients: number | null;
}

/**
 * A lease on work. `token` names this one claim (a process makes many), and every write that
 * finishes the work must present it: a worker whose lease ran out and was taken over finds its
 * token gone, and its write is not applied (fencing).
 */
export interface Claim {
  token: string;
  /** Epoch ms the lease lasts until, unless renewed. */
  until: number;
}

export interface IncomingRecordInit {
  id: string;
  text: string;
  fields: Fields;
  connection: Connection;
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
  /** A scheduled send: epoch ms before which none of its transmissions is sent. */
  notBefore?: number;
  /** Where each status change of its transmissions is POSTed (see WebhookStore); checked by the caller. */
  eventUrl?: string | null;
}

export interface AcceptResult {
  /** The stored message's id: the new one, or for a duplicate the original's. */
  id: string;
  duplicate: boolean;
}

export interface ClaimedIncoming {
  id: string;
  text: string;
  fields: Fields;
  connection: Connection;
  /** The claim this message is held under. */
  token: string;
  /** Counting this one. */
  attempt: number;
}

export interface ClaimedTransmission {
  id: number;
  messageId: string;
  text: string;
  context: BackendContext;
  backend: string;
  identity: string;
  /** The claim this transmission is held under. */
  token: string;
  /** Counting this one. */
  attempt: number;
  /** The recipient opted out (and this is not the confirmation of it): recorded E `opted out`, never sent. */
  optedOut?: boolean;
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
  /** The claim the transmission was sent under: the outcome applies only if it still holds. */
  token: string;
  attempt: number;
  /** S sent, Q to retry at `nextAttemptAt`, E given up. */
  status: "S" | "Q" | "E";
  nextAttemptAt?: number;
  error?: string | null;
  answer?: string | null;
  externalId?: string | null;
  /** The gateway's id of each part, for a message sent in parts whose receipts come per part (the first is `externalId`). */
  partIds?: readonly string[] | null;
  segments?: number | null;
  durationMs: number;
}

export interface RecordedAttempts {
  /** Each message's status after the outcomes, by message id. */
  statuses: Map<string, Status>;
  /** Transmissions whose claim was no longer the outcome's: nothing was written for them. */
  fenced: number[];
  /**
   * What the kept reports that these answers let land changed, in order (after the outcomes, which
   * are written as given unless fenced). Usually none.
   */
  keptReports: TransmissionChange[];
  /**
   * Transmissions whose outcome was a retry (Q) but whose message was cancelled while they were
   * being sent: they ended E with the error `cancelled` instead (see ScheduledStore.cancelOutgoing).
   */
  cancelled: number[];
}

/** A transmission's new status, as recorded. */
export interface TransmissionChange {
  transmissionId: number;
  /** Its message and recipient, when the write had them at hand. */
  messageId?: string;
  identity?: string;
  status: Status;
  error: string | null;
}

/** Which transmission a delivery report is about; a gateway id and a message id name transmissions on one backend. */
export type TransmissionRef =
  | { transmissionId: number }
  | { backend: string; messageId: string; identity: string }
  | { backend: string; externalId: string }
  /** The gateway's id if it is one, else our message id if that message went to just one recipient there. */
  | { backend: string; externalIdOrMessageId: string };

export interface ReportResult {
  /** The transmissions the report is about; empty when it matched none (yet). */
  transmissionIds: number[];
  /** True when it named a gateway id no transmission has yet: it is kept, and applied when a send's answer brings that id. */
  kept?: boolean;
  /** Why it matched none (or could not tell which), when it did not and was not kept. */
  unmatched?: string;
  /** The transmissions it moved (D or E); a report recorded before, or an S, moves none. */
  changes?: TransmissionChange[];
}

export interface MessageQuery {
  direction?: Direction;
  status?: Status;
  backend?: string;
  identity?: string;
  inResponseTo?: string;
  /** A case-insensitive substring of the text (ASCII letters only on SQLite); `%` and `_` are plain characters. */
  text?: string;
  /** Only messages created at or after this ISO time. */
  since?: string;
  /** Only messages created before this ISO time. */
  until?: string;
  limit?: number;
  /** Only messages older than this message (keyset paging, newest first). */
  before?: string;
}

export interface PendingWork {
  /** Inbound messages accepted and not yet processed (due now, or claimed). */
  inbound: number;
  /** Transmissions to send now (queued and due, or claimed). */
  outbound: number;
  /** Epoch ms of the earliest retry waiting (inbound or outbound), or null. */
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

/** Backends, connections and contacts. */
export interface ConnectionStore {
  getOrCreateBackend(name: string): Promise<BackendRow>;
  /** Get-or-create one connection per identity on the named backend, in input order. */
  lookupConnections(args: { backend: string; identities: readonly string[] }): Promise<Connection[]>;
  setConnectionContact(args: { connectionId: number; contactId: number | null }): Promise<void>;
}

/** Contacts and their groups; a group name is unique. */
export interface ContactStore {
  createContact(args: ContactInit): Promise<ContactRecord>;
  getContact(id: number): Promise<ContactRecord | undefined>;
  /** Contacts by id, optionally only a group's members. */
  listContacts(args: { limit: number; after?: number; group?: number }): Promise<Page<ContactRecord>>;
  /** Changes what is given; `connections` and `groups`, when given, replace the contact's. Undefined when there is no such contact. */
  updateContact(args: { id: number } & ContactInit): Promise<ContactRecord | undefined>;
  deleteContact(id: number): Promise<boolean>;
  /** Undefined when a group of that name exists. */
  createGroup(args: { name: string; description?: string }): Promise<GroupRecord | undefined>;
  getGroup(args: { id: number } | { name: string }): Promise<GroupRecord | undefined>;
  listGroups(args: { limit: number; after?: number }): Promise<Page<GroupRecord>>;
  /** Undefined when there is no such group; `conflict` when another group has the name. */
  updateGroup(args: { id: number; name?: string; description?: string }): Promise<GroupRecord | "conflict" | undefined>;
  deleteGroup(id: number): Promise<boolean>;
  /** Adds and removes members (contact ids that do not exist are ignored); undefined when there is no such group. */
  changeGroupMembers(args: { group: number; add?: readonly number[]; remove?: readonly number[] }): Promise<GroupRecord | undefined>;
  /** The language of the contact of each of these connections that has one ("" means the default), by connection id. */
  connectionLanguages(ids: readonly number[]): Promise<Record<number, string>>;
  /** Where a broadcast to the group goes: each member's first connection (on `backend`, when given). */
  groupConnections(args: { group: number; backend?: string }): Promise<Connection[]>;
}

/** A session a gateway holds open across messages (a USSD dialogue), as of its latest step. */
export interface SessionRecord {
  backend: string;
  /** The gateway's session id. */
  key: string;
  identity: string;
  /** The inbound message that opened it: a retried first step is still the session's first. */
  firstMessageId: string;
  /** Steps saved so far. */
  steps: number;
  /** What apps keep between steps (JSON). */
  state: Record<string, unknown>;
  startedAt: string;
  updatedAt: string;
  endedAt: string | null;
}

/** One step of a session as it is saved: what apps left in its state, and whether it ended. */
export interface SessionStep {
  backend: string;
  key: string;
  state: Record<string, unknown>;
  ended: boolean;
  now?: number;
}

/** Sessions, by backend and gateway session key. */
export interface SessionStore {
  /**
   * The session `key` on `backend` as of this step, opened by `messageId` when there is none.
   * With `restart` (the gateway says a session begins), a session kept under the key from an
   * earlier message starts afresh.
   */
  openSession(args: { backend: string; key: string; identity: string; messageId: string; restart?: boolean; now?: number }): Promise<SessionRecord>;
  /** Saves a step: the state apps left, one more step, and the end when the session ended. */
  saveSession(args: SessionStep): Promise<void>;
}

/** Parts of long inbound messages (concatenated SMS), by backend and a key the backend makes of the message. */
export interface PartStore {
  /**
   * Keeps a part durably, and answers the message's parts in order once it has `total` of them.
   * A part kept already (the same number and gateway id), also of a message received and
   * released, is a duplicate. A part under the key of an incomplete message that has that part
   * number with another id begins a new message: the old one is handed back as `displaced`.
   */
  holdInboundPart(args: {
    backend: string;
    key: string;
    part: { number: number; total: number; text: string; fields?: Record<string, unknown>; externalId?: string };
    now?: number;
  }): Promise<HoldOutcome>;
  /** Marks the parts a message was made of received: they are kept until the purge, so that one sent again is known. */
  releaseInboundParts(args: { backend: string; key: string; parts: readonly Pick<HeldPart, "number" | "externalId">[]; now?: number }): Promise<void>;
  /** Messages whose first part came before `olderThan` and that are still not whole, `limit` at most. */
  expiredInboundParts(args: { backend: string; olderThan: number; limit: number }): Promise<{ key: string; parts: HeldPart[] }[]>;
}

/** Accepted inbound messages, their claims and their completion. */
export interface InboundStore {
  /**
   * Durably records an inbound message (status Q) unless `fields.externalId` was already
   * accepted on the same backend within the dedupe window. With `claim`, it is stored already
   * claimed (its first attempt), for a worker of this process to take at once.
   */
  acceptIncoming(args: { message: IncomingRecordInit; dedupeWindowMs: number; now?: number; claim?: Claim }): Promise<AcceptResult>;
  /**
   * Leases up to `limit` due unprocessed inbound messages under `claim`, oldest first (or just
   * message `only`). A message already tried `maxAttempts` times is not handed out: it ends E.
   */
  claimIncoming(args: { claim: Claim; limit: number; maxAttempts: number; now?: number; only?: string }): Promise<ClaimedIncoming[]>;
  /**
   * Marks a claimed inbound message R and queues its replies, in one transaction, if `token`
   * still holds it. With `claimReplies`, the replies' transmissions are stored already claimed
   * (P, first attempt) and returned. `applied` is false when the claim was lost (fenced out).
   */
  completeIncoming(args: {
    id: string;
    token: string;
    replies: readonly OutgoingRecordInit[];
    claimReplies?: Claim;
    /** The message's session step, saved in the same transaction (see SessionStore.saveSession). */
    session?: SessionStep;
    /** The app that handled it (see MessageRecord.handledBy), written by the same statement. */
    handledBy?: string | null;
  }): Promise<{ applied: boolean; claimed: ClaimedTransmission[] }>;
  /**
   * A claimed message's processing failed: back to the queue at `nextAttemptAt`, or E with the
   * reason when `nextAttemptAt` is null (given up). False when the claim was lost.
   */
  failIncoming(args: { id: string; token: string; error: string; nextAttemptAt: number | null }): Promise<boolean>;
}

/** Outbound messages, their transmissions, claims and attempts. */
export interface OutboundStore {
  /** Records an outbound message (P) with one queued transmission (Q) per connection. */
  enqueueOutgoing(args: { message: OutgoingRecordInit }): Promise<void>;
  /**
   * Leases up to `limit` due transmissions under `claim` (marking them P), by priority then age;
   * `only` limits them to one message on one backend. A transmission whose claim ran out after
   * `maxAttempts` tries is not handed out again: it ends E.
   */
  claimTransmissions(args: { claim: Claim; limit: number; maxAttempts: number; now?: number; only?: OutgoingWork }): Promise<ClaimedTransmission[]>;
  /** How many transmissions of `work` are due now (queued and due, or claimed with an expired lease). */
  dueTransmissions(args: { work: OutgoingWork; now?: number }): Promise<number>;
  /**
   * Outbound work nobody seems to be on: transmissions due for longer than `graceMs`, or claimed
   * by a process whose lease ran out. For queues whose jobs can be lost.
   */
  staleOutgoing(args: { graceMs: number; limit: number; now?: number }): Promise<OutgoingWork[]>;
  /**
   * Records one send's outcomes (each applied only if its claim still holds), logs each attempt
   * and re-derives each message's status. A delivery report that overtook the answer keeps its
   * status; the send's time, gateway id and segments are recorded all the same.
   */
  recordAttempts(args: { outcomes: readonly SendOutcome[] }): Promise<RecordedAttempts>;
  /**
   * Reserves the next send slot of a rate-limited backend, for every process on this store:
   * returns the epoch ms at which this send may go (now, or later), one `intervalMs` after the last.
   */
  reserveSendSlot(args: { backend: string; intervalMs: number; now?: number }): Promise<number>;
}

/** What cancelling an outbound message did (see ScheduledStore.cancelOutgoing). */
export interface CancelResult {
  /** Transmissions moved from Q to E with the error `cancelled`. */
  cancelled: number;
  /** Transmissions claimed (P) at that moment: being sent, perhaps at the gateway already, so left alone. */
  sending: number;
  /** Transmissions sent or delivered (S, D) before. */
  sent: number;
  /** Transmissions that had failed (E) before. */
  failed: number;
  /** The message's status after the cancel. */
  status: Status;
  /** What the cancel changed, for status events: each cancelled recipient, now E. */
  changes: (TransmissionChange & { backend: string })[];
}

/** Scheduled sends: what is queued and not yet claimed can be called off. */
export interface ScheduledStore {
  /**
   * Cancels an outbound message's transmissions still queued (Q, not claimed): each ends E with
   * the error `cancelled`, no attempt is logged, and the message's status is derived again. A
   * transmission claimed (P) is left to its sender, and is not tried again: if that send fails,
   * or its claim runs out, it ends E `cancelled`. Undefined for an unknown id; `inbound` for an
   * inbound message.
   */
  cancelOutgoing(args: { id: string; now?: number }): Promise<CancelResult | "inbound" | undefined>;
}

/** Leases on claimed work, by claim token: found through indexes, never by scanning history. */
export interface ClaimStore {
  /** Extends the leases of these claims to `until`. */
  renewClaims(args: { tokens: readonly string[]; until: number }): Promise<void>;
  /** Gives back what these claims hold and did not finish, to be claimed again at once (the attempt does not count). */
  releaseClaims(args: { tokens: readonly string[] }): Promise<void>;
}

/** Delivery reports and the dedupe window. */
export interface DeliveryStore {
  /**
   * Records a gateway's delivery report once (the same report again is not recorded again): D and
   * E update the transmission (and its message), S is recorded only. A report naming a gateway id
   * that no transmission has yet is kept until a send's answer brings that id.
   */
  reportDelivery(args: { ref: TransmissionRef; report: DeliveryReport; now?: number }): Promise<ReportResult>;
  /**
   * Forgets inbound gateway ids accepted before `olderThan` (epoch ms), and kept reports received
   * before `keptReportsOlderThan` (default: `olderThan`); returns how many gateway ids it forgot.
   */
  purgeDedupe(args: { olderThan: number; keptReportsOlderThan?: number }): Promise<number>;
}

/** What people and tools read. */
export interface ReadStore {
  getMessage(id: string): Promise<MessageRecord | undefined>;
  /** One transmission with every attempt and delivery report. */
  getTransmission(id: number): Promise<TransmissionDetail | undefined>;
  /** Newest first. */
  listMessages(query: MessageQuery): Promise<MessageRecord[]>;
  /** What is left to do; `nextRetryAt` tells a worker when to look again. */
  pendingWork(args?: { now?: number }): Promise<PendingWork>;
}

/** Where a purge stopped: the last message it looked at, by creation time and id. */
export interface PurgeCursor {
  createdAt: string;
  id: string;
}

export interface PurgeResult {
  messages: number;
  /** Transmissions deleted, with their messages or (for a message with more than `maxTransmissions`) a slice of one message's. */
  transmissions: number;
  backendMessages: number;
  /** Where the next call goes on (`after`), or null when no finished message of that age is left after this one. */
  next: PurgeCursor | null;
}

/** Keeping the database from growing for ever (the config's `retention`). */
export interface RetentionStore {
  /**
   * Deletes finished messages created and last changed before `olderThan` (epoch ms), oldest
   * first, after `after`: up to `limit` messages and about `maxTransmissions` transmissions (2,000
   * by default), each with its attempts, delivery reports, part ids and webhook deliveries, in one
   * short transaction; a message with more recipients than that goes a slice of transmissions a
   * call. Also up to `limit` rows of the database backend's table older than that. Finished: an
   * inbound message processed (R) or failed (E) with no reply still to send; an outbound one whose
   * every transmission is S, D or E; neither with a webhook delivery still due.
   */
  purgeFinished(args: { olderThan: number; limit: number; maxTransmissions?: number; after?: PurgeCursor | null }): Promise<PurgeResult>;
}

/** Messages in one hour (UTC), by direction. */
export interface HourlyCount {
  /** The hour's start, ISO (`2026-12-02T01:00:00.000Z`). */
  hour: string;
  in: number;
  out: number;
}

/**
 * One backend's outbound transmissions: `delivered` D, `failed` E, `sent` S (the gateway took
 * it, no delivery report yet), `pending` Q or P (waiting to be sent, or being sent).
 */
export interface BackendOutcomes {
  backend: string;
  delivered: number;
  failed: number;
  sent: number;
  pending: number;
}

export interface MessageStats {
  since: string;
  until: string;
  /** Only the hours that had messages, oldest first. */
  hourly: HourlyCount[];
  /** Transmissions of the outbound messages created in the window, by backend name. */
  backends: BackendOutcomes[];
}

/** A page of a search whose text was looked for in a bounded number of messages. */
export interface MessageSearch {
  messages: ListedMessage[];
  /**
   * The oldest message the text was looked for in, when the scan stopped at its limit before the
   * page filled: older matches may exist, and `before` this id finds them. Null otherwise.
   */
  scannedTo: string | null;
}

/** What the message log reads: bounded searches, and counts over a window of creation times. */
export interface MessageLogStore {
  /**
   * listMessages, but a filter no index serves in order (a `text`; a `status` without a
   * `direction`; a `backend` without an `identity`) is looked for in `scanLimit` messages at most
   * (the newest of the range, of the direction when given): a search never reads the whole log.
   */
  searchMessages(query: MessageQuery & { scanLimit: number }): Promise<MessageSearch>;
  messageStats(args: { since: string; until: string }): Promise<MessageStats>;
  /** A message with `recipientsLimit` of its recipients, those after the transmission id `recipientsAfter`. */
  getMessageDetail(args: { id: string; recipientsAfter?: number; recipientsLimit: number }): Promise<MessageDetail | undefined>;
  /** Up to `limit` of a message's transmissions after the id `after`, in id order; only those of `backend` and `identity` (with or without `+`) when given. */
  messageRecipients(args: { messageId: string; after?: number; limit: number; backend?: string; identity?: string }): Promise<TransmissionRecord[]>;
}

/** The backlog /metrics reports, read at each scrape. */
export interface QueueDepth {
  /** Inbound messages accepted and not yet processed (Q). */
  inboundQueued: number;
  /** How long ago the oldest of them was accepted, in seconds; 0 when there is none. */
  inboundOldestSeconds: number;
  /** Outbound transmissions due now: queued and due, or claimed under a lease that ran out. */
  transmissionsDue: number;
  /** How long the one due the longest has been due, in seconds; 0 when none is. */
  oldestDueSeconds: number;
}

/** What /metrics reads from the store: one cheap query on the queues' indexes. */
export interface MetricsStore {
  queueDepth(args?: { now?: number }): Promise<QueueDepth>;
}

/** The database backend's table (and the message tester's conversation). */
export interface BackendMessageStore {
  addBackendMessages(rows: readonly BackendMessageInit[]): Promise<void>;
  /** Newest first. */
  listBackendMessages(query: BackendMessageQuery): Promise<BackendMessage[]>;
  countBackendMessages(query: Omit<BackendMessageQuery, "limit" | "offset">): Promise<number>;
  clearBackendMessages(args: { name: string; identity?: string }): Promise<number>;
}

/** Q queued, P being POSTed, S accepted by the receiver, E given up. */
export type WebhookStatus = "Q" | "P" | "S" | "E";

/** One POST of the webhook outbox, as people see it. */
export interface WebhookRecord {
  id: number;
  /** `message`: an inbound message forwarded (the webhook app); `status`: a status change for an eventUrl. */
  kind: "message" | "status";
  transmissionId: number | null;
  url: string;
  status: WebhookStatus;
  attempts: number;
  /** Epoch ms of the next try, for one waiting to be retried. */
  nextAttemptAt: number | null;
  error: string | null;
  /** The HTTP status of the last answer, if one came. */
  answerStatus: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface ClaimedWebhook {
  id: number;
  kind: "message" | "status";
  messageId: string;
  url: string;
  /** The JSON to POST, as it is signed. */
  body: string;
  token: string;
  /** Counting this one. */
  attempt: number;
}

/** What one POST came to; applied only if `token` still holds the row. */
export interface WebhookOutcome {
  id: number;
  token: string;
  /** S accepted, Q to retry at `nextAttemptAt`, E given up. */
  status: "S" | "Q" | "E";
  nextAttemptAt?: number;
  /** Why it failed; for an S, what went wrong all the same (replies that could not be read). */
  error?: string | null;
  answerStatus?: number | null;
  answer?: string | null;
  /** Replies the receiver answered with: queued in the transaction that marks it S. */
  replies?: readonly OutgoingRecordInit[];
}

/**
 * The webhook outbox: POSTs to other apps, queued durably and claimed with leases like
 * transmissions. Status events for a message's eventUrl are queued by the writes that change its
 * transmissions (enqueue, recordAttempts, give-ups, reportDelivery), in their transaction.
 */
export interface WebhookStore {
  /** Queues the forward of a stored message to `url`, once: the same message and url again is a duplicate. */
  queueWebhook(args: { messageId: string; url: string; body: string; now?: number }): Promise<{ id: number; duplicate: boolean }>;
  /**
   * Leases up to `limit` due POSTs under `claim` (P), oldest first; a status event waits for the
   * events of its transmission before it. One whose claim ran out after `maxAttempts` tries ends E.
   * With `kind`, only POSTs of that kind (each kind has its own share of the dispatcher's places).
   */
  claimWebhooks(args: { claim: Claim; limit: number; maxAttempts: number; kind?: ClaimedWebhook["kind"]; now?: number }): Promise<ClaimedWebhook[]>;
  /** Records a POST's outcome (and queues its replies) if the claim still holds; `applied` false when fenced out. */
  completeWebhook(args: WebhookOutcome): Promise<{ applied: boolean; queued: OutgoingWork[] }>;
  /** A message's POSTs: the newest `limit` (100 by default: a bulk message with an eventUrl has one per recipient and change), oldest first. */
  listWebhooks(messageId: string, limit?: number): Promise<WebhookRecord[]>;
}

/**
 * Everything the system persists, and the durable queues on it: accepted inbound messages wait
 * as Q until a worker claims them; outbound transmissions wait as Q until a sender claims them.
 * A claim is a lease with a token (see Claim). The embedded SQLite store and the PostgreSQL
 * store implement it; every implementation passes store.contract.ts.
 */
/**
 * The store's database as apps get it for their own tables (see store/app-data/): Kysely without
 * RapidSMS's naming, the database it is, and the naming to apply.
 */
export interface AppDataAccess {
  // biome-ignore lint/suspicious/noExplicitAny: each app types its own tables
  db: Kysely<any>;
  dialect: "sqlite" | "postgres";
  naming: StoreNaming;
}

/** How an opt-out came: a keyword the person sent, the provider's refusal (Twilio's 21610), the API, an operator (the CLI). */
export type OptOutSource = "keyword" | "provider" | "api" | "operator";

/** A connection that opted out: since when, and why. */
export interface OptOutRecord extends ConnectionRef {
  since: string;
  source: OptOutSource;
  /** The keyword sent, the provider's reason, or who made it. */
  detail: string;
  /** The message that opted them out (their STOP), or null. */
  messageId: string | null;
}

/** Opt-outs, one per connection: sends to an opted-out connection end E `opted out` (see ClaimedTransmission.optedOut). */
export interface OptOutStore {
  /** Opts the connection out (made when missing); one that already is keeps its first record: `created` is false then. */
  optOut(args: ConnectionRef & { source: OptOutSource; detail: string; messageId?: string | null }): Promise<{ created: boolean; record: OptOutRecord }>;
  /**
   * Opts the connection back in; false when it was not opted out. With `messageId` (the START that
   * asks), that message is kept: given again, it is true again, and changes nothing (it is being
   * processed again after a failure, and still owed its confirmation).
   */
  optIn(args: ConnectionRef & { messageId?: string | null }): Promise<boolean>;
  getOptOut(args: ConnectionRef): Promise<OptOutRecord | undefined>;
  /** Opt-outs by connection id (`after` is the `next` of the page before), of one backend when given. */
  listOptOuts(args: { limit: number; after?: number; backend?: string }): Promise<Page<OptOutRecord>>;
}

export interface Store
  extends ConnectionStore,
    OptOutStore,
    ContactStore,
    InboundStore,
    OutboundStore,
    ClaimStore,
    DeliveryStore,
    ReadStore,
    MessageLogStore,
    MetricsStore,
    BackendMessageStore,
    SessionStore,
    PartStore,
    RetentionStore,
    ScheduledStore,
    WebhookStore {
  /** Creates or upgrades the schema; safe to run on every start. */
  migrate(): Promise<void>;
  /** The database for the apps' own tables; answered without a call to the database. */
  appData(): AppDataAccess;
  close(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
}
