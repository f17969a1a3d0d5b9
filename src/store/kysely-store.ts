import { sql, type ExpressionBuilder, type Kysely, type Selectable, type Transaction } from "kysely";
import { Migrator } from "kysely/migration";
import type { Connection } from "../messages/connection.ts";
import type { BackendContext, Fields } from "../messages/messages.ts";
import { deriveMessageStatus, type Direction, type Status } from "../messages/status.ts";
import { hotQueries, type HotQueries } from "./hot-queries.ts";
import type { Executor } from "./prepared.ts";
import { migrationProvider } from "./migrations.ts";
import type { Database } from "./schema.ts";
import type {
  AcceptOptions,
  AcceptResult,
  BackendMessage,
  BackendMessageInit,
  BackendMessageQuery,
  BackendRow,
  ClaimedIncoming,
  Claim,
  ClaimedTransmission,
  ContactRow,
  DeliveryReport,
  IncomingRecordInit,
  IncomingResult,
  MessageQuery,
  MessageRecord,
  OutgoingRecordInit,
  OutgoingWork,
  PendingWork,
  SendOutcome,
  Store,
  TransmissionDetail,
  TransmissionRecord,
  TransmissionRef,
} from "./store.ts";

const now = () => new Date().toISOString();

export type Dialect = "sqlite" | "postgres";

/** The Store written once in Kysely; each database supplies only its dialect (see sqlite.ts, postgres.ts). */
export class KyselyStore implements Store {
  protected readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  private readonly backendIds = new Map<string, number>();
  /** Writes waiting for the next group commit (SQLite only). */
  private readonly pendingWrites: PendingWrite[] = [];

  private readonly hot: HotQueries;

