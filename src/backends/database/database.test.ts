import assert from "node:assert/strict";
import { test } from "node:test";
import { createTestRouter } from "../../testing/harness.ts";
import { DatabaseBackend } from "./index.ts";

test("the database backend stores one outbound row per identity with the message id and the reply's externalId", async () => {
  const t = await createTestRouter({ backends: { db: DatabaseBackend } });
  const backend = t.backends.get("db") as DatabaseBackend;
  await backend.send({ id: "m1", text: "hello", identities: ["111", "222"], context: { inResponseTo: "in1", externalId: "gw-9" } });
  await backend.send({ id: "m2", text: "again", identities: ["111"], context: {} });
  const rows = await backend.sentMessages();
  assert.deepEqual(
    rows.map((r) => ["db", r.direction, r.messageId, r.externalId, r.identity, r.text]),
    [
      ["db", "O", "m2", "", "111", "again"],
      ["db", "O", "m1", "gw-9", "222", "hello"],
      ["db", "O", "m1", "gw-9", "111", "hello"],
    ],
  );
  assert.deepEqual(
    (await backend.sentMessages("222")).map((r) => r.text),
    ["hello"],
  );
  await t.close();
});

test("through the router, a database backend's sends are recorded and the transmissions end S", async () => {
  const t = await createTestRouter({ backends: { db: DatabaseBackend } });
  const msg = await t.router.send("hi", await t.connections(["111"], "db"));
  await t.idle();
  assert.equal((await t.store.getMessage(msg.id))?.status, "S");
  assert.equal(await t.store.countBackendMessages({ name: "db", direction: "O" }), 1);
  await t.close();
});
