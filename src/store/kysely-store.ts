import { sql, type Kysely } from "kysely";
import type { Connection } from "../messages/connection.ts";
import type { DeliveryReport } from "../messages/status.ts";
import { hotQueries } from "./hot-queries.ts";
import { Claims } from "./kysely/claims.ts";
import { Connections } from "./kysely/connections.ts";
import { Contacts } from "./kysely/contacts.ts";
import { Sessions } from "./kysely/sessions.ts";
import { Parts } from "./kysely/parts.ts";
import { OptOuts } from "./kysely/opt-outs.ts";
import { Delivery } from "./kysely/delivery.ts";
import type { StoreDialect } from "./kysely/dialect.ts";
import { Inbound } from "./kysely/inbound.ts";
import { Outbound } from "./kysely/outbound.ts";
import { Scheduled } from "./kysely/scheduled.ts";
import { BackendMessages, Reads } from "./kysely/reads.ts";
import { Retention } from "./kysely/retention.ts";
import { Webhooks } from "./kysely/webhooks.ts";
import { MessageLog } from "./kysely/message-log.ts";
import { QueueDepths } from "./kysely/queue-depth.ts";
import type { StoreContext } from "./kysely/rows.ts";
import { DEFAULT_NAMING, type StoreNaming, withNaming } from "./kysely/naming.ts";
import { migrate } from "./migrations.ts";
import type { Executor } from "./prepared.ts";
import { type Database, TABLES } from "./schema.ts";
import type {
  AcceptResult,
  AppDataAccess,
  BackendMessage,
  BackendMessageInit,
  BackendMessageQuery,
  BackendRow,
  Claim,
  ClaimedIncoming,
  ClaimedTransmission,
  ContactInit,
  ContactRecord,
  GroupRecord,
  Page,
  IncomingRecordInit,
  MessageDetail,
  MessageQuery,
  MessageRecord,
  MessageSearch,
  MessageStats,
  SessionRecord,
  SessionStep,
  OutgoingRecordInit,
  OutgoingWork,
  PendingWork,
  QueueDepth,
  RecordedAttempts,
  ReportResult,
  SendOutcome,
  Store,
  TransmissionDetail,
  TransmissionRecord,
  TransmissionRef,
} from "./store.ts";

/**
 * The Store written once in Kysely, in parts by concern (store/kysely/); each database supplies
 * only its dialect (see sqlite.ts, postgres.ts).
 */
export interface KyselyStoreOptions {
  /** The database as opened, without RapidSMS's naming (migrations set it up themselves). */
  db: Kysely<Database>;
  /** What differs on this database, made for the named database. */
  dialect(named: Kysely<Database>): StoreDialect;
  /** Runs the hot statements instead of Kysely (see PreparedQuery); SQLite only. */
  direct?: Executor;
  /** Where the tables are; default: today's names in the current schema. */
  naming?: StoreNaming;
  /** False when the database's pool is the host's: closing the store leaves it open. */
  owned?: boolean;
}

export class KyselyStore implements Store {
  private readonly raw: Kysely<Database>;
  private readonly naming: StoreNaming;
  private readonly owned: boolean;
  /** The database with RapidSMS's table names (see StoreNaming). */
  private readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  private readonly connections: Connections;
  private readonly contacts: Contacts;
  private readonly inbound: Inbound;
  private readonly outbound: Outbound;
  private readonly claims: Claims;
  private readonly delivery: Delivery;
  private readonly reads: Reads;
  private readonly messageLog: MessageLog;
  private readonly depths: QueueDepths;
  private readonly backendMessages: BackendMessages;
  private readonly sessions: Sessions;
  private readonly parts: Parts;
  private readonly retention: Retention;
  private readonly optOuts: OptOuts;
  private readonly scheduled: Scheduled;
  private readonly webhooks: Webhooks;

  constructor(options: KyselyStoreOptions) {
    this.raw = options.db;
    this.naming = options.naming ?? DEFAULT_NAMING;
    this.owned = options.owned ?? true;
    const db = withNaming(this.raw, this.naming, TABLES);
    this.db = db;
    const dialect = options.dialect(db);
    this.dialect = dialect;
    const ctx: StoreContext = { db, dialect, hot: hotQueries(db, options.direct) };
    this.connections = new Connections(ctx);
    this.contacts = new Contacts(ctx);
    this.inbound = new Inbound(ctx);
    this.outbound = new Outbound(ctx);
    this.claims = new Claims(ctx);
    this.delivery = new Delivery(ctx);
    this.reads = new Reads(ctx);
    this.messageLog = new MessageLog(ctx);
    this.depths = new QueueDepths(ctx);
    this.backendMessages = new BackendMessages(ctx);
    this.sessions = new Sessions(ctx);
    this.parts = new Parts(ctx);
    this.retention = new Retention(ctx);
    this.optOuts = new OptOuts(ctx);
    this.scheduled = new Scheduled(ctx);
    this.webhooks = new Webhooks(ctx);
  }

