import { sql, type ColumnDefinitionBuilder, type Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import { ConfigError, errorText } from "../errors.ts";
import { migrationTables, type StoreNaming, withNaming } from "./kysely/naming.ts";
import { TABLES } from "./schema.ts";

type IdColumn = [type: "integer" | "serial", build: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder];

/** Schema migrations, in order, for either database. Never edit a released one: add the next. */
const migrations = (id: IdColumn): Record<string, Migration> => ({
  "0001_core": {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on the schema types of today's code
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("backends")
        .addColumn("id", ...id)
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("contacts")
        .addColumn("id", ...id)
        .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("language", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("created_on", "text", (c) => c.notNull())
        .addColumn("modified_on", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("connections")
        .addColumn("id", ...id)
        .addColumn("backend_id", "integer", (c) => c.notNull().references("backends.id").onDelete("cascade"))
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("contact_id", "integer", (c) => c.references("contacts.id").onDelete("set null"))
        .addColumn("created_on", "text", (c) => c.notNull())
        .addColumn("modified_on", "text", (c) => c.notNull())
        .addUniqueConstraint("connections_backend_identity", ["backend_id", "identity"])
        .execute();
      await db.schema
        .createTable("messages")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("direction", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .addColumn("fields", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("external_id", "text")
        .addColumn("in_response_to", "text", (c) => c.references("messages.id").onDelete("set null"))
        .addColumn("context", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("priority", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("error", "text")
        .addColumn("claimed_by", "text")
        .addColumn("claimed_until", "bigint")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("sent_at", "text")
        .addColumn("delivered_at", "text")
        .execute();
      // Claims walk it in order: unprocessed inbound messages, oldest first.
      await db.schema.createIndex("messages_queue").on("messages").columns(["direction", "status", "created_at", "id"]).execute();
      await db.schema.createIndex("messages_in_response_to").on("messages").column("in_response_to").execute();
      await db.schema.createIndex("messages_created_at").on("messages").column("created_at").execute();
      await db.schema
        .createTable("transmissions")
        .addColumn("id", ...id)
        .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
        .addColumn("connection_id", "integer", (c) => c.notNull().references("connections.id").onDelete("cascade"))
        .addColumn("direction", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("rank", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("error", "text")
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("claimed_by", "text")
        .addColumn("claimed_until", "bigint")
        .addColumn("external_id", "text")
        .addColumn("segments", "integer")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("sent_at", "text")
        .addColumn("delivered_at", "text")
        .execute();
      await db.schema.createIndex("transmissions_message").on("transmissions").column("message_id").execute();
      // Claims walk it in order: queued outbound transmissions by rank (replies first), then due time.
      await db.schema.createIndex("transmissions_queue").on("transmissions").columns(["direction", "status", "rank", "next_attempt_at", "id"]).execute();
      await db.schema.createIndex("transmissions_external_id").on("transmissions").column("external_id").execute();
      await db.schema
        .createTable("inbound_dedupe")
        .addColumn("backend", "text", (c) => c.notNull())
        .addColumn("external_id", "text", (c) => c.notNull())
        .addColumn("message_id", "text", (c) => c.notNull())
        .addColumn("received_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("inbound_dedupe_pk", ["backend", "external_id"])
        .execute();
      await db.schema
        .createTable("attempts")
        .addColumn("id", ...id)
        .addColumn("transmission_id", "integer", (c) => c.notNull().references("transmissions.id").onDelete("cascade"))
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("outcome", "text", (c) => c.notNull())
        .addColumn("duration_ms", "integer", (c) => c.notNull())
        .addColumn("error", "text")
        .addColumn("answer", "text")
        .execute();
      await db.schema.createIndex("attempts_transmission").on("attempts").column("transmission_id").execute();
      await db.schema
        .createTable("delivery_reports")
        .addColumn("id", ...id)
        .addColumn("transmission_id", "integer", (c) => c.notNull().references("transmissions.id").onDelete("cascade"))
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("detail", "text")
        .execute();
      await db.schema.createIndex("delivery_reports_transmission").on("delivery_reports").column("transmission_id").execute();
      await db.schema.createIndex("transmissions_connection").on("transmissions").column("connection_id").execute();
      await db.schema
        .createTable("send_pacing")
        .addColumn("backend", "text", (c) => c.primaryKey())
        .addColumn("next_at", "double precision", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("backend_messages")
        .addColumn("id", ...id)
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("date", "text", (c) => c.notNull())
        .addColumn("direction", "text", (c) => c.notNull())
        .addColumn("message_id", "text", (c) => c.notNull())
        .addColumn("external_id", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("backend_messages_name_identity").on("backend_messages").columns(["name", "identity"]).execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for up
    async down(db: Kysely<any>) {
      for (const table of [
        "send_pacing",
        "delivery_reports",
        "attempts",
        "inbound_dedupe",
        "backend_messages",
        "transmissions",
        "messages",
        "connections",
        "contacts",
        "backends",
      ]) {
        await sql`drop table if exists ${sql.table(table)}`.execute(db);
      }
    },
  },
  // Inbound processing is retried with backoff and given up on; claims are renewed, released and
  // fenced by their token, which the indexes find without scanning the tables' history.
  "0002_claims": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable("messages")
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable("messages")
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull().defaultTo(0))
        .execute();
      for (const table of ["messages", "transmissions"]) {
        await db.schema.createIndex(`${table}_claimed_by`).on(table).column("claimed_by").where(sql.ref("claimed_by"), "is not", null).execute();
      }
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      for (const table of ["messages", "transmissions"]) await db.schema.dropIndex(`${table}_claimed_by`).execute();
      await db.schema.alterTable("messages").dropColumn("next_attempt_at").execute();
      await db.schema.alterTable("messages").dropColumn("attempts").execute();
    },
  },
  // Delivery reports are recorded once however often a gateway sends them; a report whose gateway
  // id is not known yet (it overtook the send's answer) waits until it is.
  "0003_reports": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema.alterTable("delivery_reports").addColumn("fingerprint", "text").execute();
      await db.schema.createIndex("delivery_reports_once").on("delivery_reports").columns(["transmission_id", "fingerprint"]).unique().execute();
      await db.schema
        .createTable("pending_reports")
        .addColumn("id", ...id)
        .addColumn("backend", "text", (c) => c.notNull())
        .addColumn("external_id", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("detail", "text")
        .addColumn("fingerprint", "text", (c) => c.notNull())
        .addColumn("received_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("pending_reports_once").on("pending_reports").columns(["backend", "external_id", "fingerprint"]).unique().execute();
      await db.schema.createIndex("pending_reports_received_at").on("pending_reports").column("received_at").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropTable("pending_reports").execute();
      await db.schema.dropIndex("delivery_reports_once").execute();
      await db.schema.alterTable("delivery_reports").dropColumn("fingerprint").execute();
    },
  },
  // Contacts keep fields of the service's own (JSON) and belong to groups, which broadcasts go to.
  "0004_contacts_groups": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable("contacts")
        .addColumn("fields", "text", (c) => c.notNull().defaultTo("{}"))
        .execute();
      await db.schema.createIndex("connections_contact").on("connections").column("contact_id").execute();
      await db.schema
        .createTable("contact_groups")
        .addColumn("id", ...id)
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("created_on", "text", (c) => c.notNull())
        .addColumn("modified_on", "text", (c) => c.notNull())
        .addUniqueConstraint("contact_groups_name", ["name"])
        .execute();
      await db.schema
        .createTable("contact_group_members")
        .addColumn("group_id", "integer", (c) => c.notNull().references("contact_groups.id").onDelete("cascade"))
        .addColumn("contact_id", "integer", (c) => c.notNull().references("contacts.id").onDelete("cascade"))
        .addColumn("added_on", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("contact_group_members_pk", ["group_id", "contact_id"])
        .execute();
      await db.schema.createIndex("contact_group_members_contact").on("contact_group_members").column("contact_id").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropTable("contact_group_members").execute();
      await db.schema.dropTable("contact_groups").execute();
      await db.schema.dropIndex("connections_contact").execute();
      await db.schema.alterTable("contacts").dropColumn("fields").execute();
    },
  },
  // Sessions a gateway holds open across messages (USSD), and the parts of long inbound messages, so that
  // a restart between two steps or two parts loses nothing.
  "0005_sessions_and_parts": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("message_sessions")
        .addColumn("backend_id", "integer", (c) => c.notNull().references("backends.id").onDelete("cascade"))
        .addColumn("session_key", "text", (c) => c.notNull())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("first_message_id", "text", (c) => c.notNull())
        .addColumn("steps", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("state", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("started_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("ended_at", "text")
        .addPrimaryKeyConstraint("message_sessions_pk", ["backend_id", "session_key"])
        .execute();
      await db.schema.createIndex("message_sessions_updated").on("message_sessions").column("updated_at").execute();
      // The parts of long inbound messages that gateways deliver one by one (a concatenated SMS), until all are in.
      await db.schema
        .createTable("inbound_parts")
        .addColumn("backend_id", "integer", (c) => c.notNull().references("backends.id").onDelete("cascade"))
        .addColumn("group_key", "text", (c) => c.notNull())
        .addColumn("part_number", "integer", (c) => c.notNull())
        .addColumn("total", "integer", (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .addColumn("fields", "text", (c) => c.notNull().defaultTo("{}"))
        .addColumn("external_id", "text")
        .addColumn("received_at", "bigint", (c) => c.notNull())
        .addColumn("released_at", "bigint")
        .addPrimaryKeyConstraint("inbound_parts_pk", ["backend_id", "group_key", "part_number"])
        .execute();
      await db.schema.createIndex("inbound_parts_received").on("inbound_parts").column("received_at").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropTable("inbound_parts").execute();
      await db.schema.dropTable("message_sessions").execute();
    },
  },
  // The gateway's id of each part of a long message sent, for receipts that come per part.
  "0006_transmission_parts": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("transmission_parts")
        .addColumn("transmission_id", "integer", (c) => c.notNull().references("transmissions.id").onDelete("cascade"))
        .addColumn("part_number", "integer", (c) => c.notNull())
        .addColumn("external_id", "text", (c) => c.notNull())
        .addColumn("status", "text")
        .addPrimaryKeyConstraint("transmission_parts_pk", ["transmission_id", "part_number"])
        .execute();
      await db.schema.createIndex("transmission_parts_external").on("transmission_parts").column("external_id").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropTable("transmission_parts").execute();
    },
  },
  // Who asked to get no more messages (STOP), per connection: sends to them end E, never sent.
  "0007_opt_outs": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("opt_outs")
        .addColumn("connection_id", "integer", (c) => c.primaryKey().references("connections.id").onDelete("cascade"))
        .addColumn("opted_out_at", "text", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("detail", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("message_id", "text", (c) => c.references("messages.id").onDelete("set null"))
        .execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropTable("opt_outs").execute();
    },
  },
  // The webhook outbox (forwards to other apps, status events) and the eventUrl of outbound messages.
  "0008_webhooks": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema.alterTable("messages").addColumn("event_url", "text").execute();
      await db.schema
        .createTable("webhook_deliveries")
        .addColumn("id", ...id)
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("dedupe_key", "text", (c) => c.notNull())
        .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
        .addColumn("transmission_id", "integer", (c) => c.references("transmissions.id").onDelete("cascade"))
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("claimed_by", "text")
        .addColumn("claimed_until", "bigint")
        .addColumn("error", "text")
        .addColumn("answer_status", "integer")
        .addColumn("answer", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("webhook_deliveries_once").on("webhook_deliveries").column("dedupe_key").unique().execute();
      await db.schema.createIndex("webhook_deliveries_due").on("webhook_deliveries").columns(["status", "next_attempt_at", "id"]).execute();
      await db.schema
        .createIndex("webhook_deliveries_claimed")
        .on("webhook_deliveries")
        .column("claimed_by")
        .where(sql.ref("claimed_by"), "is not", null)
        .execute();
      await db.schema.createIndex("webhook_deliveries_message").on("webhook_deliveries").columns(["message_id", "id"]).execute();
      await db.schema.createIndex("webhook_deliveries_transmission").on("webhook_deliveries").columns(["transmission_id", "id"]).execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropTable("webhook_deliveries").execute();
      await db.schema.alterTable("messages").dropColumn("event_url").execute();
    },
  },
  "0009_message_log": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      // Which app's handle (or default) answered an inbound message, and when it was processed: the message log's timeline.
      await db.schema.alterTable("messages").addColumn("handled_by", "text").execute();
      await db.schema.alterTable("messages").addColumn("processed_at", "text").execute();
      // The message log searches by phone number on every backend: (backend_id, identity) cannot serve that.
      await db.schema.createIndex("connections_identity").on("connections").column("identity").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropIndex("connections_identity").execute();
      await db.schema.alterTable("messages").dropColumn("processed_at").execute();
      await db.schema.alterTable("messages").dropColumn("handled_by").execute();
    },
  },
  "0010_retention": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      // The retention purge walks the database backend's rows oldest first.
      await db.schema.createIndex("backend_messages_date").on("backend_messages").column("date").execute();
      // Deleting a message looks for the opt-outs that name it (their foreign key): by index, not by scan.
      await db.schema.createIndex("opt_outs_message").on("opt_outs").column("message_id").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropIndex("opt_outs_message").execute();
      await db.schema.dropIndex("backend_messages_date").execute();
    },
  },
  // The START that last opted each connection back in: processed again after a failure, it is still a START.
  "0011_opt_in": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("opt_ins")
        .addColumn("connection_id", "integer", (c) => c.primaryKey().references("connections.id").onDelete("cascade"))
        .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
        .addColumn("opted_in_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("opt_ins_message").on("opt_ins").column("message_id").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropTable("opt_ins").execute();
    },
  },
  "0012_message_directions": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      // The message log lists one direction newest first: an index range, not a sort of every message.
      await db.schema.createIndex("messages_direction_created").on("messages").columns(["direction", "created_at", "id"]).execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.dropIndex("messages_direction_created").execute();
    },
  },
  "0013_cancelled": {
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async up(db: Kysely<any>) {
      // When DELETE /api/messages/<id> cancelled it: a transmission being sent then is not tried again.
      await db.schema.alterTable("messages").addColumn("cancelled_at", "text").execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: as for 0001
    async down(db: Kysely<any>) {
      await db.schema.alterTable("messages").dropColumn("cancelled_at").execute();
    },
  },
});

/** The migrations, run on the tables as `naming` names them. */
function migrationProvider(dialect: "sqlite" | "postgres", naming: StoreNaming): MigrationProvider {
  const id: IdColumn = dialect === "postgres" ? ["serial", (c) => c.primaryKey()] : ["integer", (c) => c.primaryKey().autoIncrement()];
  const named = Object.entries(migrations(id)).map(([name, m]): [string, Migration] => [
    name,
    {
      up: (db) => m.up(withNaming(db, naming, TABLES)),
      down: m.down && ((db) => m.down!(withNaming(db, naming, TABLES))),
    },
  ]);
  return { getMigrations: async () => Object.fromEntries(named) };
}

export const MIGRATIONS: readonly string[] = Object.keys(migrations(["integer", (c) => c]));

/**
 * Brings the database to the latest schema, each run in one transaction (both databases allow
 * DDL in one). A database that has never had RapidSMS's migrations is checked first: tables of
 * the host's with RapidSMS's names, or another app's Kysely migrations in the table RapidSMS
 * would use, stop it with a ConfigError that says what to set. When the first migration fails,
 * what it made (the migration tables, the schema it created) is dropped again.
 */
// biome-ignore lint/suspicious/noExplicitAny: the database as it is before and during migrations, not as schema.ts types it
export async function migrate(db: Kysely<any>, dialect: "sqlite" | "postgres", naming: StoreNaming): Promise<void> {
  const { table, lock } = migrationTables(naming);
  const place = naming.schema ? ` in schema "${naming.schema}"` : "";
  const fix = `set tablePrefix (as in "rapidsms_")${dialect === "postgres" ? " or databaseSchema" : ""} in the config to give RapidSMS tables of its own`;
  // The schema the tables are in. Kysely looks for its migration table in every schema unless it is given one.
  const schema = dialect === "postgres" ? (naming.schema ?? (await currentSchema(db))) : undefined;
  const schemaExisted = naming.schema ? await schemaExists(db, naming.schema) : true;
  const migrated = (await existingTables(db, schema, [table])).length > 0;
  const scoped = schema ? db.withSchema(schema) : db;
  if (migrated) {
    const applied: { name: string }[] = await scoped.selectFrom(table).select("name").execute();
    const foreign = applied.map((row) => row.name).filter((name) => !MIGRATIONS.includes(name));
    if (foreign.length > 0)
      throw new ConfigError(`the database's table ${table}${place} holds migrations that are not RapidSMS's (${foreign.slice(0, 3).join(", ")}): ${fix}`);
    // Up to date, as on most starts: the Migrator's lock and its own checks would take longer than the rest of the start's store work.
    if (applied.length === MIGRATIONS.length) return;
  } else {
    const ours = TABLES.map((t) => naming.tablePrefix + t);
    const taken = await existingTables(db, schema, ours);
    if (taken.length > 0) throw new ConfigError(`the database already has tables named ${taken.join(", ")}${place}, which are not RapidSMS's: ${fix}`);
  }
  const { error, results } = await new Migrator({
    db,
    provider: migrationProvider(dialect, naming),
    migrationTableName: table,
    migrationLockTableName: lock,
    migrationTableSchema: schema,
  }).migrateToLatest();
  if (!error) return;
  if (!migrated) await undoFirstMigration(db, scoped, naming, schemaExisted).catch(() => {});
  const failed = results?.find((r) => r.status === "Error")?.migrationName;
  throw new Error(`database migration ${failed ?? "set-up"} failed: ${errorText(error)}`, { cause: error });
}

/** Drops what a failed first migration left (the migration tables, and the schema if it made it), unless another process has migrated meanwhile. */
// biome-ignore lint/suspicious/noExplicitAny: as for migrate
async function undoFirstMigration(db: Kysely<any>, scoped: Kysely<any>, naming: StoreNaming, schemaExisted: boolean): Promise<void> {
  const { table, lock } = migrationTables(naming);
  const applied = await scoped
    .selectFrom(table)
    .select("name")
    .execute()
    .catch(() => []);
  if (applied.length > 0) return;
  await scoped.schema.dropTable(lock).ifExists().execute();
  await scoped.schema.dropTable(table).ifExists().execute();
  if (naming.schema && !schemaExisted) await db.schema.dropSchema(naming.schema).ifExists().execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as for migrate
export async function currentSchema(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ name: string }>`select current_schema() as name`.execute(db);
  if (!rows[0]?.name) throw new ConfigError("the database connection has no current schema (an empty search_path): set databaseSchema in the config");
  return rows[0].name;
}

// biome-ignore lint/suspicious/noExplicitAny: as for migrate
async function schemaExists(db: Kysely<any>, schema: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`select 1 as n from information_schema.schemata where schema_name = ${schema}`.execute(db);
  return rows.length > 0;
}

/** Which of `names` are tables: in `schema` on PostgreSQL, in the file on SQLite (which has none). */
// biome-ignore lint/suspicious/noExplicitAny: as for migrate
export async function existingTables(db: Kysely<any>, schema: string | undefined, names: readonly string[]): Promise<string[]> {
  const list = sql.join(names.map((name) => sql`${name}`));
  const { rows } =
    schema === undefined
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name in (${list}) order by name`.execute(db)
      : await sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = ${schema} and table_name in (${list}) order by table_name`.execute(db);
  return rows.map((row) => row.name);
}
