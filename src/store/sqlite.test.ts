import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { type Kysely, sql } from "kysely";
import { ConfigError, StoreInterruptedError, StoreUnavailableError } from "../errors.ts";
import { openStore, redactUrl } from "./open.ts";
import type { Database } from "./schema.ts";
import { openSqliteStore } from "./sqlite.ts";
import { openSqliteStoreInThread, startStoreThread, storeThread } from "./sqlite-thread.ts";
import { scheduledContract } from "./scheduled.contract.ts";
import { metricsContract } from "./metrics.contract.ts";
import { storeContract } from "./store.contract.ts";
import { retentionContract } from "./retention.contract.ts";
import { optOutsContract } from "./opt-outs.contract.ts";
import { webhooksContract } from "./webhooks.contract.ts";
import { messageLogContract } from "./message-log.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

storeContract("sqlite in memory", async () => openSqliteStore(":memory:"));
metricsContract("sqlite in memory", async () => openSqliteStore(":memory:"));
storeContract("sqlite file", async () => openSqliteStore(join(dir, `contract-${files++}.db`)));
optOutsContract("sqlite file", async () => openSqliteStore(join(dir, `opt-outs-${files++}.db`)));
// As the server opens it: in its own thread, behind the connection cache.
storeContract("sqlite file in its own thread", async () => openStore(`sqlite:${join(dir, `contract-${files++}.db`)}`));
retentionContract("sqlite file", async () => openSqliteStore(join(dir, `contract-${files++}.db`)));
retentionContract("sqlite file in its own thread", async () => openStore(`sqlite:${join(dir, `contract-${files++}.db`)}`));
optOutsContract("sqlite file in its own thread", async () => openStore(`sqlite:${join(dir, `opt-outs-${files++}.db`)}`));
scheduledContract("sqlite in memory", async () => openSqliteStore(":memory:"));
scheduledContract("sqlite file in its own thread", async () => openStore(`sqlite:${join(dir, `contract-${files++}.db`)}`));
webhooksContract("sqlite in memory", async () => openSqliteStore(":memory:"));
webhooksContract("sqlite file in its own thread", async () => openStore(`sqlite:${join(dir, `contract-${files++}.db`)}`));
messageLogContract("sqlite in memory", async () => openSqliteStore(":memory:"));
messageLogContract("sqlite file in its own thread", async () => openStore(`sqlite:${join(dir, `contract-${files++}.db`)}`));
metricsContract("sqlite file in its own thread", async () => openStore(`sqlite:${join(dir, `contract-${files++}.db`)}`));

test("sqlite in a thread: a failing call rejects with the store's reason, and a closed store says it is closed", async () => {
  const store = openSqliteStoreInThread(join(dir, "thread-errors.db"));
  await store.migrate();
  const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
  const init = { id: "twice", text: "hi", fields: {}, connection };
  await store.acceptIncoming({ message: init, dedupeWindowMs: 0 });
  await assert.rejects(store.acceptIncoming({ message: init, dedupeWindowMs: 0 }), /UNIQUE constraint failed: messages.id/);
  await store.close();
  await assert.rejects(store.ping(), /store is closed/);
});

test("sqlite in a thread: the store takes the thread started ahead and serves its file through it; a database that needs no thread stops it", async () => {
  const ahead = startStoreThread();
  const path = join(dir, "ahead.db");
  const store = openStore(`sqlite:${path}`, dir, { started: ahead });
  assert.equal(ahead.take(), undefined, "taken once, by the store");
  await store.migrate();
  const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
  await store.acceptIncoming({ message: { id: "ahead", text: "hi", fields: {}, connection }, dedupeWindowMs: 0 });
  assert.equal((await store.getMessage("ahead"))?.text, "hi");
  await store.close();
  const file = new DatabaseSync(path);
  assert.deepEqual({ ...file.prepare("select text from messages where id = 'ahead'").get() }, { text: "hi" }, "in the file the config named");
  file.close();

  const unused = startStoreThread();
  const inMemory = openStore("sqlite::memory:", dir, { started: unused });
  assert.equal(unused.take(), undefined, "discarded: a database in memory needs no thread");
  await inMemory.close();
  const refused = startStoreThread();
  assert.throws(() => openStore("mysql://host/db", dir, { started: refused }), ConfigError);
  assert.equal(refused.take(), undefined, "discarded when the URL is refused");
});

test("sqlite file: what was stored is there after the store is closed and opened again", async () => {
  const path = join(dir, "reopen.db");
  const first = openSqliteStore(path);
  await first.migrate();
  const [connection] = await first.lookupConnections({ backend: "kannel", identities: ["111"] });
  await first.acceptIncoming({ message: { id: "kept", text: "hello", fields: {}, connection }, dedupeWindowMs: 0 });
  await first.close();
  const second = openSqliteStore(path);
  await second.migrate();
  assert.equal((await second.getMessage("kept"))?.text, "hello");
  await second.close();
});

