import assert from "node:assert/strict";
import { test } from "node:test";
import type { Store } from "./store.ts";
import { withFreshStore } from "./fresh-store.contract.ts";

/** What /metrics reads from every Store: the backlog (see MetricsStore). */
export function metricsContract(name: string, open: () => Promise<Store>): void {
  const withStore = withFreshStore(open);
  const DAY = 24 * 60 * 60 * 1000;
  let claims = 0;
  const claim = (now: number, leaseMs = 1_000) => ({ token: `m#${++claims}`, until: now + leaseMs });
  const none = { inboundQueued: 0, inboundOldestSeconds: 0, transmissionsDue: 0, oldestDueSeconds: 0 };

  test(`${name}: queueDepth of an empty store is all zeros`, () =>
    withStore(async (store) => {
      assert.deepEqual(await store.queueDepth(), none);
    }));

  test(`${name}: queueDepth counts inbound messages accepted and not yet processed, and the oldest one's age`, () =>
    withStore(async (store) => {
      const t0 = Date.parse("2026-01-01T00:00:00Z");
      const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
      for (const [i, id] of ["a", "b", "c"].entries()) {
        await store.acceptIncoming({ message: { id, text: id, fields: {}, connection }, dedupeWindowMs: DAY, now: t0 + i * 1_000 });
      }
      assert.deepEqual(await store.queueDepth({ now: t0 + 10_000 }), { ...none, inboundQueued: 3, inboundOldestSeconds: 10 });
      const held = claim(t0 + 10_000);
      const [first] = await store.claimIncoming({ claim: held, limit: 1, maxAttempts: 5, now: t0 + 10_000 });
      assert.equal(first.id, "a");
      assert.deepEqual(
        await store.queueDepth({ now: t0 + 10_000 }),
        { ...none, inboundQueued: 3, inboundOldestSeconds: 10 },
        "a claimed message is not processed yet",
      );
      assert.equal((await store.completeIncoming({ id: "a", token: held.token, replies: [] })).applied, true);
      assert.deepEqual(await store.queueDepth({ now: t0 + 10_000 }), { ...none, inboundQueued: 2, inboundOldestSeconds: 9 }, "R is done");
      const again = claim(t0 + 10_000);
      await store.claimIncoming({ claim: again, limit: 1, maxAttempts: 5, now: t0 + 10_000 });
      assert.equal(await store.failIncoming({ id: "b", token: again.token, error: "an app failed", nextAttemptAt: null }), true);
      assert.deepEqual(await store.queueDepth({ now: t0 + 10_000 }), { ...none, inboundQueued: 1, inboundOldestSeconds: 8 }, "E is done too");
    }));

  test(`${name}: queueDepth counts outbound transmissions due, not those due later or sent, and how long the oldest has been due`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      const before = Date.now();
      await store.enqueueOutgoing({ message: { id: "out", text: "hi", fields: {}, context: {}, inResponseTo: null, connections } });
      const after = Date.now();
      const depth = await store.queueDepth({ now: after + 2_000 });
      assert.equal(depth.transmissionsDue, 2);
      assert.ok(depth.oldestDueSeconds >= 2 && depth.oldestDueSeconds <= 2 + (after - before) / 1_000, `due for ${depth.oldestDueSeconds} s`);
      assert.equal(depth.inboundQueued, 0, "outbound is not inbound");

      const at = after + 2_000;
      const held = claim(at, 1_000);
      const claimed = await store.claimTransmissions({ claim: held, limit: 10, maxAttempts: 5, now: at });
      assert.equal(claimed.length, 2);
      assert.deepEqual(await store.queueDepth({ now: at + 500 }), none, "claimed under a live lease: not due");
      assert.deepEqual(await store.queueDepth({ now: at + 1_000 + 3_000 }), { ...none, transmissionsDue: 2, oldestDueSeconds: 3 }, "a lease that ran out");

      const [sent, failed] = claimed;
      await store.recordAttempts({
        outcomes: [
          { transmissionId: sent.id, token: sent.token, attempt: sent.attempt, status: "S", durationMs: 1 },
          { transmissionId: failed.id, token: failed.token, attempt: failed.attempt, status: "Q", nextAttemptAt: at + 10_000, error: "busy", durationMs: 1 },
        ],
      });
      assert.deepEqual(await store.queueDepth({ now: at + 5_000 }), none, "sent, and a retry not due yet");
      assert.deepEqual(await store.queueDepth({ now: at + 12_000 }), { ...none, transmissionsDue: 1, oldestDueSeconds: 2 }, "a retry due since its time");
    }));
}
