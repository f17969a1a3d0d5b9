import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { type Generated, type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "../../../test/support/postgres.ts";
import { ConfigError } from "../../errors.ts";
import { openStore } from "../open.ts";
import { openSqliteStore } from "../sqlite.ts";
import type { Store } from "../store.ts";
import { type AppTables, appDatabase, checkAppTables, migrateApps } from "./migrate.ts";
import { idColumn } from "./columns.ts";
import { SqlSessions } from "./sessions.ts";

interface ClinicTables {
  reporters: { id: Generated<number>; phone: string; name: string };
  reports: { id: Generated<number>; reporter_id: number; message_id: string; cases: number };
}

const first: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("reporters")
      .addColumn("id", ...idColumn(db))
      .addColumn("phone", "text", (c) => c.notNull().unique())
      .addColumn("name", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("reports")
      .addColumn("id", ...idColumn(db))
      .addColumn("reporter_id", "integer", (c) => c.notNull().references("reporters.id"))
      .addColumn("message_id", "text", (c) => c.notNull().unique())
      .addColumn("cases", "integer", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("reports_reporter").on("reports").column("reporter_id").execute();
  },
};
const clinic: AppTables = { app: "clinic", tables: ["reporters", "reports"], migrations: { "0001_reporters": first } };

const dir = mkdtempSync(join(tmpdir(), "rapidsms-app-data-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `app-${files++}.db`);

/** What every store must do with an app's tables. */
function appDataContract(name: string, open: () => Promise<Store>) {
  describe(`app tables on ${name}`, () => {
    let store: Store;
    let db: Kysely<ClinicTables>;
    before(async () => {
      store = await open();
      await store.migrate();
      await migrateApps(store.appData(), [clinic]);
      db = appDatabase(store.appData(), [clinic]);
    });
    after(() => store?.close());

    test("the app's migrations make its tables, and its queries use them by the names it declared", async () => {
      const [{ id }] = await db.insertInto("reporters").values({ phone: "+255700000001", name: "Amina" }).returning("id").execute();
      await db.insertInto("reports").values({ reporter_id: id, message_id: "m1", cases: 3 }).execute();
      const rows = await db
        .selectFrom("reports")
        .innerJoin("reporters", "reporters.id", "reports.reporter_id")
        .select(["reporters.name", "reports.cases"])
        .execute();
      assert.deepEqual(
        rows.map((r) => ({ ...r })),
        [{ name: "Amina", cases: 3 }],
      );
    });

    test("migrating again changes nothing, and a new migration is applied once", async () => {
      await migrateApps(store.appData(), [clinic]);
      const second: AppTables = {
        ...clinic,
        migrations: {
          ...clinic.migrations,
          "0002_reporter_language": {
            up: (m: Kysely<unknown>) =>
              m.schema
                .alterTable("reporters")
                .addColumn("language", "text", (c) => c.notNull().defaultTo("en"))
                .execute(),
          },
        },
      };
      await migrateApps(store.appData(), [second]);
      await migrateApps(store.appData(), [second]);
      const row = await (db as Kysely<{ reporters: { name: string; language: string } }>)
        .selectFrom("reporters")
        .select(["name", "language"])
        .executeTakeFirstOrThrow();
      assert.deepEqual({ ...row }, { name: "Amina", language: "en" });
    });

    test("a transaction is all or nothing, and the store goes on working beside it", async () => {
      await db.transaction().execute(async (trx) => {
        const [{ id }] = await trx.insertInto("reporters").values({ phone: "+255700000002", name: "Juma" }).returning("id").execute();
        await trx.insertInto("reports").values({ reporter_id: id, message_id: "m2", cases: 1 }).execute();
      });
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto("reporters").values({ phone: "+255700000003", name: "Neema" }).execute();
          await trx.insertInto("reports").values({ reporter_id: 999_999, message_id: "m1", cases: 1 }).execute();
        }),
      );
      const names = await db.selectFrom("reporters").select("name").orderBy("id").execute();
      assert.deepEqual(
        names.map((r) => r.name),
        ["Amina", "Juma"],
      );
      const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["+255700000009"] });
      const accepted = store.acceptIncoming({ message: { id: `in-${name}`, text: "REPORT 4", fields: {}, connection }, dedupeWindowMs: 60_000 });
      await db.transaction().execute(async (trx) => {
        await trx.updateTable("reports").set({ cases: 2 }).where("message_id", "=", "m2").execute();
      });
      assert.equal((await accepted).duplicate, false);
      assert.equal((await store.getMessage(`in-${name}`))?.text, "REPORT 4");
    });

    test("the app's data is the store's database: the app can join its rows to RapidSMS's", async () => {
      const rows = await (db as unknown as Kysely<{ connections: { identity: string } }>).selectFrom("connections").select("identity").execute();
      assert.ok(rows.some((r) => r.identity === "+255700000009"));
    });
  });
}

