import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync, type SQLInputValue, StatementSync } from "node:sqlite";
import { after, test } from "node:test";
import { openSqliteStore } from "../sqlite.ts";
import type { Store } from "../store.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-queued-ranks-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The reads (with their values) that `run` makes on SQLite, seen at the statements themselves. */
async function readsOf(run: () => Promise<unknown>): Promise<{ sql: string; values: unknown[] }[]> {
  const reads: { sql: string; values: unknown[] }[] = [];
  const all: (this: StatementSync, ...values: SQLInputValue[]) => unknown[] = StatementSync.prototype.all;
  StatementSync.prototype.all = function (this: StatementSync, ...values: SQLInputValue[]) {
    reads.push({ sql: this.sourceSQL, values });
    return all.apply(this, values);
  } as StatementSync["all"];
  try {
    await run();
  } finally {
    StatementSync.prototype.all = all as StatementSync["all"];
  }
  return reads.filter((r) => /^(with|select)\b/i.test(r.sql));
}

interface PlanStep {
  id: number;
  parent: number;
  detail: string;
}

/**
 * The steps of a read's plan that walk transmissions or messages beyond an exact range: not a key,
 * not one message's transmissions, not the inbound queue, not one rank's (or the next rank's) range.
 * The seed of the ranks' loose index scan is a min(), one index entry. Claimed transmissions (P)
 * are in flight, so few: each P the read binds allows one walk of that status.
 */
function walks(db: DatabaseSync, read: { sql: string; values: unknown[] }): string[] {
  const steps = db.prepare(`explain query plan ${read.sql}`).all() as unknown as PlanStep[];
  const byId = new Map(steps.map((s) => [s.id, s]));
  const seed = (step: PlanStep) => {
    for (let at = byId.get(step.parent); at; at = byId.get(at.parent)) if (at.detail === "SETUP") return true;
    return false;
  };
  const loose = steps.filter(
    (s) => /^(SCAN|SEARCH) (transmissions|messages)\b/.test(s.detail) && !/\((id|rowid|message_id)=\?\)|messages_queue|rank[=>]\?/.test(s.detail) && !seed(s),
  );
  const inFlight = read.values.filter((v) => v === "P").length;
  const claimed = loose.filter((s) => /transmissions_queue \(direction=\? AND status=\?\)$/.test(s.detail)).slice(0, inFlight);
  return loose.filter((s) => !claimed.includes(s)).map((s) => `${s.detail}\n    in ${read.sql.slice(0, 200)}`);
}

test("sqlite: claims, queueDepth and staleOutgoing read queued transmissions by exact ranges: a backlog scheduled for later is never walked", async () => {
  const path = join(dir, "plans.db");
  const store: Store = openSqliteStore(path);
  await store.migrate();
  const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222", "333"] });
  const later = Date.now() + 30 * 86_400_000;
  const outgoing = (id: string, priority: number, notBefore?: number) => ({
    id,
    text: id,
    fields: {},
    context: {},
    inResponseTo: null,
    connections,
    priority,
    ...(notBefore ? { notBefore } : {}),
  });
  await store.enqueueOutgoing({ message: outgoing("later", 0, later) });
  await store.enqueueOutgoing({ message: outgoing("later-reply", 1, later) });
  await store.enqueueOutgoing({ message: outgoing("now", 0) });
  await store.enqueueOutgoing({ message: outgoing("now-reply", 1) });
  const claim = () => ({ token: `t${Math.random()}`, until: Date.now() + 60_000 });
  const reads = await readsOf(async () => {
    await store.claimTransmissions({ claim: claim(), limit: 100, maxAttempts: 5 });
    await store.claimTransmissions({ claim: claim(), limit: 100, maxAttempts: 5, only: { messageId: "later", backend: "kannel" } });
    await store.queueDepth();
    await store.staleOutgoing({ graceMs: 0, limit: 100 });
  });
  await store.close();
  assert.ok(reads.length >= 4, `the store's reads were seen (${reads.length})`);
  const db = new DatabaseSync(path);
  try {
    assert.deepEqual(
      reads.flatMap((read) => walks(db, read)),
      [],
    );
  } finally {
    db.close();
  }
});
