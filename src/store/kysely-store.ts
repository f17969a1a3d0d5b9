import { sql, type Kysely, type Selectable } from "kysely";
import { Migrator } from "kysely/migration";
import type { Connection } from "../messages/connection.ts";
import { deriveMessageStatus, type Status } from "../messages/status.ts";
import { migrationProvider } from "./migrations.ts";
import type { Database } from "./schema.ts";
import type {
  BackendMessage,
  BackendMessageInit,
  BackendMessageQuery,
  BackendRow,
  ContactRow,
  IncomingRecordInit,
  MessageQuery,
  MessageRecord,
  OutgoingRecordInit,
  Store,
  TransmissionRecord,
  TransmissionUpdate,
} from "./store.ts";

const now = () => new Date().toISOString();

/** The Store written once in Kysely; each database supplies only its dialect (see sqlite.ts). */
export class KyselyStore implements Store {
  protected readonly db: Kysely<Database>;
  private readonly backendIds = new Map<string, number>();

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({ db: this.db, provider: migrationProvider }).migrateToLatest();
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
    const rows = await this.db.transaction().execute(async (trx) => {
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
    await this.db
      .updateTable("connections")
      .set({ contact_id: contactId, modified_on: now() })
      .where("id", "=", connectionId)
      .execute();
  }

  async saveIncoming(init: IncomingRecordInit): Promise<void> {
    const stamp = now();
    const externalId = init.fields.externalId;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("messages")
        .values({
          id: init.id,
          direction: "I",
          status: "Q",
          text: init.text,
          fields: JSON.stringify(init.fields),
          external_id: externalId === undefined || externalId === null ? null : String(externalId),
          in_response_to: null,
          error: null,
          created_at: stamp,
          updated_at: stamp,
          sent_at: null,
          delivered_at: null,
        })
        .execute();
      await trx
        .insertInto("transmissions")
        .values({ message_id: init.id, connection_id: init.connection.id, status: "Q", error: null, created_at: stamp, updated_at: stamp, sent_at: null, delivered_at: null })
        .execute();
    });
  }

  async finishIncoming(id: string, status: "R" | "E", error?: string): Promise<void> {
    const stamp = now();
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable("transmissions").set({ status, error: error ?? null, updated_at: stamp }).where("message_id", "=", id).execute();
      await trx.updateTable("messages").set({ status, error: error ?? null, updated_at: stamp }).where("id", "=", id).execute();
    });
  }

  async saveOutgoing(init: OutgoingRecordInit): Promise<TransmissionRecord[]> {
    const stamp = now();
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("messages")
        .values({
          id: init.id,
          direction: "O",
          status: "P",
          text: init.text,
          fields: JSON.stringify(init.fields),
          external_id: null,
          in_response_to: init.inResponseTo,
          error: null,
          created_at: stamp,
          updated_at: stamp,
          sent_at: null,
          delivered_at: null,
        })
        .execute();
      if (init.connections.length === 0) return [];
      const inserted = await trx
        .insertInto("transmissions")
        .values(init.connections.map((c) => ({ message_id: init.id, connection_id: c.id, status: "P" as const, error: null, created_at: stamp, updated_at: stamp, sent_at: null, delivered_at: null })))
        .returning(["id", "connection_id"])
        .execute();
      return inserted.map((row, i) => ({
        id: row.id,
        connectionId: row.connection_id,
        backend: init.connections[i].backend,
        identity: init.connections[i].identity,
        status: "P" as const,
        error: null,
        sentAt: null,
        deliveredAt: null,
      }));
    });
  }

  async updateTransmissions(messageId: string, updates: readonly TransmissionUpdate[]): Promise<Status> {
    const stamp = now();
    return this.db.transaction().execute(async (trx) => {
      for (const update of updates) {
        if (update.ids.length === 0) continue;
        await trx
          .updateTable("transmissions")
          .set({
            status: update.status,
            error: update.error ?? null,
            updated_at: stamp,
            ...(update.status === "S" ? { sent_at: stamp } : {}),
            ...(update.status === "D" ? { delivered_at: stamp } : {}),
          })
          .where("message_id", "=", messageId)
          .where("id", "in", update.ids)
          .execute();
      }
      const statuses = await trx.selectFrom("transmissions").select("status").where("message_id", "=", messageId).execute();
      const message = await trx.selectFrom("messages").select("direction").where("id", "=", messageId).executeTakeFirstOrThrow();
      const status = deriveMessageStatus(message.direction, statuses.map((s) => s.status));
      const errors = updates.map((u) => u.error).filter((e): e is string => !!e);
      await trx
        .updateTable("messages")
        .set({
          status,
          updated_at: stamp,
          ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
          ...(status === "S" ? { sent_at: stamp } : {}),
          ...(status === "D" ? { delivered_at: stamp } : {}),
        })
        .where("id", "=", messageId)
        .execute();
      return status;
    });
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const [record] = await this.listMessagesWhere({ id });
    return record;
  }

  async listMessages(query: MessageQuery): Promise<MessageRecord[]> {
    return this.listMessagesWhere(query);
  }

  private async listMessagesWhere(query: MessageQuery & { id?: string }): Promise<MessageRecord[]> {
    let select = this.db.selectFrom("messages").selectAll("messages");
    if (query.id !== undefined) select = select.where("messages.id", "=", query.id);
    if (query.direction) select = select.where("messages.direction", "=", query.direction);
    if (query.status) select = select.where("messages.status", "=", query.status);
    if (query.inResponseTo) select = select.where("messages.in_response_to", "=", query.inResponseTo);
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
    const transmissions = await this.db
      .selectFrom("transmissions")
      .innerJoin("connections", "connections.id", "transmissions.connection_id")
      .innerJoin("backends", "backends.id", "connections.backend_id")
      .select([
        "transmissions.id",
        "transmissions.message_id",
        "transmissions.connection_id",
        "transmissions.status",
        "transmissions.error",
        "transmissions.sent_at",
        "transmissions.delivered_at",
        "backends.name as backend",
        "connections.identity",
      ])
      .where("transmissions.message_id", "in", messages.map((m) => m.id))
      .orderBy("transmissions.id")
      .execute();
    return messages.map((m) => toMessageRecord(m, transmissions.filter((t) => t.message_id === m.id)));
  }

  async addBackendMessages(rows: readonly BackendMessageInit[]): Promise<void> {
    if (rows.length === 0) return;
    const stamp = now();
    await this.db
      .insertInto("backend_messages")
      .values(rows.map((r) => ({ name: r.name, date: stamp, direction: r.direction, message_id: r.messageId, external_id: r.externalId, identity: r.identity, text: r.text })))
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

function toContact(row: ContactRow): ContactRow {
  return { id: row.id, name: row.name, language: row.language };
}

interface TransmissionRow {
  id: number;
  connection_id: number;
  status: Status;
  error: string | null;
  sent_at: string | null;
  delivered_at: string | null;
  backend: string;
  identity: string;
}

function toMessageRecord(m: Selectable<Database["messages"]>, transmissions: TransmissionRow[]): MessageRecord {
  return {
    id: m.id,
    direction: m.direction,
    status: m.status,
    text: m.text,
    fields: JSON.parse(m.fields),
    externalId: m.external_id,
    inResponseTo: m.in_response_to,
    error: m.error,
    createdAt: m.created_at,
    updatedAt: m.updated_at,
    sentAt: m.sent_at,
    deliveredAt: m.delivered_at,
    transmissions: transmissions.map((t) => ({
      id: t.id,
      connectionId: t.connection_id,
      backend: t.backend,
      identity: t.identity,
      status: t.status,
      error: t.error,
      sentAt: t.sent_at,
      deliveredAt: t.delivered_at,
    })),
  };
}
