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

test("embedded queue: a retry queued for later is looked for when it is due, not at the next poll", async () => {
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
  await new Promise((resolve) => setTimeout(resolve, 20));
  const queuedAt = Date.now();
  claims.length = 0;
  await queue.outgoingQueued([{ messageId: "m", backend: "gw", notBefore: queuedAt + 150 }]);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(claims, [], "nothing is due yet");
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(claims.length, 1);
  assert.ok(claims[0] >= queuedAt + 150, `claimed ${claims[0] - queuedAt} ms after`);
  await queue.stop();
});
