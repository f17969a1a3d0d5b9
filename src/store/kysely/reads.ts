import type {
  BackendMessage,
  BackendMessageInit,
  BackendMessageQuery,
  BackendMessageStore,
  MessageDetail,
  MessageQuery,
  MessageRecord,
  MessageSearch,
  PendingWork,
  ReadStore,
  RecipientCounts,
  TransmissionDetail,
  TransmissionRecord,
} from "../store.ts";
import { LISTED_TRANSMISSIONS } from "../store.ts";
import { type ExpressionBuilder, sql } from "kysely";
import type { Database } from "../schema.ts";
import { isoNow, recipients, slices, toMessageRecord, toTransmission, type StoreContext, type TransmissionRow } from "./rows.ts";

/** What people and tools read: messages with their transmissions, attempts and reports, and the work left. */
export class Reads implements ReadStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const { db } = this.ctx;
    const message = await db.selectFrom("messages").selectAll().where("id", "=", id).executeTakeFirst();
    if (!message) return undefined;
    // Every recipient (10,000 at most): the pipeline, the CLI and the embedded API's status read them all.
    const rows = await this.transmissionsQuery().where("transmissions.message_id", "=", id).orderBy("transmissions.id").execute();
    return toMessageRecord(message, rows);
  }

  async listMessages(query: MessageQuery): Promise<MessageRecord[]> {
    return (await this.listMessagesWhere(query)).messages;
  }

  searchMessages(query: MessageQuery & { scanLimit: number }): Promise<MessageSearch> {
    return this.listMessagesWhere(query);
  }

  async getMessageDetail({
    id,
    recipientsAfter,
    recipientsLimit,
  }: {
    id: string;
    recipientsAfter?: number;
    recipientsLimit: number;
  }): Promise<MessageDetail | undefined> {
    const { db } = this.ctx;
    const message = await db.selectFrom("messages").selectAll().where("id", "=", id).executeTakeFirst();
    if (!message) return undefined;
    const counts = await this.recipientCounts([id]);
    const rows = await this.transmissionsQuery()
      .where("transmissions.message_id", "=", id)
      .$if(recipientsAfter !== undefined, (q) => q.where("transmissions.id", ">", recipientsAfter!))
      .orderBy("transmissions.id")
      .limit(recipientsLimit + 1)
      .execute();
    const page = rows.slice(0, recipientsLimit);
    const details = await this.withLogs(page.map(toTransmission));
    const { transmissions: _, ...record } = toMessageRecord(message, []);
    return {
      ...record,
      recipients: counts.get(id) ?? noRecipients(),
      transmissions: details,
      nextRecipients: rows.length > recipientsLimit ? page.at(-1)!.id : null,
    };
  }

  async messageRecipients(args: { messageId: string; after?: number; limit: number; backend?: string; identity?: string }): Promise<TransmissionRecord[]> {
    const rows = await this.transmissionsQuery()
      .where("transmissions.message_id", "=", args.messageId)
      .$if(args.after !== undefined, (q) => q.where("transmissions.id", ">", args.after!))
      .$if(args.backend !== undefined, (q) => q.where("backends.name", "=", args.backend!))
      .$if(args.identity !== undefined, (q) => q.where("connections.identity", "in", identityForms(args.identity!)))
      .orderBy("transmissions.id")
      .limit(args.limit)
      .execute();
    return rows.map(toTransmission);
  }

  async getTransmission(id: number): Promise<TransmissionDetail | undefined> {
    const row = await this.transmissionsQuery().where("transmissions.id", "=", id).executeTakeFirst();
    if (!row) return undefined;
    const [detail] = await this.withLogs([toTransmission(row)]);
    return detail;
  }

  /** The transmissions with their attempts and delivery reports, read `transmission_id IN (...)` a slice at a time. */
  private async withLogs(transmissions: TransmissionRecord[]): Promise<TransmissionDetail[]> {
    const { db } = this.ctx;
    const attempts = new Map<number, TransmissionDetail["attemptLog"]>();
    const reports = new Map<number, TransmissionDetail["deliveryReports"]>();
    for (const slice of slices(transmissions, 1, this.ctx.dialect)) {
      const ids = slice.map((t) => t.id);
      const attemptRows = await db.selectFrom("attempts").selectAll().where("transmission_id", "in", ids).orderBy("id").execute();
      for (const a of attemptRows) {
        const log = attempts.get(a.transmission_id) ?? [];
        log.push({ attempt: a.attempt, at: a.at, outcome: a.outcome, durationMs: a.duration_ms, error: a.error, answer: a.answer });
        attempts.set(a.transmission_id, log);
      }
      const reportRows = await db.selectFrom("delivery_reports").selectAll().where("transmission_id", "in", ids).orderBy("id").execute();
      for (const r of reportRows) {
        const log = reports.get(r.transmission_id) ?? [];
        log.push({ at: r.at, status: r.status, detail: r.detail });
        reports.set(r.transmission_id, log);
      }
    }
    return transmissions.map((t) => ({ ...t, attemptLog: attempts.get(t.id) ?? [], deliveryReports: reports.get(t.id) ?? [] }));
  }

  /** Each message's transmissions by status: one grouped count a slice of messages at a time. */
  private async recipientCounts(messageIds: readonly string[]): Promise<Map<string, RecipientCounts>> {
    const counts = new Map<string, RecipientCounts>();
    for (const slice of slices(messageIds, 1, this.ctx.dialect)) {
      const rows = await this.ctx.db
        .selectFrom("transmissions")
        .select(["message_id", "status", (eb) => eb.fn.countAll<number | string>().as("n")])
        .where("message_id", "in", slice)
        .groupBy(["message_id", "status"])
        .execute();
      for (const row of rows) {
        const of = counts.get(row.message_id) ?? noRecipients();
        of[row.status] += Number(row.n);
        of.total += Number(row.n);
        counts.set(row.message_id, of);
      }
    }
    return counts;
  }

  /**
   * The first `LISTED_TRANSMISSIONS` transmissions of each message: those of messages with no more
   * in one statement a slice of messages at a time, those of a bulk message in one of its own.
   */
  private async listedTransmissions(messageIds: readonly string[], counts: Map<string, RecipientCounts>): Promise<Map<string, TransmissionRow[]>> {
    const byMessage = new Map<string, TransmissionRow[]>();
    const small = messageIds.filter((id) => (counts.get(id)?.total ?? 0) <= LISTED_TRANSMISSIONS && (counts.get(id)?.total ?? 0) > 0);
    for (const slice of slices(small, 1, this.ctx.dialect)) {
      const rows = await this.transmissionsQuery().where("transmissions.message_id", "in", slice).orderBy("transmissions.id").execute();
      for (const row of rows) {
        const of = byMessage.get(row.message_id) ?? [];
        of.push(row);
        byMessage.set(row.message_id, of);
      }
    }
    for (const id of messageIds) {
      if ((counts.get(id)?.total ?? 0) <= LISTED_TRANSMISSIONS) continue;
      byMessage.set(
        id,
        await this.transmissionsQuery().where("transmissions.message_id", "=", id).orderBy("transmissions.id").limit(LISTED_TRANSMISSIONS).execute(),
      );
    }
    return byMessage;
  }

  async pendingWork({ now = Date.now() }: { now?: number } = {}): Promise<PendingWork> {
    const { db } = this.ctx;
    const inbound = await db
      .selectFrom("messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("direction", "=", "I")
      .where("status", "=", "Q")
      .where("next_attempt_at", "<=", now)
      .executeTakeFirstOrThrow();
    const outbound = await recipients(db)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("messages.direction", "=", "O")
      .where((eb) =>
        eb.or([eb.and([eb("transmissions.status", "=", "Q"), eb("transmissions.next_attempt_at", "<=", now)]), eb("transmissions.status", "=", "P")]),
      )
      .executeTakeFirstOrThrow();
    const sendRetry = await db
      .selectFrom("transmissions")
      .select((eb) => eb.fn.min<number>("next_attempt_at").as("at"))
      .where("status", "=", "Q")
      .where("next_attempt_at", ">", now)
      .executeTakeFirstOrThrow();
    const processRetry = await db
      .selectFrom("messages")
      .select((eb) => eb.fn.min<number>("next_attempt_at").as("at"))
      .where("direction", "=", "I")
      .where("status", "=", "Q")
      .where("next_attempt_at", ">", now)
      .executeTakeFirstOrThrow();
    const retries = [sendRetry.at, processRetry.at].filter((at) => at !== null).map(Number);
    return { inbound: Number(inbound.n), outbound: Number(outbound.n), nextRetryAt: retries.length > 0 ? Math.min(...retries) : null };
  }

  private transmissionsQuery() {
    return recipients(this.ctx.db).select([
      "transmissions.id",
      "transmissions.message_id",
      "transmissions.connection_id",
      "transmissions.status",
      "transmissions.error",
      "transmissions.attempts",
      "transmissions.next_attempt_at",
      "transmissions.external_id",
      "transmissions.segments",
      "transmissions.sent_at",
      "transmissions.delivered_at",
      "backends.name as backend",
      "connections.identity",
    ]);
  }

  /**
   * With `scanLimit` and a filter no index serves in order (see `unordered`), that filter is
   * looked for in that many messages at most (the newest of the time range, direction and page):
   * `scannedTo` is then the oldest of them, where a search for more continues (`before`), unless
   * the page filled up first.
   */
  private async listMessagesWhere(query: MessageQuery & { scanLimit?: number }): Promise<MessageSearch> {
    const { db } = this.ctx;
    let select = db.selectFrom("messages").selectAll("messages");
    const anchor = query.before ? await db.selectFrom("messages").select(["created_at", "id"]).where("id", "=", query.before).executeTakeFirst() : undefined;
    if (query.before && !anchor) return { messages: [], scannedTo: null };
    let boundary: { created_at: string; id: string } | undefined;
    if (query.scanLimit && unordered(query)) {
      // By time (and direction, and its status) alone, the walk reads an index only
      // (messages_created_at, messages_direction_created, messages_queue); every message as old as
      // the one found is in the scan.
      const edge = await db
        .selectFrom("messages")
        .select("messages.created_at")
        .$if(!!query.direction, (q) => q.where("messages.direction", "=", query.direction!))
        .$if(!!query.direction && !!query.status, (q) => q.where("messages.status", "=", query.status!))
        .$if(!!query.since, (q) => q.where("messages.created_at", ">=", query.since!))
        .$if(!!query.until, (q) => q.where("messages.created_at", "<", query.until!))
        .$if(!!anchor, (q) => q.where("messages.created_at", "<", anchor!.created_at))
        .orderBy("messages.created_at", "desc")
        .offset(query.scanLimit - 1)
        .limit(1)
        .executeTakeFirst();
      if (edge) {
        // The oldest message of the scan (its edge is strictly older than the page's anchor, so a search always moves on).
        const oldest = await db
          .selectFrom("messages")
          .select("messages.id")
          .where("messages.created_at", "=", edge.created_at)
          .orderBy("messages.id")
          .limit(1)
          .executeTakeFirstOrThrow();
        boundary = { created_at: edge.created_at, id: oldest.id };
        select = select.where("messages.created_at", ">=", edge.created_at);
      }
    }
    if (query.direction) select = select.where("messages.direction", "=", query.direction);
    if (query.status) select = select.where("messages.status", "=", query.status);
    if (query.inResponseTo) select = select.where("messages.in_response_to", "=", query.inResponseTo);
    if (query.since) select = select.where("messages.created_at", ">=", query.since);
    if (query.until) select = select.where("messages.created_at", "<", query.until);
    if (query.text) {
      const pattern = `%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's needs ILIKE.
      const like = this.ctx.dialect.name === "postgres" ? sql.raw("ilike") : sql.raw("like");
      select = select.where(sql<boolean>`${sql.ref("messages.text")} ${like} ${pattern} escape '\\'`);
    }
    if (anchor) select = select.where((eb) => olderThan(eb, anchor));
    if (query.identity) {
      // The messages of these connections, found through connections_identity and transmissions_connection.
      select = select.where("messages.id", "in", (eb) =>
        eb
          .selectFrom("transmissions")
          .innerJoin("connections", "connections.id", "transmissions.connection_id")
          .innerJoin("backends", "backends.id", "connections.backend_id")
          .select("transmissions.message_id")
          .where("connections.identity", "in", identityForms(query.identity!))
          .$if(!!query.backend, (q) => q.where("backends.name", "=", query.backend!)),
      );
    } else if (query.backend) {
      select = select.where(({ exists, selectFrom }) =>
        exists(
          selectFrom("transmissions")
            .innerJoin("connections", "connections.id", "transmissions.connection_id")
            .innerJoin("backends", "backends.id", "connections.backend_id")
            .select("transmissions.id")
            .whereRef("transmissions.message_id", "=", "messages.id")
            .where("backends.name", "=", query.backend!),
        ),
      );
    }
    const limit = query.limit ?? 100;
    const messages = await select.orderBy("messages.created_at", "desc").orderBy("messages.id", "desc").limit(limit).execute();
    const scannedTo = boundary && messages.length < limit ? boundary.id : null;
    if (messages.length === 0) return { messages: [], scannedTo };
    const ids = messages.map((m) => m.id);
    const counts = await this.recipientCounts(ids);
    const listed = await this.listedTransmissions(ids, counts);
    return {
      messages: messages.map((m) => ({ ...toMessageRecord(m, listed.get(m.id) ?? []), recipients: counts.get(m.id) ?? noRecipients() })),
      scannedTo,
    };
  }
}

/** The database backend's table: what it "sent", and what the message tester typed. */
export class BackendMessages implements BackendMessageStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async addBackendMessages(rows: readonly BackendMessageInit[]): Promise<void> {
    if (rows.length === 0) return;
    const stamp = isoNow();
    for (const slice of slices(rows, 7, this.ctx.dialect)) {
      await this.ctx.db
        .insertInto("backend_messages")
        .values(
          slice.map((r) => ({
            name: r.name,
            date: stamp,
            direction: r.direction,
            message_id: r.messageId,
            external_id: r.externalId,
            identity: r.identity,
            text: r.text,
          })),
        )
        .execute();
    }
  }

  async listBackendMessages(query: BackendMessageQuery): Promise<BackendMessage[]> {
    const rows = await this.where(query)
      .selectAll()
      .orderBy("id", "desc")
      .limit(query.limit ?? 100)
      .offset(query.offset ?? 0)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      date: r.date,
      direction: r.direction,
      messageId: r.message_id,
      externalId: r.external_id,
      identity: r.identity,
      text: r.text,
    }));
  }

  async countBackendMessages(query: Omit<BackendMessageQuery, "limit" | "offset">): Promise<number> {
    const row = await this.where(query)
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async clearBackendMessages({ name, identity }: { name: string; identity?: string }): Promise<number> {
    const result = await this.ctx.db
      .deleteFrom("backend_messages")
      .where("name", "=", name)
      .$if(identity !== undefined, (q) => q.where("identity", "=", identity!))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private where(query: Omit<BackendMessageQuery, "limit" | "offset">) {
    return this.ctx.db
      .selectFrom("backend_messages")
      .where("name", "=", query.name)
      .$if(query.identity !== undefined, (q) => q.where("identity", "=", query.identity!))
      .$if(query.direction !== undefined, (q) => q.where("direction", "=", query.direction!));
  }
}

/** Messages after `anchor` in the log's order (newest first): older, or as old with a smaller id. */
function olderThan(eb: ExpressionBuilder<Database, "messages">, anchor: { created_at: string; id: string }) {
  return eb.or([
    eb("messages.created_at", "<", anchor.created_at),
    eb.and([eb("messages.created_at", "=", anchor.created_at), eb("messages.id", "<", anchor.id)]),
  ]);
}

/**
 * Whether a query has a filter no index serves in the log's order: a text; a status without a
 * direction (messages_queue serves the two together); a backend, unless an identity or
 * inResponseTo narrows the messages first (through their own indexes).
 */
function unordered(query: MessageQuery): boolean {
  const narrowed = query.identity !== undefined || query.inResponseTo !== undefined;
  return !!query.text || (!narrowed && ((!!query.status && !query.direction) || !!query.backend));
}

const noRecipients = (): RecipientCounts => ({ total: 0, Q: 0, R: 0, P: 0, S: 0, D: 0, E: 0 });

/** A phone number as given, and with or without its leading `+`: gateways write the same number both ways. */
export function identityForms(identity: string): string[] {
  const bare = identity.startsWith("+") ? identity.slice(1) : identity;
  return bare === "" ? [identity] : [bare, `+${bare}`];
}