test("sqlite file: the WAL is copied into the database file by the checkpoint thread, not by the writer", async () => {
  const path = join(dir, "checkpointed.db");
  const store = openSqliteStore(path);
  await store.migrate();
  const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
  await new Promise((resolve) => setTimeout(resolve, 700));
  const before = statSync(path).size;
  // Far fewer pages than the writer's own checkpoint threshold (10,000).
  for (let i = 0; i < 200; i++) await store.acceptIncoming({ message: { id: `wal-${i}`, text: "x".repeat(500), fields: {}, connection }, dedupeWindowMs: 0 });
  assert.ok(statSync(`${path}-wal`).size > 100_000, "the writes went to the WAL");
  const deadline = Date.now() + 5_000;
  // The checkpoint thread may copy the WAL in several passes while the writes go on: wait for all of it.
  while (statSync(path).size <= before + 100_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(statSync(path).size > before + 100_000, `the database file grew from ${before} to ${statSync(path).size} bytes`);
  await store.close();
});

test("openStore takes sqlite:PATH relative to the base folder and refuses other URLs with a reason", async () => {
  const store = openStore("sqlite:./nested/app.db", dir);
  await store.migrate();
  await store.close();
  assert.throws(
    () => openStore("mysql://u:pw@host/db"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.doesNotMatch(error.message, /pw/);
      return true;
    },
  );
  assert.throws(() => openStore("sqlite:"), ConfigError);
});

test("SQLite syncs every commit (synchronous = FULL) unless the URL asks for ?synchronous=normal; other options are refused", async () => {
  const mode = async (options?: Parameters<typeof openSqliteStore>[1]) => {
    const store = openSqliteStore(join(dir, `sync-${files++}.db`), options);
    // 2 is FULL, 1 is NORMAL.
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute((store as unknown as { db: Kysely<Database> }).db);
    await store.close();
    return rows[0].synchronous;
  };
  assert.equal(await mode(), 2);
  assert.equal(await mode({ synchronous: "normal" }), 1);
  const store = openStore("sqlite:./sync/app.db?synchronous=normal", dir);
  await store.migrate();
  await store.close();
  assert.ok(existsSync(join(dir, "sync/app.db")), "the query is not part of the file's name");
  assert.throws(
    () => openStore("sqlite:./x.db?synchronous=off", dir),
    (error: unknown) => error instanceof ConfigError && /use full \(the default\) or normal/.test(error.message),
  );
  assert.throws(
    () => openStore("sqlite:./x.db?journal=delete", dir),
    (error: unknown) => error instanceof ConfigError && /unknown option "journal"/.test(error.message),
  );
});

test("redactUrl hides the password of a database URL", () => {
  assert.equal(redactUrl("postgres://app:s3cret@db:5432/sms"), "postgres://app:***@db:5432/sms");
});

test("sqlite: renewing, releasing and fencing claims walk the claimed_by index, never the tables' history", async () => {
  const path = join(dir, "plans.db");
  const store = openSqliteStore(path);
  await store.migrate();
  await store.close();
  const db = new DatabaseSync(path);
  const plan = (statement: string) => (db.prepare(`explain query plan ${statement}`).all() as { detail: string }[]).map((row) => row.detail).join("; ");
  for (const table of ["messages", "transmissions"]) {
    assert.match(plan(`update ${table} set claimed_until = 1 where claimed_by in ('a', 'b')`), new RegExp(`USING INDEX ${table}_claimed_by`));
  }
  assert.match(plan("update transmissions set status = 'S' where id = 1 and claimed_by = 'a'"), /USING INTEGER PRIMARY KEY|USING INDEX/);
  db.close();
});

test("sqlite in a thread: when the thread dies, its calls in flight fail as interrupted, a new thread takes the next, and too many deaths give up", async () => {
  const fatal: Error[] = [];
  const store = openSqliteStoreInThread(join(dir, "restarts.db"), { restartsPerMinute: 2, onFatal: (error) => fatal.push(error) });
  await store.migrate();
  const thread = storeThread(store)!;
  const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
  // Posted to the thread (the outbox is flushed in the turn's check phase) and kept busy there by
  // 20,000 new connections when the thread is stopped.
  const inFlight = store.lookupConnections({ backend: "kannel", identities: Array.from({ length: 20_000 }, (_, i) => `9${i}`) });
  await new Promise((resolve) => setImmediate(resolve));
  await thread.worker().terminate();
  await assert.rejects(
    inFlight,
    (error: unknown) => error instanceof StoreInterruptedError && /while answering; whether the call took effect is unknown, try again/.test(error.message),
  );
  await store.acceptIncoming({ message: { id: "after", text: "hi", fields: {}, connection }, dedupeWindowMs: 0 });
  assert.equal((await store.getMessage("after"))?.text, "hi", "the new thread serves the same file");
  assert.deepEqual(thread.health(), { restarts: 1, failed: false });
  await thread.worker().terminate();
  await store.ping();
  await thread.worker().terminate();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(thread.health().failed, true);
  assert.equal(fatal.length, 1);
  await assert.rejects(store.ping(), (error: unknown) => error instanceof StoreUnavailableError && /stopped 3 times within a minute/.test(error.message));
});
