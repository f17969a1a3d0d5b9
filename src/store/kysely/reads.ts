import type {
  BackendMessage,
  BackendMessageInit,
  BackendMessageQuery,
  BackendMessageStore,
  MessageQuery,
  MessageRecord,
  MessageSearch,
  PendingWork,
  ReadStore,
  TransmissionDetail,
} from "../store.ts";
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
    const [record] = (await this.listMessagesWhere({ id })).messages;
    return record;
  }

  async listMessages(query: MessageQuery): Promise<MessageRecord[]> {
    return (await this.listMessagesWhere(query)).messages;
  }

  searchMessages(query: MessageQuery & { scanLimit: number }): Promise<MessageSearch> {
    return this.listMessagesWhere(query);
  }

  async getTransmission(id: number): Promise<TransmissionDetail | undefined> {
    const { db } = this.ctx;
    const row = await this.transmissionsQuery().where("transmissions.id", "=", id).executeTakeFirst();
    if (!row) return undefined;
    const attempts = await db.selectFrom("attempts").selectAll().where("transmission_id", "=", id).orderBy("id").execute();
    const reports = await db.selectFrom("delivery_reports").selectAll().where("transmission_id", "=", id).orderBy("id").execute();
    return {
      ...toTransmission(row),
      attemptLog: attempts.map((a) => ({ attempt: a.attempt, at: a.at, outcome: a.outcome, durationMs: a.duration_ms, error: a.error, answer: a.answer })),
      deliveryReports: reports.map((r) => ({ at: r.at, status: r.status, detail: r.detail })),
    };
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
   * With `scanLimit` and a `text`, the text is looked for in that many messages at most (the
   * newest of the time range and page): `scannedTo` is then the oldest of them, where a search for
   * more continues (`before`), unless the page filled up first.
   */
  private async listMessagesWhere(query: MessageQuery & { id?: string; scanLimit?: number }): Promise<MessageSearch> {
    const { db } = this.ctx;
    let select = db.selectFrom("messages").selectAll("messages");
    const anchor = query.before ? await db.selectFrom("messages").select(["created_at", "id"]).where("id", "=", query.before).executeTakeFirst() : undefined;
    if (query.before && !anchor) return { messages: [], scannedTo: null };
    let boundary: { created_at: string; id: string } | undefined;
    if (query.text && query.scanLimit) {
      // By time alone, the walk reads the index only; every message as old as the one found is in the scan.
      const edge = await db
        .selectFrom("messages")
        .select("messages.created_at")
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
    if (query.id !== undefined) select = select.where("messages.id", "=", query.id);
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
    const transmissions: TransmissionRow[] = [];
    for (const slice of slices(messages, 1, this.ctx.dialect)) {
      transmissions.push(
        ...(await this.transmissionsQuery()
          .where(
            "transmissions.message_id",
            "in",
            slice.map((m) => m.id),
          )
          .orderBy("transmissions.id")
          .execute()),
      );
    }
    const byMessage = Map.groupBy(transmissions, (t) => t.message_id);
    return { messages: messages.map((m) => toMessageRecord(m, byMessage.get(m.id) ?? [])), scannedTo };
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

/** A phone number as given, and with or without its leading `+`: gateways write the same number both ways. */
export function identityForms(identity: string): string[] {
  const bare = identity.startsWith("+") ? identity.slice(1) : identity;
  return bare === "" ? [identity] : [bare, `+${bare}`];
}
