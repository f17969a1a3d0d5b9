// The server's tests again, on the store `npm start` runs: a SQLite file behind the store thread.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { onThreadStore, testDatabase, threadStoreFiles } from "../../test/support/test-database.ts";
import { resolveConfig } from "../config/resolve.ts";
import { storeThread } from "../store/sqlite-thread.ts";
import { createSystem } from "../system.ts";
import { createServer } from "./server.ts";

onThreadStore();
await import("./server.test.ts");

after(() => {
  assert.ok(threadStoreFiles.length > 0, "the tests asked for their database");
  for (const file of threadStoreFiles) assert.ok(existsSync(file), `the tests wrote their messages to ${file}`);
});

test("a store thread that keeps dying: inbound gets a 503 with Retry-After, never a 500, and /healthz says the store failed", async () => {
  const failures: Error[] = [];
  const config = await resolveConfig({ installedBackends: { http: { engine: "http" } }, database: testDatabase() });
  const system = await createSystem(config, undefined, "all", { onStoreFailed: (error) => failures.push(error) });
  const app = await createServer(system);
  try {
    const thread = storeThread(system.store);
    assert.ok(thread, "a file database runs behind the store thread");
    await thread.worker().terminate();
    assert.equal((await app.inject({ url: "/backend/http/?identity=1&text=after+one+death" })).statusCode, 200, "a new thread takes over");
    const health = (await app.inject({ url: "/healthz" })).json();
    assert.equal(health.store, "ok");
    assert.equal(health.storeRestarts, 1);
    while (failures.length === 0) {
      await thread.worker().terminate();
      await system.store.ping().catch(() => undefined);
    }
    const refused = await app.inject({ url: "/backend/http/?identity=1&text=after+too+many" });
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.headers["retry-after"], "1");
    assert.match(refused.body, /not available for now; try again/);
    const failed = await app.inject({ url: "/healthz" });
    assert.equal(failed.statusCode, 503);
    assert.equal(failed.json().store, "failed");
  } finally {
    await app.close();
    await system.close();
  }
});

test("another process holding the SQLite file's write lock: inbound gets a 503 once the busy timeout passes, not a 500", { timeout: 60_000 }, async () => {
  const database = testDatabase();
  const config = await resolveConfig({ installedBackends: { http: { engine: "http" } }, database });
  const system = await createSystem(config);
  const app = await createServer(system);
  const other = new DatabaseSync(database.slice("sqlite:".length));
  try {
    other.exec("begin immediate");
    const response = await app.inject({ url: "/backend/http/?identity=1&text=while+locked" });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.headers["retry-after"], "1");
    other.exec("rollback");
    assert.equal((await app.inject({ url: "/backend/http/?identity=1&text=after" })).statusCode, 200);
  } finally {
    other.close();
    await app.close();
    await system.close();
  }
});
