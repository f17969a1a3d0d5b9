import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { openStore, redactUrl } from "./open.ts";
import { openSqliteStore } from "./sqlite.ts";
import { storeContract } from "./store.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

storeContract("sqlite in memory", async () => openSqliteStore(":memory:"));
storeContract("sqlite file", async () => openSqliteStore(join(dir, `contract-${files++}.db`)));

test("sqlite file: what was stored is there after the store is closed and opened again", async () => {
  const path = join(dir, "reopen.db");
  const first = openSqliteStore(path);
  await first.migrate();
  const [connection] = await first.lookupConnections("kannel", ["111"]);
  await first.acceptIncoming({ id: "kept", text: "hello", fields: {}, connection }, { dedupeWindowMs: 0 });
  await first.close();
  const second = openSqliteStore(path);
  await second.migrate();
  assert.equal((await second.getMessage("kept"))?.text, "hello");
  await second.close();
});

test("openStore takes sqlite:PATH relative to the base folder and refuses other URLs with a reason", async () => {
  const store = openStore("sqlite:./nested/app.db", dir);
  await store.migrate();
  await store.close();
  assert.throws(() => openStore("mysql://u:pw@host/db"), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.doesNotMatch(error.message, /pw/);
    return true;
  });
  assert.throws(() => openStore("sqlite:"), ConfigError);
});

test("redactUrl hides the password of a database URL", () => {
  assert.equal(redactUrl("postgres://app:s3cret@db:5432/sms"), "postgres://app:***@db:5432/sms");
});
