import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { resolveConfig } from "../config/resolve.ts";
import { InvalidInputError } from "../errors.ts";
import { createSystem } from "../system.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-scheduled-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A system on a SQLite file as `rapidsms start` runs it (the store in its thread, the default poll of a second). */
async function system(file: string) {
  const config = await resolveConfig({ installedBackends: { db: { engine: "database" } }, apps: ["echo"], database: `sqlite:${join(dir, file)}` });
  return createSystem(config);
}

test("router.send with sendAt: stored at once, sent at its time and not before", async () => {
  const sys = await system("on-time.db");
  try {
    const due = Date.now() + 1_200;
    const msg = await sys.router.send("on time", await sys.router.lookupConnections("db", ["111"]), { sendAt: new Date(due) });
    const stored = await sys.store.getMessage(msg.id);
    assert.deepEqual([stored?.status, stored?.sendAt, stored?.transmissions[0].nextAttemptAt], ["P", new Date(due).toISOString(), due]);
    await sys.pipeline.idle();
    const sent = await sys.store.getMessage(msg.id);
    assert.equal(sent?.status, "S");
    assert.ok(Date.parse(sent!.transmissions[0].sentAt!) >= due, `sent at ${sent?.transmissions[0].sentAt}, due ${new Date(due).toISOString()}`);
    const [row] = await sys.store.listBackendMessages({ name: "db", direction: "O" });
    assert.ok(Date.parse(row.date) >= due, "the backend got it at its time");
  } finally {
    await sys.close();
  }
});

test("a scheduled message goes when due after a restart: nothing of it lives in memory", async () => {
  const first = await system("restart.db");
  const due = Date.now() + 2_000;
  const msg = await first.router.send("after a restart", await first.router.lookupConnections("db", ["222", "333"]), { sendAt: due });
  await first.close();
  const second = await system("restart.db");
  try {
    assert.equal((await second.store.getMessage(msg.id))?.status, "P");
    await second.pipeline.idle();
    const record = await second.store.getMessage(msg.id);
    assert.equal(record?.status, "S");
    for (const t of record!.transmissions) assert.ok(Date.parse(t.sentAt!) >= due, `${t.identity} sent at ${t.sentAt}, due ${new Date(due).toISOString()}`);
    assert.equal(await second.store.countBackendMessages({ name: "db", direction: "O" }), 2);
  } finally {
    await second.close();
  }
});

test("router.send refuses a sendAt it cannot read, or more than a year ahead, and stores nothing", async () => {
  const sys = await system("refused.db");
  try {
    const connections = await sys.router.lookupConnections("db", ["444"]);
    for (const sendAt of ["2030-01-01 08:00", "2030-01-01T08:00:00", new Date(Number.NaN), Date.now() + 400 * 24 * 60 * 60_000]) {
      await assert.rejects(sys.router.send("no", connections, { sendAt }), (error: unknown) => error instanceof InvalidInputError && error.field === "sendAt");
    }
    assert.deepEqual(await sys.store.listMessages({ direction: "O" }), []);
  } finally {
    await sys.close();
  }
});