appDataContract("SQLite in memory", async () => openSqliteStore(":memory:"));
appDataContract("the SQLite file (the store in its thread)", async () => openStore(`sqlite:${file()}`));
appDataContract("the SQLite file with a table prefix", async () => openStore(`sqlite:${file()}`, dir, { naming: { tablePrefix: "sms_" } }));

test("on the store thread, the app's tables are in the file, prefixed, with a migration table of the app's own", async () => {
  const path = file();
  const store = openStore(`sqlite:${path}`, dir, { naming: { tablePrefix: "sms_" } });
  await store.migrate();
  await migrateApps(store.appData(), [clinic]);
  await store.close();
  const raw = new DatabaseSync(path);
  const names = (
    raw.prepare("select name from sqlite_master where name like 'sms_clinic%' or name like 'sms_report%' order by name").all() as { name: string }[]
  ).map((r) => r.name);
  raw.close();
  assert.deepEqual(names, ["sms_clinic_migration", "sms_clinic_migration_lock", "sms_reporters", "sms_reports", "sms_reports_reporter"]);
});

test("a table of the database with an app table's name stops the app's first migration with a ConfigError, and nothing is made", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  await sql`create table reports (id integer)`.execute(store.appData().db);
  await assert.rejects(migrateApps(store.appData(), [clinic]), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /app "clinic": the database already has tables named reports, which its migrations did not make/);
    return true;
  });
  const { rows } = await sql<{ name: string }>`select name from sqlite_master where name = 'reporters' or name like 'clinic_%'`.execute(store.appData().db);
  assert.deepEqual(rows, []);
  await store.close();
});

test("an app's tables may not take RapidSMS's names or another app's, and need migrations", () => {
  assert.throws(
    () => checkAppTables([{ ...clinic, tables: ["messages"] }]),
    /app "clinic": table "messages" is RapidSMS's; name it after the app, as in clinic_messages/,
  );
  assert.throws(() => checkAppTables([clinic, { ...clinic, app: "survey" }]), /app "survey": table "reporters" is app "clinic"'s/);
  assert.throws(() => checkAppTables([{ ...clinic, migrations: {} }]), /declares tables but no migrations/);
  assert.throws(() => checkAppTables([{ ...clinic, app: "my-app" }]), /give it an appName of letters, digits and underscores/);
  assert.throws(() => checkAppTables([{ ...clinic, app: "kysely" }]), /its migration table would be RapidSMS's/);
  assert.throws(() => checkAppTables([clinic, { ...clinic, app: "survey", tables: ["clinic_migration"] }]), /table "clinic_migration" is app "clinic"'s/);
});

test("a migration that fails names the app and the migration; what the run did is undone, earlier runs stay", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  await migrateApps(store.appData(), [clinic]);
  const broken: AppTables = {
    ...clinic,
    migrations: {
      ...clinic.migrations,
      "0002_index": { up: (db: Kysely<unknown>) => db.schema.createIndex("reporters_name").on("reporters").column("name").execute() },
      "0003_broken": { up: (db: Kysely<unknown>) => sql`create table reporters (id integer)`.execute(db).then(() => {}) },
    },
  };
  await assert.rejects(migrateApps(store.appData(), [broken]), /^Error: app "clinic": database migration 0003_broken failed: /);
  const { rows } = await sql<{ name: string }>`select name from clinic_migration`.execute(store.appData().db);
  assert.deepEqual(
    rows.map((r) => r.name),
    ["0001_reporters"],
  );
  const index = await sql`select name from sqlite_master where name = 'reporters_name'`.execute(store.appData().db);
  assert.deepEqual(index.rows, [], "0002 ran in the run that failed");
  await store.close();
});

test("SqlSessions: a transaction left without a statement is rolled back, and the store's connection is free again", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  await migrateApps(store.appData(), [clinic]);
  const sessions = new SqlSessions(store.appData().db, 50);
  await sessions.begin(1);
  await sessions.execute({ session: 1, sql: "insert into reporters (phone, name) values (?, ?)", parameters: ["+1", "Left open"] });
  await new Promise((resolve) => setTimeout(resolve, 120));
  await assert.rejects(sessions.execute({ session: 1, sql: "select 1", parameters: [] }), /rolled back: 50 ms passed without a statement/);
  const { rows } = await sessions.execute({ session: null, sql: "select count(*) as n from reporters", parameters: [] });
  assert.deepEqual(
    rows.map((r) => ({ ...(r as object) })),
    [{ n: 0 }],
  );
  await sessions.end(1, false);
  await store.close();
});

describe("app tables on PostgreSQL", { skip: POSTGRES_MISSING }, () => {
  let server: PostgresServer;
  const databases: Store[] = [];
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    for (const store of databases) await store.close();
    await server?.stop();
  });
  let n = 0;
  const openPg = (naming?: { tablePrefix: string; schema?: string }) => async () => {
    const store = openStore(await server.createDatabase(`apps_${n++}`), dir, { naming });
    databases.push(store);
    return store;
  };
  appDataContract("PostgreSQL", openPg());
  appDataContract("PostgreSQL in a schema of RapidSMS's, tables prefixed", openPg({ tablePrefix: "sms_", schema: "rapidsms" }));
});
