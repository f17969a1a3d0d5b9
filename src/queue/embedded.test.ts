import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { silentLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { EmbeddedQueue } from "./embedded.ts";
import { queueContract } from "./queue.contract.ts";
import type { WorkSource } from "./queue.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-queue-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

queueContract("embedded queue on SQLite", async (shared) => {
  const store = shared ?? openSqliteStore(join(dir, `queue-${files++}.db`));
  if (!shared) await store.migrate();
  return { store, queue: new EmbeddedQueue(silentLogger) };
});

test("embedded queue: a retry queued for later is looked for when it is due, not at the next poll", async (t) => {
  // The queue's clock and timers are the test's: the check does not depend on the machine's speed.
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  const queue = new EmbeddedQueue(silentLogger);
  const claims: number[] = [];
  const source: WorkSource = {
    claimIncoming: async () => [],
    claimSends: async () => {
      claims.push(Date.now());
      return [];
    },
    hasDueSends: async () => false,
    staleOutgoing: async () => [],
  };
  await queue.consume(source, { inboundConcurrency: 1, sendConcurrency: 1, pollMs: 60_000, backends: ["gw"] });
  await settled();
  assert.deepEqual(claims, [1_000_000], "the first claim, at start");
  await queue.outgoingQueued([{ messageId: "m", backend: "gw", notBefore: 1_000_150 }]);
  t.mock.timers.tick(149);
  await settled();
  assert.deepEqual(claims, [1_000_000], "nothing is due yet");
  t.mock.timers.tick(1);
  await settled();
  assert.deepEqual(claims, [1_000_000, 1_000_150], "claimed when the retry came due, 59.85 s before the next poll");
  await queue.stop();
});