  migrate(): Promise<void> {
    return migrate(this.raw, this.dialect.name, this.naming);
  }

  appData(): AppDataAccess {
    return { db: this.raw, dialect: this.dialect.name, naming: this.naming };
  }

  async close(): Promise<void> {
    if (this.owned) await this.raw.destroy();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  getOrCreateBackend(name: string): Promise<BackendRow> {
    return this.connections.getOrCreateBackend(name);
  }
  lookupConnections(args: { backend: string; identities: readonly string[] }): Promise<Connection[]> {
    return this.connections.lookupConnections(args);
  }
  createContact(args: ContactInit): Promise<ContactRecord> {
    return this.contacts.createContact(args);
  }
  getContact(id: number): Promise<ContactRecord | undefined> {
    return this.contacts.getContact(id);
  }
  listContacts(args: { limit: number; after?: number; group?: number }): Promise<Page<ContactRecord>> {
    return this.contacts.listContacts(args);
  }
  updateContact(args: { id: number } & ContactInit): Promise<ContactRecord | undefined> {
    return this.contacts.updateContact(args);
  }
  deleteContact(id: number): Promise<boolean> {
    return this.contacts.deleteContact(id);
  }
  createGroup(args: { name: string; description?: string }): Promise<GroupRecord | undefined> {
    return this.contacts.createGroup(args);
  }
  getGroup(args: { id: number } | { name: string }): Promise<GroupRecord | undefined> {
    return this.contacts.getGroup(args);
  }
  listGroups(args: { limit: number; after?: number }): Promise<Page<GroupRecord>> {
    return this.contacts.listGroups(args);
  }
  updateGroup(args: { id: number; name?: string; description?: string }): Promise<GroupRecord | "conflict" | undefined> {
    return this.contacts.updateGroup(args);
  }
  deleteGroup(id: number): Promise<boolean> {
    return this.contacts.deleteGroup(id);
  }
  changeGroupMembers(args: { group: number; add?: readonly number[]; remove?: readonly number[] }): Promise<GroupRecord | undefined> {
    return this.contacts.changeGroupMembers(args);
  }
  connectionLanguages(ids: readonly number[]): Promise<Record<number, string>> {
    return this.contacts.connectionLanguages(ids);
  }
  groupConnections(args: { group: number; backend?: string }): Promise<Connection[]> {
    return this.contacts.groupConnections(args);
  }
  setConnectionContact(args: { connectionId: number; contactId: number | null }): Promise<void> {
    return this.connections.setConnectionContact(args);
  }

  acceptIncoming(args: { message: IncomingRecordInit; dedupeWindowMs: number; now?: number; claim?: Claim }): Promise<AcceptResult> {
    return this.inbound.acceptIncoming(args);
  }
  claimIncoming(args: { claim: Claim; limit: number; maxAttempts: number; now?: number; only?: string }): Promise<ClaimedIncoming[]> {
    return this.inbound.claimIncoming(args);
  }
  completeIncoming(args: {
    id: string;
    token: string;
    replies: readonly OutgoingRecordInit[];
    claimReplies?: Claim;
    session?: SessionStep;
    handledBy?: string | null;
  }): Promise<{ applied: boolean; claimed: ClaimedTransmission[] }> {
    return this.inbound.completeIncoming(args);
  }
  failIncoming(args: { id: string; token: string; error: string; nextAttemptAt: number | null }): Promise<boolean> {
    return this.inbound.failIncoming(args);
  }

  enqueueOutgoing(args: { message: OutgoingRecordInit }): Promise<void> {
    return this.outbound.enqueueOutgoing(args);
  }
  claimTransmissions(args: { claim: Claim; limit: number; maxAttempts: number; now?: number; only?: OutgoingWork }): Promise<ClaimedTransmission[]> {
    return this.outbound.claimTransmissions(args);
  }
  dueTransmissions(args: { work: OutgoingWork; now?: number }): Promise<number> {
    return this.outbound.dueTransmissions(args);
  }
  staleOutgoing(args: { graceMs: number; limit: number; now?: number }): Promise<OutgoingWork[]> {
    return this.outbound.staleOutgoing(args);
  }
  recordAttempts(args: { outcomes: readonly SendOutcome[] }): Promise<RecordedAttempts> {
    return this.outbound.recordAttempts(args);
  }
  reserveSendSlot(args: { backend: string; intervalMs: number; now?: number }): Promise<number> {
    return this.outbound.reserveSendSlot(args);
  }

  cancelOutgoing(args: Parameters<Store["cancelOutgoing"]>[0]): ReturnType<Store["cancelOutgoing"]> {
    return this.scheduled.cancelOutgoing(args);
  }

  renewClaims(args: { tokens: readonly string[]; until: number }): Promise<void> {
    return this.claims.renewClaims(args);
  }
  releaseClaims(args: { tokens: readonly string[] }): Promise<void> {
    return this.claims.releaseClaims(args);
  }

  reportDelivery(args: { ref: TransmissionRef; report: DeliveryReport }): Promise<ReportResult> {
    return this.delivery.reportDelivery(args);
  }
  /** Also forgets sessions untouched since `olderThan` (a USSD dialogue lasts minutes), and parts of messages that never became whole. */
  async purgeDedupe(args: { olderThan: number; keptReportsOlderThan?: number }): Promise<number> {
    await this.sessions.purgeSessions(args.olderThan);
    await this.parts.purgeInboundParts(args.olderThan);
    return this.delivery.purgeDedupe(args);
  }

  openSession(args: Parameters<Store["openSession"]>[0]): Promise<SessionRecord> {
    return this.sessions.openSession(args);
  }
  saveSession(args: Parameters<Store["saveSession"]>[0]): Promise<void> {
    return this.sessions.saveSession(args);
  }
  holdInboundPart(args: Parameters<Store["holdInboundPart"]>[0]): ReturnType<Store["holdInboundPart"]> {
    return this.parts.holdInboundPart(args);
  }
  releaseInboundParts(args: Parameters<Store["releaseInboundParts"]>[0]): Promise<void> {
    return this.parts.releaseInboundParts(args);
  }
  expiredInboundParts(args: Parameters<Store["expiredInboundParts"]>[0]): ReturnType<Store["expiredInboundParts"]> {
    return this.parts.expiredInboundParts(args);
  }

  getMessage(id: string): Promise<MessageRecord | undefined> {
    return this.reads.getMessage(id);
  }
  getTransmission(id: number): Promise<TransmissionDetail | undefined> {
    return this.reads.getTransmission(id);
  }
  listMessages(query: MessageQuery): Promise<MessageRecord[]> {
    return this.reads.listMessages(query);
  }
  searchMessages(query: MessageQuery & { scanLimit: number }): Promise<MessageSearch> {
    return this.reads.searchMessages(query);
  }
  messageStats(args: { since: string; until: string }): Promise<MessageStats> {
    return this.messageLog.messageStats(args);
  }
  getMessageDetail(args: Parameters<Store["getMessageDetail"]>[0]): Promise<MessageDetail | undefined> {
    return this.reads.getMessageDetail(args);
  }
  messageRecipients(args: Parameters<Store["messageRecipients"]>[0]): Promise<TransmissionRecord[]> {
    return this.reads.messageRecipients(args);
  }
  pendingWork(args?: { now?: number }): Promise<PendingWork> {
    return this.reads.pendingWork(args);
  }
  queueDepth(args?: { now?: number }): Promise<QueueDepth> {
    return this.depths.queueDepth(args);
  }

  purgeFinished(args: Parameters<Store["purgeFinished"]>[0]): ReturnType<Store["purgeFinished"]> {
    return this.retention.purgeFinished(args);
  }
  queueWebhook(args: Parameters<Store["queueWebhook"]>[0]): ReturnType<Store["queueWebhook"]> {
    return this.webhooks.queueWebhook(args);
  }
  claimWebhooks(args: Parameters<Store["claimWebhooks"]>[0]): ReturnType<Store["claimWebhooks"]> {
    return this.webhooks.claimWebhooks(args);
  }
  completeWebhook(args: Parameters<Store["completeWebhook"]>[0]): ReturnType<Store["completeWebhook"]> {
    return this.webhooks.completeWebhook(args);
  }
  listWebhooks(messageId: string, limit?: number): ReturnType<Store["listWebhooks"]> {
    return this.webhooks.listWebhooks(messageId, limit);
  }

  addBackendMessages(rows: readonly BackendMessageInit[]): Promise<void> {
    return this.backendMessages.addBackendMessages(rows);
  }
  listBackendMessages(query: BackendMessageQuery): Promise<BackendMessage[]> {
    return this.backendMessages.listBackendMessages(query);
  }
  countBackendMessages(query: Omit<BackendMessageQuery, "limit" | "offset">): Promise<number> {
    return this.backendMessages.countBackendMessages(query);
  }
  clearBackendMessages(args: { name: string; identity?: string }): Promise<number> {
    return this.backendMessages.clearBackendMessages(args);
  }

  optOut(args: Parameters<Store["optOut"]>[0]): ReturnType<Store["optOut"]> {
    return this.optOuts.optOut(args);
  }
  optIn(args: Parameters<Store["optIn"]>[0]): ReturnType<Store["optIn"]> {
    return this.optOuts.optIn(args);
  }
  getOptOut(args: Parameters<Store["getOptOut"]>[0]): ReturnType<Store["getOptOut"]> {
    return this.optOuts.getOptOut(args);
  }
  listOptOuts(args: Parameters<Store["listOptOuts"]>[0]): ReturnType<Store["listOptOuts"]> {
    return this.optOuts.listOptOuts(args);
  }
}
