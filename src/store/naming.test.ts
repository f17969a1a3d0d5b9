import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "../../test/support/postgres.ts";
import { ConfigError } from "../errors.ts";
import { MIGRATIONS } from "./migrations.ts";
import { openStore } from "./open.ts";
import { openPostgresStore, openPostgresStoreOnKysely } from "./postgres.ts";
import { TABLES } from "./schema.ts";
import { openSqliteStore } from "./sqlite.ts";
import { kyselyDatabase } from "./sqlite-dialect.ts";
import { storeContract } from "./store.contract.ts";
import { messageLogContract } from "./message-log.contract.ts";
import type { Store } from "./store.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-naming-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `naming-${files++}.db`);

/** A store that works: one message accepted, read back and claimed. */
async function exercise(store: Store): Promise<void> {
  const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["+15551234"] });
  await store.acceptIncoming({ message: { id: `m-${files++}`, text: "hello", fields: {}, connection }, dedupeWindowMs: 60_000 });
  const claimed = await store.claimIncoming({ claim: { token: "t#1", until: Date.now() + 10_000 }, limit: 5, maxAttempts: 3 });
  assert.equal(claimed.length, 1);
  assert.equal((await store.getMessage(claimed[0].id))?.text, "hello");
}

/** A new database file with the host's own tables, made by `ddl`. */
function hostFile(ddl: string): string {
  const path = file();
  const host = new DatabaseSync(path);
  host.exec(ddl);
  host.close();
  return path;
}

function sqliteNames(path: string, type: "table" | "index"): string[] {
  const db = new DatabaseSync(path);
  const rows = db.prepare("select name from sqlite_master where type = ? and name not like 'sqlite_%' order by name").all(type) as { name: string }[];
  db.close();
  return rows.map((row) => row.name);
}

storeContract("sqlite in memory, tables prefixed", async () => openSqliteStore(":memory:", { tablePrefix: "sms_" }));
// The message log's queries hold SQL of their own (substr, LIKE … ESCAPE): the prefix must reach it.
messageLogContract("sqlite in memory, tables prefixed", async () => openSqliteStore(":memory:", { tablePrefix: "sms_" }));

test("TABLES names every table the migrations create, and a prefix starts every table and index name in the database", async () => {
  const path = file();
  const store = openSqliteStore(path, { tablePrefix: "rapidsms_" });
  await store.migrate();
  await exercise(store);
  await store.close();
  const tables = sqliteNames(path, "table");
  assert.deepEqual(tables, [...TABLES.map((t) => `rapidsms_${t}`), "rapidsms_kysely_migration", "rapidsms_kysely_migration_lock"].sort());
  const indexes = sqliteNames(path, "index");
  assert.ok(indexes.length >= 15, `indexes: ${indexes.join(", ")}`);
  assert.deepEqual(
    indexes.filter((name) => !name.startsWith("rapidsms_")),
    [],
  );
});

test("sqlite: a database with the host's own table of a RapidSMS name is refused with what to set, and is left as it was", async () => {
  const path = hostFile("create table contacts (id integer primary key, email text); insert into contacts (email) values ('a@example.org');");
  const store = openSqliteStore(path);
  await assert.rejects(store.migrate(), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /already has tables named contacts.*set tablePrefix/);
    return true;
  });
  await store.close();
  assert.deepEqual(sqliteNames(path, "table"), ["contacts"]);
  const beside = openSqliteStore(path, { tablePrefix: "rapidsms_" });
  await beside.migrate();
  await exercise(beside);
  await beside.close();
  assert.ok(sqliteNames(path, "table").includes("contacts"));
});

