import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../messages/connection.ts";
import type { Claim, OutgoingRecordInit, Store } from "./store.ts";
import { outgoing as outgoingNow, withFreshStore } from "./fresh-store.contract.ts";

/**
 * Scheduled sends and cancelling them, for every Store: each implementation's test file calls this
 * beside storeContract with a factory that opens a fresh, empty store.
 */
export function scheduledContract(name: string, open: () => Promise<Store>): void {
  const withStore = withFreshStore(open);

  let claims = 0;
  const claim = (now = Date.now()): Claim => ({ token: `scheduled#${++claims}`, until: now + 60_000 });
  const claimOut = (store: Store, now: number, limit = 10) => store.claimTransmissions({ claim: claim(now), limit, maxAttempts: 5, now });
  /** The contracts' outgoing(), due at `notBefore` when given. */
  const outgoing = (id: string, connections: Connection[], notBefore?: number, extra: Partial<OutgoingRecordInit> = {}): OutgoingRecordInit =>
    outgoingNow(id, connections, { ...(notBefore === undefined ? {} : { notBefore }), ...extra });
  /** The status events queued for `messageId`'s eventUrl, in order, each posted (so that the next drain sees only newer ones). */
  const events = async (store: Store, messageId: string) => {
    const seen: [string, string | null][] = [];
    for (;;) {
      const hooks = await store.claimWebhooks({ claim: claim(), limit: 10, maxAttempts: 5 });
      if (hooks.length === 0) return seen;
      for (const hook of hooks) {
        const body = JSON.parse(hook.body) as { status: string; error: string | null };
        if (hook.messageId === messageId) seen.push([body.status, body.error]);
        await store.completeWebhook({ id: hook.id, token: hook.token, status: "S", answerStatus: 200 });
      }
    }
  };
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

  test(`${name}: behind a backlog scheduled for later, claims take what is due rank by rank, in order, up to the limit; \`only\` takes one message's`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222", "333"] });
      const now = T - 1;
      // A `send --file --at` for later at each rank, then what is due now.
      await store.enqueueOutgoing({ message: outgoing("later-bulk", connections, T + 30_000) });
      await store.enqueueOutgoing({ message: outgoing("later-reply", connections, T + 30_000, { priority: 1 }) });
      await store.enqueueOutgoing({ message: outgoing("later-urgent", connections, T + 30_000, { priority: 2 }) });
      await store.enqueueOutgoing({ message: outgoing("bulk", connections) });
      await store.enqueueOutgoing({ message: outgoing("reply", connections.slice(0, 2), undefined, { priority: 1 }) });
      await store.enqueueOutgoing({ message: outgoing("other-bulk", connections.slice(0, 1)) });
      const first = await claimOut(store, now, 4);
      assert.deepEqual(
        first.map((t) => [t.messageId, t.identity]),
        [
          ["reply", "111"],
          ["reply", "222"],
          ["bulk", "111"],
          ["bulk", "222"],
        ],
      );
      const one = await store.claimTransmissions({ claim: claim(now), limit: 10, maxAttempts: 5, now, only: { messageId: "other-bulk", backend: "kannel" } });
      assert.deepEqual(
        one.map((t) => [t.messageId, t.identity]),
        [["other-bulk", "111"]],
      );
      assert.deepEqual(
        (await claimOut(store, now, 10)).map((t) => [t.messageId, t.identity]),
        [["bulk", "333"]],
      );
      assert.deepEqual(await claimOut(store, now, 10), []);
      assert.deepEqual(
        await store.claimTransmissions({ claim: claim(now), limit: 10, maxAttempts: 5, now, only: { messageId: "later-bulk", backend: "kannel" } }),
        [],
      );
      const depth = await store.queueDepth({ now });
      assert.equal(depth.transmissionsDue, 0, "claimed transmissions are not due, and those scheduled later are not either");
      const due = await claimOut(store, T + 30_000, 100);
      assert.deepEqual(
        due.map((t) => t.messageId),
        ["later-urgent", "later-urgent", "later-urgent", "later-reply", "later-reply", "later-reply", "later-bulk", "later-bulk", "later-bulk"],
      );
    }));

  test(`${name}: queueDepth and staleOutgoing see what is due among ranks and a backlog scheduled for later, not the backlog`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      await store.enqueueOutgoing({ message: outgoing("later", connections, T + 3_600_000) });
      await store.enqueueOutgoing({ message: outgoing("later-reply", connections, T + 3_600_000, { priority: 1 }) });
      await store.enqueueOutgoing({ message: outgoing("due-bulk", connections, T) });
      await store.enqueueOutgoing({ message: outgoing("due-reply", connections.slice(0, 1), T - 60_000, { priority: 1 }) });
      const depth = await store.queueDepth({ now: T + 1_000 });
      assert.equal(depth.transmissionsDue, 3);
      assert.equal(depth.oldestDueSeconds, 61, "the reply has been due for 61 s");
      const stale = await store.staleOutgoing({ graceMs: 0, limit: 10, now: T + 7_200_000 });
      assert.deepEqual(stale.map((w) => [w.messageId, w.backend, w.priority]).sort(), [
        ["due-bulk", "kannel", 0],
        ["due-reply", "kannel", 1],
        ["later", "kannel", 0],
        ["later-reply", "kannel", 1],
      ]);
      assert.deepEqual(await store.staleOutgoing({ graceMs: 120_000, limit: 10, now: T + 30_000 }), [], "nothing has been due for 2 minutes yet");
      // A claim that ran out is stale at once.
      const [held] = await store.claimTransmissions({ claim: { token: "dies", until: T + 2_000 }, limit: 1, maxAttempts: 5, now: T + 1_000 });
      assert.equal(held.messageId, "due-reply");
      assert.deepEqual(
        (await store.staleOutgoing({ graceMs: 3_600_000, limit: 10, now: T + 3_000 })).map((w) => w.messageId),
        ["due-reply"],
      );
    }));

  test(`${name}: a transmission being sent when its message was cancelled is not sent again when that attempt fails: it ends E "cancelled"`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      await store.enqueueOutgoing({ message: outgoing("m1", connections, undefined, { eventUrl: "https://receiver.example/events" }) });
      const now = Date.now();
      const [held, other] = await claimOut(store, now);
      const cancel = await store.cancelOutgoing({ id: "m1" });
      assert.ok(cancel && cancel !== "inbound");
      assert.deepEqual([cancel.cancelled, cancel.sending], [0, 2], "both being sent: left to their sender");
      // The gateway answers 503 for one (a retry in 10 ms) and takes the other.
      const recorded = await store.recordAttempts({
        outcomes: [
          { transmissionId: held.id, messageId: "m1", token: held.token, attempt: 1, status: "Q", nextAttemptAt: now + 10, error: "503", durationMs: 5 },
          { transmissionId: other.id, messageId: "m1", token: other.token, attempt: 1, status: "S", durationMs: 5 },
        ],
      });
      assert.deepEqual(recorded.cancelled, [held.id]);
      assert.deepEqual(recorded.fenced, []);
      assert.equal(recorded.statuses.get("m1"), "E");
      assert.deepEqual(await claimOut(store, now + 20), [], "nothing of the cancelled message is claimed again");
      const detail = await store.getTransmission(held.id);
      assert.deepEqual([detail?.status, detail?.error, detail?.nextAttemptAt], ["E", "cancelled", null]);
      assert.deepEqual(
        detail?.attemptLog.map((l) => [l.attempt, l.outcome, l.error]),
        [[1, "E", "503"]],
      );
      assert.equal((await store.getTransmission(other.id))?.status, "S");
      const posted = await events(store, "m1");
      assert.deepEqual(posted.slice(0, 2), [
        ["queued", null],
        ["queued", null],
      ]);
      assert.deepEqual(posted.slice(2).sort(), [
        ["failed", "cancelled"],
        ["sent", null],
      ]);
      // A retry of a message nobody cancelled is a retry.
      await store.enqueueOutgoing({ message: outgoing("m2", connections.slice(0, 1)) });
      const [t2] = await claimOut(store, now);
      const again = await store.recordAttempts({
        outcomes: [{ transmissionId: t2.id, messageId: "m2", token: t2.token, attempt: 1, status: "Q", nextAttemptAt: now + 10, error: "503", durationMs: 5 }],
      });
      assert.deepEqual(again.cancelled, []);
      assert.equal((await store.getTransmission(t2.id))?.status, "Q");
    }));

  test(`${name}: a transmission being sent when its message was cancelled, whose claim then runs out, is given up E "cancelled", not sent again`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
      await store.enqueueOutgoing({ message: outgoing("m1", connections, undefined, { eventUrl: "https://receiver.example/events" }) });
      const now = Date.now();
      const [held] = await store.claimTransmissions({ claim: { token: "dies", until: now + 10 }, limit: 10, maxAttempts: 5, now });
      const cancel = await store.cancelOutgoing({ id: "m1" });
      assert.ok(cancel && cancel !== "inbound");
      assert.equal(cancel.sending, 1);
      // Its worker died holding it: the claim after its lease gives it up instead of sending it again.
      assert.deepEqual(await claimOut(store, now + 20), []);
      const detail = await store.getTransmission(held.id);
      assert.deepEqual([detail?.status, detail?.error], ["E", "cancelled"]);
      assert.equal((await store.getMessage("m1"))?.status, "E");
      assert.deepEqual(await events(store, "m1"), [
        ["queued", null],
        ["failed", "cancelled"],
      ]);
      // The dead worker's late answer is fenced out.
      const late = await store.recordAttempts({
        outcomes: [
          { transmissionId: held.id, messageId: "m1", token: "dies", attempt: 1, status: "Q", nextAttemptAt: now + 30, error: "timeout", durationMs: 5 },
        ],
      });
      assert.deepEqual(late.fenced, [held.id]);
    }));

  test(`${name}: a send cut short by a shutdown whose message was cancelled meanwhile is not given back to be sent: it ends E "cancelled"`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      await store.enqueueOutgoing({ message: outgoing("m1", connections, undefined, { eventUrl: "https://receiver.example/events" }) });
      await store.enqueueOutgoing({ message: outgoing("m2", [connections[0]]) });
      const now = Date.now();
      const held = await store.claimTransmissions({ claim: { token: "stopping", until: now + 60_000 }, limit: 10, maxAttempts: 5, now });
      assert.equal(held.length, 3);
      await store.cancelOutgoing({ id: "m1" });
      await store.releaseClaims({ tokens: ["stopping"] });
      const m1 = await store.getMessage("m1");
      assert.deepEqual(
        m1?.transmissions.map((t) => [t.status, t.error]),
        [
          ["E", "cancelled"],
          ["E", "cancelled"],
        ],
      );
      assert.equal(m1?.status, "E");
      const again = await claimOut(store, now + 1);
      assert.deepEqual(
        again.map((t) => t.messageId),
        ["m2"],
        "only the message that was not cancelled is given back",
      );
      assert.deepEqual((await events(store, "m1")).slice(-2), [
        ["failed", "cancelled"],
        ["failed", "cancelled"],
      ]);
    }));
}