  /** `direct`: runs the hot statements instead of Kysely (see PreparedQuery); SQLite only. */
  constructor(db: Kysely<Database>, dialect: Dialect, direct?: Executor) {
    this.db = db;
    this.dialect = dialect;
    this.hot = hotQueries(db, direct);
  }

  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({ db: this.db, provider: migrationProvider(this.dialect) }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
      throw new Error(`database migration ${failed} failed: ${String(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async getOrCreateBackend(name: string): Promise<BackendRow> {
    const cached = this.backendIds.get(name);
    if (cached !== undefined) return { id: cached, name };
    await this.db
      .insertInto("backends")
      .values({ name, created_at: now() })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const row = await this.db.selectFrom("backends").select(["id", "name"]).where("name", "=", name).executeTakeFirstOrThrow();
    this.backendIds.set(name, row.id);
    return { id: row.id, name: row.name };
  }

  async lookupConnections(backendName: string, identities: readonly string[]): Promise<Connection[]> {
    if (identities.length === 0) return [];
    const backend = await this.getOrCreateBackend(backendName);
    const unique = [...new Set(identities.map(String))];
    const stamp = now();
    const rows = await this.write(async (trx) => {
      await trx
        .insertInto("connections")
        .values(unique.map((identity) => ({ backend_id: backend.id, identity, contact_id: null, created_on: stamp, modified_on: stamp })))
        .onConflict((oc) => oc.columns(["backend_id", "identity"]).doNothing())
        .execute();
      return trx
        .selectFrom("connections")
        .select(["id", "identity", "contact_id"])
        .where("backend_id", "=", backend.id)
        .where("identity", "in", unique)
        .execute();
    });
    const byIdentity = new Map(rows.map((r) => [r.identity, r]));
    return identities.map((raw) => {
      const row = byIdentity.get(String(raw))!;
      return { id: row.id, backend: backendName, identity: row.identity, contactId: row.contact_id };
    });
  }

  async createContact(init: { name?: string; language?: string }): Promise<ContactRow> {
    const stamp = now();
    const row = await this.db
      .insertInto("contacts")
      .values({ name: init.name ?? "", language: init.language ?? "", created_on: stamp, modified_on: stamp })
      .returning(["id", "name", "language"])
      .executeTakeFirstOrThrow();
    return toContact(row);
  }

  async getContact(id: number): Promise<ContactRow | undefined> {
    const row = await this.db.selectFrom("contacts").select(["id", "name", "language"]).where("id", "=", id).executeTakeFirst();
    return row && toContact(row);
  }

  async setConnectionContact(connectionId: number, contactId: number | null): Promise<void> {
    await this.db.updateTable("connections").set({ contact_id: contactId, modified_on: now() }).where("id", "=", connectionId).execute();
  }

  /**
   * Runs a write in a transaction. On SQLite, writes asked for during one turn of the event loop
   * share one transaction (group commit): a burst of requests costs one commit and one turn of
   * the single connection, which the workers share, instead of one each. If the shared
   * transaction fails, each write is tried alone, so that one cannot fail the others.
   */
  private write<T>(run: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    if (this.dialect !== "sqlite") return this.db.transaction().execute(run);
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.pendingWrites.length === 1) setImmediate(() => void this.commitWrites());
    });
  }

  private async commitWrites(): Promise<void> {
    const batch = this.pendingWrites.splice(0);
    try {
      const results = await this.db.transaction().execute(async (trx) => {
        const done: unknown[] = [];
        for (const write of batch) done.push(await write.run(trx));
        return done;
      });
      for (const [i, write] of batch.entries()) write.resolve(results[i]);
    } catch {
      for (const write of batch) await this.db.transaction().execute(write.run).then(write.resolve, write.reject);
    }
  }

  async acceptIncoming(init: IncomingRecordInit, options: AcceptOptions): Promise<AcceptResult> {
    return this.write((trx) => acceptOne(trx, this.hot, init, options));
  }

  async claimIncoming(owner: string, limit: number, leaseMs: number, now = Date.now(), only?: string): Promise<ClaimedIncoming[]> {
    return this.write(async (trx) => {
      const rows = await recipients(trx)
        .select([
          "messages.id",
          "messages.text",
          "messages.fields",
          "connections.id as connection_id",
          "connections.identity",
          "connections.contact_id",
          "backends.name as backend",
        ])
        .where("messages.direction", "=", "I")
        .where("messages.status", "=", "Q")
        .where((eb) => eb.or([eb("messages.claimed_until", "is", null), eb("messages.claimed_until", "<", now)]))
        .$if(only !== undefined, (q) => q.where("messages.id", "=", only!))
        .orderBy("messages.created_at")
        .orderBy("messages.id")
        .limit(limit)
        .$if(this.dialect === "postgres", (q) => q.forUpdate("messages").skipLocked())
        .execute();
      if (rows.length === 0) return [];
      await trx
        .updateTable("messages")
        .set({ claimed_by: owner, claimed_until: now + leaseMs })
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      return rows.map((r) => ({
        id: r.id,
        text: r.text,
        fields: JSON.parse(r.fields),
        connection: { id: r.connection_id, backend: r.backend, identity: r.identity, contactId: r.contact_id },
      }));
    });
  }

  async completeIncoming(id: string, result: IncomingResult, options: { claim?: Claim } = {}): Promise<ClaimedTransmission[]> {
    const stamp = now();
    return this.write(async (trx) => {
      const error = result.error ?? null;
      const updated = await this.hot.completeIncoming.run(trx, { id, status: result.status, error, stamp });
      // Another worker finished it first (its lease ran out while this one worked): keep theirs.
      if (Number(updated.numAffectedRows ?? 0) === 0) return [];
      await this.hot.setTransmissionsOf.run(trx, { messageId: id, status: result.status, error, stamp });
      const claimed: ClaimedTransmission[] = [];
      for (const reply of result.replies) claimed.push(...(await insertOutgoing(trx, this.hot, reply, stamp, options.claim)));
      return claimed;
    });
  }

  async enqueueOutgoing(init: OutgoingRecordInit): Promise<void> {
    const stamp = now();
    await this.write((trx) => insertOutgoing(trx, this.hot, init, stamp));
  }

  async claimTransmissions(owner: string, limit: number, leaseMs: number, now = Date.now(), only?: OutgoingWork): Promise<ClaimedTransmission[]> {
    return this.write(async (trx) => {
      const claimable = (status: "P" | "Q", max: number) =>
        recipients(trx)
          .select([
            "transmissions.id",
            "transmissions.message_id",
            "transmissions.attempts",
            "messages.text",
            "messages.context",
            "backends.name as backend",
            "connections.identity",
          ])
          .where("transmissions.direction", "=", "O")
          .where("transmissions.status", "=", status)
          .$if(status === "Q", (q) => q.where("transmissions.next_attempt_at", "<=", now))
          .$if(status === "P", (q) => q.where("transmissions.claimed_until", "<", now))
          .$if(only !== undefined, (q) => q.where("transmissions.message_id", "=", only!.messageId).where("backends.name", "=", only!.backend))
          .orderBy("transmissions.rank")
          .orderBy("transmissions.next_attempt_at")
          .orderBy("transmissions.id")
          .limit(max)
          .$if(this.dialect === "postgres", (q) => q.forUpdate("transmissions").skipLocked())
          .execute();
      // Work whose claimer died first (rare), then the queue in order, each walking its index.
      const expired = await claimable("P", limit);
      const rows = expired.length < limit ? [...expired, ...(await claimable("Q", limit - expired.length))] : expired;
      if (rows.length === 0) return [];
      await trx
        .updateTable("transmissions")
        .set((eb) => ({ status: "P", claimed_by: owner, claimed_until: now + leaseMs, attempts: eb("attempts", "+", 1) }))
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      return rows.map((r) => ({
        id: r.id,
        messageId: r.message_id,
        text: r.text,
        context: JSON.parse(r.context),
        backend: r.backend,
        identity: r.identity,
        attempt: r.attempts + 1,
      }));
    });
  }

  async recordAttempts(outcomes: readonly SendOutcome[]): Promise<Map<string, Status>> {
    if (outcomes.length === 0) return new Map();
    const stamp = now();
    return this.write(async (trx) => {
      for (const o of outcomes) {
        // Only a claimed (P) transmission changes: a delivery report may have overtaken this answer.
        await this.hot.recordAttempt.run(trx, {
          id: o.transmissionId,
          status: o.status,
          error: o.status === "S" ? null : (o.error ?? null),
          nextAttemptAt: o.status === "Q" ? (o.nextAttemptAt ?? 0) : 0,
          stamp,
          sentAt: o.status === "S" ? stamp : null,
          externalId: o.externalId || null,
          segments: o.segments || null,
        });
      }
      const attempts = outcomes.map((o) => ({
        transmission_id: o.transmissionId,
        attempt: o.attempt,
        at: stamp,
        outcome: o.status === "Q" ? ("retry" as const) : o.status,
        duration_ms: Math.round(o.durationMs),
        error: o.error ?? null,
        answer: o.answer ?? null,
      }));
      if (attempts.length === 1) await this.hot.insertAttempt.run(trx, attempts[0]);
      else await trx.insertInto("attempts").values(attempts).execute();
      const statuses = new Map<string, Status>();
      for (const messageId of await messagesOf(trx, this.hot, outcomes)) statuses.set(messageId, await refreshMessageStatus(trx, this.hot, messageId, stamp));
      return statuses;
    });
  }

  async dueTransmissions(work: OutgoingWork, now = Date.now()): Promise<number> {
    const row = await recipients(this.db)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("transmissions.message_id", "=", work.messageId)
      .where("backends.name", "=", work.backend)
      .where((eb) => isDue(eb, now))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async staleOutgoing(graceMs: number, limit: number, now = Date.now()): Promise<OutgoingWork[]> {
    const rows = await recipients(this.db)
      .select(["transmissions.message_id", "backends.name as backend", "messages.priority"])
      .distinct()
      .where("messages.direction", "=", "O")
      .where((eb) => isDue(eb, now, now - graceMs))
      .where((eb) => eb.or([eb("transmissions.status", "=", "P"), eb("transmissions.updated_at", "<=", new Date(now - graceMs).toISOString())]))
      .limit(limit)
      .execute();
    return rows.map((r) => ({ messageId: r.message_id, backend: r.backend, priority: r.priority }));
  }

  async renewClaims(owner: string, leaseMs: number, now = Date.now()): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable("messages")
        .set({ claimed_until: now + leaseMs })
        .where("claimed_by", "=", owner)
        .where("status", "=", "Q")
        .execute();
      await trx
        .updateTable("transmissions")
        .set({ claimed_until: now + leaseMs })
        .where("claimed_by", "=", owner)
        .where("status", "=", "P")
        .execute();
    });
  }

  async releaseClaims(owner: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable("messages").set({ claimed_by: null, claimed_until: null }).where("claimed_by", "=", owner).where("status", "=", "Q").execute();
      await trx
        .updateTable("transmissions")
        .set((eb) => ({ status: "Q", claimed_by: null, claimed_until: null, next_attempt_at: 0, attempts: eb("attempts", "-", 1) }))
        .where("claimed_by", "=", owner)
        .where("status", "=", "P")
        .execute();
    });
  }

  async pendingWork(now = Date.now()): Promise<PendingWork> {
    const inbound = await this.db
      .selectFrom("messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("direction", "=", "I")
      .where("status", "=", "Q")
      .executeTakeFirstOrThrow();
    const outbound = await recipients(this.db)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("messages.direction", "=", "O")
      .where((eb) =>
        eb.or([eb.and([eb("transmissions.status", "=", "Q"), eb("transmissions.next_attempt_at", "<=", now)]), eb("transmissions.status", "=", "P")]),
      )
      .executeTakeFirstOrThrow();
    const retry = await this.db
      .selectFrom("transmissions")
      .select((eb) => eb.fn.min<number>("next_attempt_at").as("at"))
      .where("status", "=", "Q")
      .where("next_attempt_at", ">", now)
      .executeTakeFirstOrThrow();
    return { inbound: Number(inbound.n), outbound: Number(outbound.n), nextRetryAt: retry.at === null ? null : Number(retry.at) };
  }

  async reserveSendSlot(backend: string, intervalMs: number, now = Date.now()): Promise<number> {
    const later = this.dialect === "postgres" ? sql<number>`greatest(send_pacing.next_at, ${now})` : sql<number>`max(send_pacing.next_at, ${now})`;
    const row = await this.db
      .insertInto("send_pacing")
      .values({ backend, next_at: now + intervalMs })
      .onConflict((oc) => oc.column("backend").doUpdateSet({ next_at: sql<number>`${later} + ${intervalMs}` }))
      .returning("next_at")
      .executeTakeFirstOrThrow();
    return Number(row.next_at) - intervalMs;
  }

  async purgeDedupe(olderThan: number): Promise<number> {
    const result = await this.db.deleteFrom("inbound_dedupe").where("received_at", "<", olderThan).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async reportDelivery(ref: TransmissionRef, report: DeliveryReport): Promise<number | null> {
    const stamp = now();
    return this.write(async (trx) => {
      let query = recipients(trx).select(["transmissions.id", "transmissions.message_id", "transmissions.status"]);
      if ("transmissionId" in ref) query = query.where("transmissions.id", "=", ref.transmissionId);
      else if ("messageId" in ref) query = query.where("transmissions.message_id", "=", ref.messageId).where("connections.identity", "=", ref.identity);
      else query = query.where("backends.name", "=", ref.backend).where("transmissions.external_id", "=", ref.externalId);
      const row = await query.executeTakeFirst();
      if (!row) return null;
      await trx
        .insertInto("delivery_reports")
        .values({ transmission_id: row.id, at: stamp, status: report.status, detail: report.detail ?? null })
        .execute();
      if (report.status !== "S" && row.status !== "D") {
        await trx
          .updateTable("transmissions")
          .set({
            status: report.status,
            claimed_by: null,
            claimed_until: null,
            updated_at: stamp,
            ...(report.status === "D" ? { delivered_at: stamp, error: null } : { error: report.detail ?? "the gateway reported delivery failure" }),
          })
          .where("id", "=", row.id)
          .execute();
        await refreshMessageStatus(trx, this.hot, row.message_id, stamp);
      }
      return row.id;
    });
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const [record] = await this.listMessagesWhere({ id });
    return record;
  }

  async listMessages(query: MessageQuery): Promise<MessageRecord[]> {
    return this.listMessagesWhere(query);
  }

  async getTransmission(id: number): Promise<TransmissionDetail | undefined> {
    const row = await this.transmissionsQuery().where("transmissions.id", "=", id).executeTakeFirst();
    if (!row) return undefined;
    const attempts = await this.db.selectFrom("attempts").selectAll().where("transmission_id", "=", id).orderBy("id").execute();
    const reports = await this.db.selectFrom("delivery_reports").selectAll().where("transmission_id", "=", id).orderBy("id").execute();
    return {
      ...toTransmission(row),
      attemptLog: attempts.map((a) => ({ attempt: a.attempt, at: a.at, outcome: a.outcome, durationMs: a.duration_ms, error: a.error, answer: a.answer })),
      deliveryReports: reports.map((r) => ({ at: r.at, status: r.status, detail: r.detail })),
    };
  }

  private transmissionsQuery() {
    return recipients(this.db).select([
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

  private async listMessagesWhere(query: MessageQuery & { id?: string }): Promise<MessageRecord[]> {
    let select = this.db.selectFrom("messages").selectAll("messages");
    if (query.id !== undefined) select = select.where("messages.id", "=", query.id);
    if (query.direction) select = select.where("messages.direction", "=", query.direction);
    if (query.status) select = select.where("messages.status", "=", query.status);
    if (query.inResponseTo) select = select.where("messages.in_response_to", "=", query.inResponseTo);
    if (query.before) {
      const anchor = await this.db.selectFrom("messages").select(["created_at", "id"]).where("id", "=", query.before).executeTakeFirst();
      if (!anchor) return [];
      select = select.where((eb) =>
        eb.or([
          eb("messages.created_at", "<", anchor.created_at),
          eb.and([eb("messages.created_at", "=", anchor.created_at), eb("messages.id", "<", anchor.id)]),
        ]),
      );
    }
    if (query.backend || query.identity) {
      select = select.where(({ exists, selectFrom }) =>
        exists(
          selectFrom("transmissions")
            .innerJoin("connections", "connections.id", "transmissions.connection_id")
            .innerJoin("backends", "backends.id", "connections.backend_id")
            .select("transmissions.id")
            .whereRef("transmissions.message_id", "=", "messages.id")
            .$if(!!query.backend, (q) => q.where("backends.name", "=", query.backend!))
            .$if(!!query.identity, (q) => q.where("connections.identity", "=", query.identity!)),
        ),
      );
    }
    const messages = await select
      .orderBy("messages.created_at", "desc")
      .orderBy("messages.id", "desc")
      .limit(query.limit ?? 100)
      .execute();
    if (messages.length === 0) return [];
    const transmissions = await this.transmissionsQuery()
      .where(
        "transmissions.message_id",
        "in",
        messages.map((m) => m.id),
      )
      .orderBy("transmissions.id")
      .execute();
    return messages.map((m) =>
      toMessageRecord(
        m,
        transmissions.filter((t) => t.message_id === m.id),
      ),
    );
  }

  async addBackendMessages(rows: readonly BackendMessageInit[]): Promise<void> {
    if (rows.length === 0) return;
    const stamp = now();
    await this.db
      .insertInto("backend_messages")
      .values(
        rows.map((r) => ({
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

  async listBackendMessages(query: BackendMessageQuery): Promise<BackendMessage[]> {
    const rows = await this.backendMessagesWhere(query)
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
    const row = await this.backendMessagesWhere(query)
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async clearBackendMessages(name: string, identity?: string): Promise<number> {
    const result = await this.db
      .deleteFrom("backend_messages")
      .where("name", "=", name)
      .$if(identity !== undefined, (q) => q.where("identity", "=", identity!))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private backendMessagesWhere(query: Omit<BackendMessageQuery, "limit" | "offset">) {
    return this.db
      .selectFrom("backend_messages")
      .where("name", "=", query.name)
      .$if(query.identity !== undefined, (q) => q.where("identity", "=", query.identity!))
      .$if(query.direction !== undefined, (q) => q.where("direction", "=", query.direction!));
  }
}

/** Records one inbound message unless its gateway id was accepted within the window (see Store.acceptIncoming). */
async function acceptOne(trx: Transaction<Database>, hot: HotQueries, init: IncomingRecordInit, options: AcceptOptions): Promise<AcceptResult> {
  const at = options.now ?? Date.now();
  const stamp = new Date(at).toISOString();
  const externalId = gatewayId(init.fields.externalId);
  const backend = init.connection.backend;
  if (externalId !== null) {
    // One statement, so that two processes racing with the same gateway id cannot both win.
    const claimed = await hot.claimGatewayId.run(trx, { backend, externalId, messageId: init.id, at, windowStart: at - options.dedupeWindowMs });
    if (claimed.rows.length === 0) {
      const seen = await trx
        .selectFrom("inbound_dedupe")
        .select("message_id")
        .where("backend", "=", backend)
        .where("external_id", "=", externalId)
        .executeTakeFirstOrThrow();
      return { id: seen.message_id, duplicate: true };
    }
  }
  const claim = options.claim ? { claimed_by: options.claim.owner, claimed_until: options.claim.until } : {};
  await hot.insertMessage.run(
    trx,
    newMessage({ id: init.id, direction: "I", status: "Q", text: init.text, fields: init.fields, external_id: externalId, ...claim }, stamp),
  );
  await hot.insertTransmission.run(trx, newTransmission(init.id, init.connection.id, "I", stamp));
  return { id: init.id, duplicate: false };
}

/** Transmissions with their message, connection and backend: who gets what, through which backend. */
function recipients(db: Kysely<Database> | Transaction<Database>) {
  return db
    .selectFrom("transmissions")
    .innerJoin("messages", "messages.id", "transmissions.message_id")
    .innerJoin("connections", "connections.id", "transmissions.connection_id")
    .innerJoin("backends", "backends.id", "connections.backend_id");
}

type RecipientsExpressions = ExpressionBuilder<Database & { transmissions: Database["transmissions"] }, "transmissions">;

/** A transmission to send now: queued and due, or claimed by a process whose lease ran out. */
function isDue(eb: RecipientsExpressions, now: number, queuedBefore = now) {
  return eb.or([
    eb.and([eb("transmissions.status", "=", "Q"), eb("transmissions.next_attempt_at", "<=", queuedBefore)]),
    eb.and([eb("transmissions.status", "=", "P"), eb("transmissions.claimed_until", "<", now)]),
  ]);
}

interface PendingWrite {
  run: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

function toContact(row: ContactRow): ContactRow {
  return { id: row.id, name: row.name, language: row.language };
}

interface TransmissionRow {
  id: number;
  connection_id: number;
  status: Status;
  error: string | null;
  attempts: number;
  next_attempt_at: number;
  external_id: string | null;
  segments: number | null;
  sent_at: string | null;
  delivered_at: string | null;
  backend: string;
  identity: string;
}

function toTransmission(t: TransmissionRow): TransmissionRecord {
  return {
    id: t.id,
    connectionId: t.connection_id,
    backend: t.backend,
    identity: t.identity,
    status: t.status,
    error: t.error,
    attempts: t.attempts,
    nextAttemptAt: t.status === "Q" && Number(t.next_attempt_at) > 0 ? Number(t.next_attempt_at) : null,
    externalId: t.external_id,
    segments: t.segments,
    sentAt: t.sent_at,
    deliveredAt: t.delivered_at,
  };
}

function toMessageRecord(m: Selectable<Database["messages"]>, transmissions: TransmissionRow[]): MessageRecord {
  return {
    id: m.id,
    direction: m.direction,
    status: m.status,
    text: m.text,
    fields: JSON.parse(m.fields),
    context: JSON.parse(m.context),
    externalId: m.external_id,
    inResponseTo: m.in_response_to,
    error: m.error,
    createdAt: m.created_at,
    updatedAt: m.updated_at,
    sentAt: m.sent_at,
    deliveredAt: m.delivered_at,
    transmissions: transmissions.map(toTransmission),
  };
}

function gatewayId(value: unknown): string | null {
  return value === undefined || value === null || value === "" ? null : String(value);
}

function newMessage(
  m: Pick<Selectable<Database["messages"]>, "id" | "direction" | "status" | "text"> & {
    fields: Fields;
    context?: BackendContext;
    external_id?: string | null;
    in_response_to?: string | null;
    priority?: number;
    claimed_by?: string | null;
    claimed_until?: number | null;
  },
  stamp: string,
) {
  return {
    ...m,
    fields: JSON.stringify(m.fields),
    context: JSON.stringify(m.context ?? {}),
    external_id: m.external_id ?? null,
    in_response_to: m.in_response_to ?? null,
    priority: m.priority ?? 0,
    error: null,
    claimed_by: m.claimed_by ?? null,
    claimed_until: m.claimed_until ?? null,
    created_at: stamp,
    updated_at: stamp,
    sent_at: null,
    delivered_at: null,
  };
}

function newTransmission(messageId: string, connectionId: number, direction: Direction, stamp: string, priority = 0) {
  return {
    message_id: messageId,
    connection_id: connectionId,
    direction,
    status: "Q" as const,
    rank: -priority,
    error: null,
    attempts: 0,
    next_attempt_at: 0,
    claimed_by: null,
    claimed_until: null,
    external_id: null,
    segments: null,
    created_at: stamp,
    updated_at: stamp,
    sent_at: null,
    delivered_at: null,
  };
}

/** Records an outbound message; with `claim`, its transmissions are claimed at once and returned. */
async function insertOutgoing(
  trx: Transaction<Database>,
  hot: HotQueries,
  init: OutgoingRecordInit,
  stamp: string,
  claim?: Claim,
): Promise<ClaimedTransmission[]> {
  await hot.insertMessage.run(
    trx,
    newMessage(
      {
        id: init.id,
        direction: "O",
        status: "P",
        text: init.text,
        fields: init.fields,
        in_response_to: init.inResponseTo,
        context: init.context,
        priority: init.priority,
      },
      stamp,
    ),
  );
  const transmissions = init.connections.map((c) => newTransmission(init.id, c.id, "O", stamp, init.priority));
  if (claim) {
    const claimed: ClaimedTransmission[] = [];
    for (const [i, transmission] of transmissions.entries()) {
      const row = { ...transmission, status: "P" as const, attempts: 1, claimed_by: claim.owner, claimed_until: claim.until };
      const [{ id }] = (await hot.insertTransmission.run(trx, row)).rows;
      const { backend, identity } = init.connections[i];
      claimed.push({ id, messageId: init.id, text: init.text, context: init.context, backend, identity, attempt: 1 });
    }
    return claimed;
  }
  if (transmissions.length === 1) await hot.insertTransmission.run(trx, transmissions[0]);
  else if (transmissions.length > 1) await trx.insertInto("transmissions").values(transmissions).execute();
  return [];
}

/** The messages of the outcomes' transmissions, each once: as the outcomes give them, or from the store. */
async function messagesOf(trx: Transaction<Database>, hot: HotQueries, outcomes: readonly SendOutcome[]): Promise<string[]> {
  if (outcomes.every((o) => o.messageId !== undefined)) return [...new Set(outcomes.map((o) => o.messageId!))];
  const rows =
    outcomes.length === 1
      ? (await hot.messageOfTransmission.run(trx, { id: outcomes[0].transmissionId })).rows
      : await trx
          .selectFrom("transmissions")
          .select("message_id")
          .distinct()
          .where(
            "id",
            "in",
            outcomes.map((o) => o.transmissionId),
          )
          .execute();
  return rows.map((r) => r.message_id);
}

/** Re-derives a message's status from its transmissions (CONTRACTS.md §7.6) and saves it. */
async function refreshMessageStatus(trx: Transaction<Database>, hot: HotQueries, messageId: string, stamp: string): Promise<Status> {
  const rows = (await hot.messageStatuses.run(trx, { id: messageId })).rows;
  if (rows.length === 0) throw new Error(`message ${messageId} is not in the store`);
  const [{ direction, message_status: was }] = rows;
  const transmissions = rows.filter((r) => r.status !== null);
  const status = deriveMessageStatus(
    direction,
    transmissions.map((r) => r.status!),
  );
  const errors = [...new Set(transmissions.map((r) => r.error).filter((e): e is string => !!e))];
  await hot.setMessageStatus.run(trx, {
    id: messageId,
    status,
    error: errors.length > 0 ? errors.join("; ") : null,
    stamp,
    sentAt: status === "S" && was !== "S" ? stamp : null,
    deliveredAt: status === "D" && was !== "D" ? stamp : null,
  });
  return status;
}