test("sqlite: a first migration that fails part-way leaves no table behind, its own or Kysely's", async () => {
  // Table and index names share one namespace in SQLite: 0001 fails at its fourth index.
  const path = hostFile("create table audit (at text); create index messages_created_at on audit (at);");
  const store = openSqliteStore(path);
  await assert.rejects(store.migrate(), /database migration 0001_core failed: .*messages_created_at/);
  await store.close();
  assert.deepEqual(sqliteNames(path, "table"), ["audit"]);
  assert.deepEqual(sqliteNames(path, "index"), ["messages_created_at"]);
});

test("sqlite: another app's Kysely migrations in the table RapidSMS would use are refused, not mixed with RapidSMS's", async () => {
  const path = hostFile(
    "create table kysely_migration (name varchar(255) primary key, timestamp varchar(255) not null); insert into kysely_migration values ('2024_01_users', '2024-01-01');",
  );
  const store = openSqliteStore(path);
  await assert.rejects(store.migrate(), /kysely_migration holds migrations that are not RapidSMS's \(2024_01_users\): set tablePrefix/);
  await store.close();
  const db = new DatabaseSync(path);
  assert.deepEqual(
    db
      .prepare("select name from kysely_migration")
      .all()
      .map((row) => row.name),
    ["2024_01_users"],
  );
  db.close();
});

test("sqlite: a database RapidSMS migrated before keeps its names and its data when opened again", async () => {
  const path = file();
  const first = openSqliteStore(path);
  await first.migrate();
  await exercise(first);
  await first.close();
  const second = openSqliteStore(path);
  await second.migrate();
  assert.equal((await second.listMessages({ limit: 10 })).length, 1);
  await second.close();
  assert.ok(sqliteNames(path, "table").includes("messages"));
});

test("a Kysely instance on another database than PostgreSQL is refused with what to give instead", async () => {
  const sqlite = new Kysely({ dialect: new SqliteDialect({ database: kyselyDatabase(new DatabaseSync(":memory:")) }) });
  assert.throws(() => openStore(sqlite, dir), /must be on PostgreSQL \(its PostgresDialect\), not SqliteAdapter; for SQLite give a sqlite: URL/);
  await sqlite.destroy();
});

test("a schema is refused on SQLite with what to use instead", () => {
  assert.throws(
    () => openStore(`sqlite:${file()}`, dir, { naming: { tablePrefix: "", schema: "sms" } }),
    /schemas are PostgreSQL's; on SQLite use tablePrefix/,
  );
});

describe("PostgreSQL: living in the host's database", { skip: POSTGRES_MISSING }, () => {
  let server: PostgresServer;
  let databases = 0;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());
  const database = () => server.createDatabase(`naming_${databases++}`);

  /** Runs `sql` as the host's own connection would; its rows as text, each row's values joined by ".". */
  async function hostSql(url: string, sql: string): Promise<string[]> {
    const client = new pg.Client(url);
    await client.connect();
    try {
      // Several statements answer with a result each: the rows are the last one's.
      const results: pg.QueryResult | pg.QueryResult[] = await client.query(sql);
      return [results]
        .flat()
        .at(-1)!
        .rows.map((row) => Object.values(row).join("."));
    } finally {
      await client.end();
    }
  }
  const tablesIn = (url: string) =>
    hostSql(url, "select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2");

  // The host's own pool, with pg's default parsers (bigints as text), and a plugin of its own.
  const onHostKysely = async () => {
    const pool = new pg.Pool({ connectionString: await database(), max: 5 });
    const host = new Kysely({ dialect: new PostgresDialect({ pool }) });
    const store = openPostgresStoreOnKysely(host, { tablePrefix: "sms_", schema: "rapidsms" });
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await host.destroy();
    };
    return store;
  };
  storeContract("postgres through the host's Kysely, in a schema, tables prefixed", onHostKysely);
  messageLogContract("postgres through the host's Kysely, in a schema, tables prefixed", onHostKysely);

  test("the host's tables of RapidSMS's names are refused, leaving nothing behind; a schema of its own then works, twice", async () => {
    const url = await database();
    await hostSql(url, "create table contacts (id serial primary key, email text)");
    const refused = openPostgresStore(url);
    await assert.rejects(
      refused.migrate(),
      /already has tables named contacts, which are not RapidSMS's: set tablePrefix \(as in "rapidsms_"\) or databaseSchema/,
    );
    await refused.close();
    assert.deepEqual(await tablesIn(url), ["public.contacts"]);
    for (const schema of ["sms", "sms_two"]) {
      const store = openPostgresStore(url, { naming: { tablePrefix: "", schema } });
      await store.migrate();
      await exercise(store);
      await store.close();
    }
    const tables = await tablesIn(url);
    assert.deepEqual(
      tables.filter((t) => t.startsWith("public.")),
      ["public.contacts"],
    );
    for (const schema of ["sms", "sms_two"])
      assert.ok(tables.includes(`${schema}.messages`) && tables.includes(`${schema}.kysely_migration`), tables.join(" "));
  });

  test("a first migration that fails part-way is rolled back whole: no table, index or Kysely table is left, and a schema it made is dropped", async () => {
    const url = await database();
    // PostgreSQL keeps index names per schema: 0001 fails at its messages_queue index.
    await hostSql(url, "create schema sms; create table sms.audit (at text); create index messages_queue on sms.audit (at)");
    const store = openPostgresStore(url, { naming: { tablePrefix: "", schema: "sms" } });
    await assert.rejects(store.migrate(), /database migration 0001_core failed: .*messages_queue/);
    await store.close();
    assert.deepEqual(await tablesIn(url), ["sms.audit"]);
  });

  test("a first migration that fails in a schema it made drops the schema again", async () => {
    const url = await database();
    // The host's DDL rule: the schema is made, then the first table is refused.
    await hostSql(
      url,
      `create function refuse() returns event_trigger language plpgsql as $$ begin raise exception 'tables are made by the host''s team'; end $$;
      create event trigger refuse_tables on ddl_command_start when tag in ('CREATE TABLE') execute function refuse()`,
    );
    const store = openPostgresStore(url, { naming: { tablePrefix: "", schema: "made_here" } });
    await assert.rejects(store.migrate(), /tables are made by the host's team/);
    await store.close();
    assert.deepEqual(await hostSql(url, "select schema_name from information_schema.schemata where schema_name = 'made_here'"), []);
    assert.deepEqual(await tablesIn(url), []);
  });

  test("with a prefix, every table, index and constraint RapidSMS makes starts with it, so two installs share one schema", async () => {
    const url = await database();
    for (const tablePrefix of ["a_", "b_"]) {
      const store = openPostgresStore(url, { naming: { tablePrefix } });
      await store.migrate();
      await exercise(store);
      await store.close();
    }
    const relations = await hostSql(url, "select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' order by 1");
    const constraints = await hostSql(url, "select conname from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = 'public'");
    assert.deepEqual(
      [...relations, ...constraints].filter((name) => !name.startsWith("a_") && !name.startsWith("b_")),
      [],
    );
    assert.equal(relations.filter((name) => name.startsWith("a_")).length, relations.filter((name) => name.startsWith("b_")).length);
  });

  test("on the host's pg.Pool: bigints read as numbers on RapidSMS's queries only, and closing RapidSMS leaves the pool open", async () => {
    const url = await database();
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    const store = openStore(pool, dir, { naming: { tablePrefix: "rapidsms_" } });
    await store.migrate();
    await exercise(store);
    const pending = await store.pendingWork();
    assert.equal(typeof pending.inbound, "number");
    await store.close();
    const { rows } = await pool.query("select count(*) as n from rapidsms_messages");
    assert.equal(rows[0].n, "1", "the host's own queries keep pg's parsers");
    await pool.end();
  });

  test("MIGRATIONS lists the migrations in order", () => {
    assert.deepEqual(MIGRATIONS, [...MIGRATIONS].sort());
    assert.ok(MIGRATIONS.length >= 3);
  });
});
