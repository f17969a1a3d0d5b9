import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../messages/connection.ts";
import type { Claim, OutgoingRecordInit, Store } from "./store.ts";

/**
 * Scheduled sends and cancelling them, for every Store: each implementation's test file calls this
 * beside storeContract with a factory that opens a fresh, empty store.
 */
export function scheduledContract(name: string, open: () => Promise<Store>): void {
  async function withStore(run: (store: Store) => Promise<void>) {
    const store = await open();
    await store.migrate();
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }

  let claims = 0;
  const claim = (now = Date.now()): Claim => ({ token: `scheduled#${++claims}`, until: now + 60_000 });
  const claimOut = (store: Store, now: number, limit = 10) => store.claimTransmissions({ claim: claim(now), limit, maxAttempts: 5, now });
  const outgoing = (id: string, connections: Connection[], notBefore?: number): OutgoingRecordInit => ({
    id,
    text: `text of ${id}`,
    fields: {},
    context: {},
    inResponseTo: null,
    connections,
    ...(notBefore === undefined ? {} : { notBefore }),
  });
  const T = Date.UTC(2030, 0, 1, 8, 0, 0);

  test(`${name}: a scheduled message is not claimed before its time, and is at its time`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      await store.enqueueOutgoing({ message: outgoing("later", connections, T) });
      await store.enqueueOutgoing({ message: outgoing("now", connections.slice(0, 1)) });
      const early = await claimOut(store, T - 1);
      assert.deepEqual(
        early.map((t) => t.messageId),
        ["now"],
      );
      assert.equal(await store.dueTransmissions({ work: { messageId: "later", backend: "kannel" }, now: T - 1 }), 0);
      assert.equal((await store.pendingWork({ now: T - 1 })).nextRetryAt, T, "a worker is told when to look again");
      const due = await claimOut(store, T);
      assert.deepEqual(due.map((t) => t.identity).sort(), ["111", "222"]);
      assert.ok(due.every((t) => t.messageId === "later" && t.attempt === 1));
    }));

  test(`${name}: a scheduled message reads back its sendAt and each transmission's nextAttemptAt; one sent at once has none`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
      await store.enqueueOutgoing({ message: outgoing("later", connections, T) });
      await store.enqueueOutgoing({ message: outgoing("now", connections) });
      const later = await store.getMessage("later");
      assert.equal(later?.sendAt, new Date(T).toISOString());
      assert.equal(later?.status, "P");
      assert.deepEqual(
        later?.transmissions.map((t) => [t.status, t.nextAttemptAt]),
        [["Q", T]],
      );
      assert.equal((await store.getMessage("now"))?.sendAt, null);
      const listed = await store.listMessages({ direction: "O", limit: 10 });
      assert.deepEqual(listed.map((m) => [m.id, m.sendAt]).sort(), [
        ["later", new Date(T).toISOString()],
        ["now", null],
      ]);
    }));

  test(`${name}: cancelOutgoing ends every queued transmission E "cancelled", leaves a claimed one to its sender, and logs no attempt`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222", "333"] });
      await store.enqueueOutgoing({ message: outgoing("mixed", connections) });
      const [held] = await claimOut(store, Date.now(), 1);
      const result = await store.cancelOutgoing({ id: "mixed" });
      assert.ok(result && result !== "inbound");
      assert.equal(result.cancelled, 2);
      assert.equal(result.sending, 1);
      assert.equal(result.sent, 0);
      assert.equal(result.failed, 0);
      assert.equal(result.status, "E");
      assert.deepEqual(
        result.changes.map((c) => [c.messageId, c.backend, c.status, c.error]),
        [
          ["mixed", "kannel", "E", "cancelled"],
          ["mixed", "kannel", "E", "cancelled"],
        ],
      );
      assert.deepEqual(
        result.changes.map((c) => c.identity).sort(),
        ["111", "222", "333"].filter((i) => i !== held.identity),
      );
      const record = await store.getMessage("mixed");
      assert.equal(record?.status, "E");
      assert.equal(record?.error, "cancelled");
      for (const t of record!.transmissions) {
        if (t.id === held.id) assert.equal(t.status, "P");
        else assert.deepEqual([t.status, t.error, t.nextAttemptAt], ["E", "cancelled", null]);
        assert.deepEqual((await store.getTransmission(t.id))?.attemptLog, []);
      }
      // The sender that claimed before the cancel keeps its claim: its outcome is recorded.
      const recorded = await store.recordAttempts({
        outcomes: [{ transmissionId: held.id, token: held.token, attempt: held.attempt, status: "S", durationMs: 1 }],
      });
      assert.deepEqual(recorded.fenced, []);
      assert.equal((await store.getTransmission(held.id))?.status, "S");
    }));

  test(`${name}: a sender that claims after a cancel finds nothing, and a second cancel cancels nothing more`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      await store.enqueueOutgoing({ message: outgoing("scheduled", connections, T) });
      const first = await store.cancelOutgoing({ id: "scheduled" });
      assert.ok(first && first !== "inbound");
      assert.equal(first.cancelled, 2);
      assert.deepEqual(await claimOut(store, T + 1), []);
      assert.equal(await store.dueTransmissions({ work: { messageId: "scheduled", backend: "kannel" }, now: T + 1 }), 0);
      const pending = await store.pendingWork({ now: T - 1 });
      assert.deepEqual([pending.outbound, pending.nextRetryAt], [0, null]);
      const second = await store.cancelOutgoing({ id: "scheduled" });
      assert.ok(second && second !== "inbound");
      assert.deepEqual([second.cancelled, second.sending, second.sent, second.failed, second.status, second.changes], [0, 0, 0, 2, "E", []]);
    }));

  test(`${name}: cancelOutgoing of a message sent already cancels nothing and counts it sent`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
      await store.enqueueOutgoing({ message: outgoing("gone", connections) });
      const [held] = await claimOut(store, Date.now());
      await store.recordAttempts({ outcomes: [{ transmissionId: held.id, token: held.token, attempt: held.attempt, status: "S", durationMs: 1 }] });
      const result = await store.cancelOutgoing({ id: "gone" });
      assert.ok(result && result !== "inbound");
      assert.deepEqual([result.cancelled, result.sent, result.status], [0, 1, "S"]);
      assert.equal((await store.getMessage("gone"))?.status, "S");
    }));

  test(`${name}: cancelOutgoing answers undefined for an unknown id and "inbound" for an inbound message`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
      await store.acceptIncoming({ message: { id: "in", text: "hi", fields: {}, connection }, dedupeWindowMs: 0 });
      assert.equal(await store.cancelOutgoing({ id: "nobody" }), undefined);
      assert.equal(await store.cancelOutgoing({ id: "in" }), "inbound");
      assert.equal((await store.getMessage("in"))?.status, "Q");
      assert.equal((await store.getMessage("in"))?.sendAt, null);
    }));
}
