import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { RetentionStore, Store } from "../store/store.ts";
import { RetentionPurge } from "./retention.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-retention-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** `count` outbound messages, each sent (S): finished. */
async function finishedMessages(store: Store, count: number): Promise<void> {
  const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["1112223333"] });
  for (let i = 0; i < count; i++) {
    await store.enqueueOutgoing({ message: { id: `m${i}`, text: "news", fields: {}, context: {}, inResponseTo: null, connections: [connection] } });
  }
  for (;;) {
    const claimed = await store.claimTransmissions({ claim: { token: `t${Math.random()}`, until: Date.now() + 60_000 }, limit: 500, maxAttempts: 3 });
    if (claimed.length === 0) return;
    await store.recordAttempts({
      outcomes: claimed.map((t) => ({ transmissionId: t.id, messageId: t.messageId, token: t.token, attempt: t.attempt, status: "S" as const, durationMs: 1 })),
    });
  }
}

/** The store, counting the purge's transactions. */
function counting(store: Store): RetentionStore & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    async purgeFinished(args) {
      const purged = await store.purgeFinished(args);
      calls.push(purged.messages);
      return purged;
    },
  };
}

test("a purge goes batch by batch until fewer than a batch are left, and purges nothing younger than the retention", async () => {
  const store = openSqliteStore(join(dir, `purge-${files++}.db`));
  await store.migrate();
  try {
    await finishedMessages(store, 1_203);
    const wrapped = counting(store);
    const purge = new RetentionPurge({ store: wrapped, settings: { days: 30 }, logger: silentLogger, batch: 500, pauseMs: 1 });
    assert.equal(await purge.purge(), 0, "nothing is 30 days old yet");
    const in31Days = Date.now() + 31 * 24 * 60 * 60 * 1000;
    assert.equal(await purge.purge(in31Days), 1_203);
    assert.deepEqual(wrapped.calls, [0, 500, 500, 203]);
    assert.equal((await store.listMessages({ limit: 10 })).length, 0);
  } finally {
    await store.close();
  }
});

test("stopping a purge under way ends it after the batch in hand, and it starts again on start", async () => {
  const store = openSqliteStore(join(dir, `purge-${files++}.db`));
  await store.migrate();
  try {
    await finishedMessages(store, 300);
    // The retention is 8.64 ms: the messages must be older than that when the first batch runs,
    // or a fast machine purges nothing in it (which once failed CI).
    const retention = { days: 0.0000001 };
    await new Promise((resolve) => setTimeout(resolve, 50));
    const wrapped = counting(store);
    const purge = new RetentionPurge({ store: wrapped, settings: retention, logger: silentLogger, batch: 100, pauseMs: 200, firstAfterMs: 0 });
    purge.start();
    while (wrapped.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await purge.stop();
    assert.deepEqual(wrapped.calls, [100], "one batch, none after the stop");
    assert.equal((await store.listMessages({ limit: 500 })).length, 200);
    purge.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await purge.stop();
    assert.ok(wrapped.calls.length >= 2, "started again");
  } finally {
    await store.close();
  }
});
