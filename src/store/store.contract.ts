import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../messages/connection.ts";
import type { Fields } from "../messages/messages.ts";
import type { OutgoingRecordInit, Store } from "./store.ts";

/**
 * The behaviour every Store must have. Each implementation's test file calls this with a factory
 * that opens a fresh, empty store.
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  async function withStore(run: (store: Store) => Promise<void>) {
    const store = await open();
    await store.migrate();
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }

  test(`${name}: migrate is safe to run again`, () =>
    withStore(async (store) => {
      await store.migrate();
      await store.ping();
    }));

  test(`${name}: getOrCreateBackend returns one row per name`, () =>
    withStore(async (store) => {
      const a = await store.getOrCreateBackend("kannel");
      const b = await store.getOrCreateBackend("kannel");
      const c = await store.getOrCreateBackend("vumi");
      assert.deepEqual(a, b);
      assert.notEqual(a.id, c.id);
    }));

  test(`${name}: lookupConnections creates each (backend, identity) once and answers in input order`, () =>
    withStore(async (store) => {
      const first = await store.lookupConnections("kannel", ["222", "111", "222"]);
      assert.deepEqual(
        first.map((c) => c.identity),
        ["222", "111", "222"],
      );
      assert.equal(first[0].id, first[2].id);
      const again = await store.lookupConnections("kannel", ["111", "333"]);
      assert.equal(again[0].id, first[1].id);
      assert.deepEqual(
        again.map((c) => c.backend),
        ["kannel", "kannel"],
      );
      const elsewhere = await store.lookupConnections("vumi", ["111"]);
      assert.notEqual(elsewhere[0].id, first[1].id);
      assert.deepEqual(await store.lookupConnections("kannel", []), []);
    }));

  test(`${name}: a connection can be linked to a contact`, () =>
    withStore(async (store) => {
      const contact = await store.createContact({ name: "Amina", language: "sw" });
      assert.deepEqual(await store.getContact(contact.id), { id: contact.id, name: "Amina", language: "sw" });
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      assert.equal(connection.contactId, null);
      await store.setConnectionContact(connection.id, contact.id);
      const [linked] = await store.lookupConnections("kannel", ["111"]);
      assert.equal(linked.contactId, contact.id);
    }));

  const DAY = 24 * 60 * 60 * 1000;
  const accept = (store: Store, id: string, connection: Connection, fields: Fields = {}, now?: number) =>
    store.acceptIncoming({ id, text: `text of ${id}`, fields, connection }, { dedupeWindowMs: DAY, now });
  const outgoing = (id: string, connections: Connection[], extra: Partial<OutgoingRecordInit> = {}): OutgoingRecordInit => ({
    id,
    text: `text of ${id}`,
    fields: {},
    context: {},
    inResponseTo: null,
    connections,
    ...extra,
  });

  test(`${name}: an accepted message is stored as Q with its fields`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      assert.deepEqual(await accept(store, "in1", connection, { externalId: "gw-1", to: "555" }), { id: "in1", duplicate: false });
      const stored = await store.getMessage("in1");
      assert.equal(stored?.status, "Q");
      assert.equal(stored?.direction, "I");
      assert.equal(stored?.externalId, "gw-1");
      assert.deepEqual(stored?.fields, { externalId: "gw-1", to: "555" });
      assert.deepEqual(
        stored?.transmissions.map((t) => [t.backend, t.identity, t.status]),
        [["kannel", "111", "Q"]],
      );
    }));

  test(`${name}: a gateway id seen again on the same backend within the window is a duplicate of the first`, () =>
    withStore(async (store) => {
      const [onKannel] = await store.lookupConnections("kannel", ["111"]);
      const [onVumi] = await store.lookupConnections("vumi", ["111"]);
      const t0 = 1_000_000_000_000;
      await accept(store, "first", onKannel, { externalId: "gw-1" }, t0);
      assert.deepEqual(await accept(store, "again", onKannel, { externalId: "gw-1" }, t0 + DAY - 1), { id: "first", duplicate: true });
      assert.equal(await store.getMessage("again"), undefined);
      assert.deepEqual(await accept(store, "other-backend", onVumi, { externalId: "gw-1" }, t0 + 1), { id: "other-backend", duplicate: false });
      assert.deepEqual(await accept(store, "no-id", onKannel, {}, t0 + 2), { id: "no-id", duplicate: false });
      assert.deepEqual(await accept(store, "later", onKannel, { externalId: "gw-1" }, t0 + DAY + 1), { id: "later", duplicate: false });
      assert.deepEqual(await accept(store, "later-again", onKannel, { externalId: "gw-1" }, t0 + DAY + 2), { id: "later", duplicate: true });
      assert.equal(await store.purgeDedupe(t0 + DAY), 1);
    }));

  test(`${name}: claimIncoming leases the oldest unprocessed messages once, and again when the lease ran out`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      await accept(store, "a", connection);
      await accept(store, "b", connection);
      const now = Date.now();
      const first = await store.claimIncoming("w1", 1, 1_000, now);
      assert.deepEqual(
        first.map((m) => [m.id, m.text, m.connection.identity, m.connection.backend]),
        [["a", "text of a", "111", "kannel"]],
      );
      assert.deepEqual(
        (await store.claimIncoming("w2", 10, 1_000, now)).map((m) => m.id),
        ["b"],
      );
      assert.deepEqual(await store.claimIncoming("w2", 10, 1_000, now + 500), []);
      assert.deepEqual(
        (await store.claimIncoming("w2", 10, 1_000, now + 1_001)).map((m) => m.id),
        ["a", "b"],
      );
    }));

  test(`${name}: a message accepted already claimed is left to its claimer until the lease runs out`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      const now = Date.now();
      await store.acceptIncoming({ id: "mine", text: "hi", fields: {}, connection }, { dedupeWindowMs: 0, claim: { owner: "w1", until: now + 1_000 } });
      assert.deepEqual(await store.claimIncoming("w2", 10, 1_000, now + 500), []);
      assert.deepEqual(
        (await store.claimIncoming("w2", 10, 1_000, now + 1_001)).map((m) => m.id),
        ["mine"],
      );
    }));

  test(`${name}: renewClaims keeps a lease; releaseClaims gives the work back at once`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      await accept(store, "a", connection);
      await store.enqueueOutgoing(outgoing("o", [connection]));
      const now = Date.now();
      await store.claimIncoming("w1", 10, 1_000, now);
      await store.claimTransmissions("w1", 10, 1_000, now);
      await store.renewClaims("w1", 1_000, now + 900);
      assert.deepEqual(await store.claimIncoming("w2", 10, 1_000, now + 1_500), []);
      assert.deepEqual(await store.claimTransmissions("w2", 10, 1_000, now + 1_500), []);
      await store.releaseClaims("w1");
      assert.deepEqual(
        (await store.claimIncoming("w2", 10, 1_000, now + 1_500)).map((m) => m.id),
        ["a"],
      );
      const [again] = await store.claimTransmissions("w2", 10, 1_000, now + 1_500);
      assert.equal(again.attempt, 1, "a released claim does not count as an attempt");
    }));

  test(`${name}: completeIncoming marks R and queues the replies in one step; a second completion changes nothing`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      await accept(store, "in", connection);
      const reply = outgoing("reply", [connection], { inResponseTo: "in", context: { inResponseTo: "in" }, priority: 1 });
      await store.completeIncoming("in", { status: "R", replies: [reply] });
      await store.completeIncoming("in", { status: "R", replies: [{ ...reply, id: "reply-2" }] });
      assert.equal((await store.getMessage("in"))?.status, "R");
      assert.deepEqual(
        (await store.listMessages({ inResponseTo: "in" })).map((m) => [m.id, m.status, m.transmissions[0].status]),
        [["reply", "P", "Q"]],
      );
      assert.deepEqual(await store.claimIncoming("w", 10, 1_000), []);
    }));

  test(`${name}: completeIncoming with a claim stores the replies' transmissions claimed and returns them; others wait out the lease`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222"]);
      await accept(store, "in", connections[0]);
      const now = Date.now();
      const reply = outgoing("reply", connections, { inResponseTo: "in", context: { inResponseTo: "in" }, priority: 1 });
      const handed = await store.completeIncoming("in", { status: "R", replies: [reply] }, { claim: { owner: "w1", until: now + 1_000 } });
      assert.deepEqual(
        handed.map(({ messageId, text, context, backend, identity, attempt }) => ({ messageId, text, context, backend, identity, attempt })),
        ["111", "222"].map((identity) => ({ messageId: "reply", text: reply.text, context: { inResponseTo: "in" }, backend: "kannel", identity, attempt: 1 })),
      );
      const [stored] = await store.listMessages({ inResponseTo: "in" });
      assert.deepEqual(stored.transmissions.map((t) => [t.id, t.status, t.attempts]).sort(), handed.map((t) => [t.id, "P", 1]).sort());
      assert.deepEqual(await store.claimTransmissions("w2", 10, 1_000, now + 500), [], "claimed by w1 until its lease runs out");
      const again = await store.claimTransmissions("w2", 10, 1_000, now + 1_001);
      assert.deepEqual(again.map((t) => [t.id, t.attempt]).sort(), handed.map((t) => [t.id, 2]).sort());
      // As the sender records them: with the message at hand.
      const outcomes = again.map((t) => ({ transmissionId: t.id, messageId: t.messageId, attempt: t.attempt, status: "S" as const, durationMs: 1 }));
      assert.deepEqual([...(await store.recordAttempts(outcomes))], [["reply", "S"]]);
      assert.equal((await store.getMessage("reply"))?.status, "S");
      assert.deepEqual(
        await store.completeIncoming("in", { status: "R", replies: [{ ...reply, id: "reply-2" }] }, { claim: { owner: "w1", until: now + 1_000 } }),
        [],
        "nothing when already completed",
      );
    }));

  test(`${name}: an app failure completes the message as E with the reason`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      await accept(store, "in", connection);
      await store.completeIncoming("in", { status: "E", error: "app failed", replies: [] });
      const failed = await store.getMessage("in");
      assert.equal(failed?.status, "E");
      assert.equal(failed?.error, "app failed");
      assert.equal(failed?.transmissions[0].status, "E");
    }));

  test(`${name}: claimTransmissions leases due outbound transmissions by priority, never inbound ones`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222"]);
      await accept(store, "inbound", connections[0]);
      await store.enqueueOutgoing(outgoing("bulk", connections, { context: { campaign: "x" } }));
      await store.enqueueOutgoing(outgoing("reply", [connections[1]], { priority: 1 }));
      assert.equal((await store.getMessage("bulk"))?.status, "P");
      const now = Date.now();
      const claimed = await store.claimTransmissions("w1", 10, 1_000, now);
      assert.deepEqual(
        claimed.map((t) => [t.messageId, t.identity, t.backend, t.attempt]),
        [
          ["reply", "222", "kannel", 1],
          ["bulk", "111", "kannel", 1],
          ["bulk", "222", "kannel", 1],
        ],
      );
      assert.deepEqual(claimed[1].context, { campaign: "x" });
      assert.equal(claimed[1].text, "text of bulk");
      assert.deepEqual(await store.claimTransmissions("w2", 10, 1_000, now), []);
      const reclaimed = await store.claimTransmissions("w2", 10, 1_000, now + 1_001);
      assert.deepEqual(
        reclaimed.map((t) => t.attempt),
        [2, 2, 2],
      );
    }));

  test(`${name}: recordAttempts sets S, schedules a retry (Q) or gives up (E), logs each attempt and derives the message status`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222", "333"]);
      await store.enqueueOutgoing(outgoing("m", connections));
      const now = Date.now();
      const [a, b, c] = await store.claimTransmissions("w", 10, 1_000, now);
      const statuses = await store.recordAttempts([
        { transmissionId: a.id, attempt: 1, status: "S", answer: "0: Accepted", externalId: "gw-a", durationMs: 12 },
        { transmissionId: b.id, attempt: 1, status: "Q", nextAttemptAt: now + 5_000, error: "503", durationMs: 10 },
        { transmissionId: c.id, attempt: 1, status: "E", error: "400 bad number", durationMs: 9 },
      ]);
      assert.deepEqual([...statuses], [["m", "E"]]);
      const record = await store.getMessage("m");
      assert.deepEqual(
        record?.transmissions.map((t) => [t.identity, t.status, t.error, t.externalId]),
        [
          ["111", "S", null, "gw-a"],
          ["222", "Q", "503", null],
          ["333", "E", "400 bad number", null],
        ],
      );
      assert.equal(record?.transmissions[1].nextAttemptAt, now + 5_000);
      assert.deepEqual(await store.claimTransmissions("w", 10, 1_000, now + 4_999), []);
      const [retry] = await store.claimTransmissions("w", 10, 1_000, now + 5_000);
      assert.deepEqual([retry.identity, retry.attempt], ["222", 2]);
      await store.recordAttempts([{ transmissionId: retry.id, attempt: 2, status: "S", durationMs: 8 }]);
      const detail = await store.getTransmission(b.id);
      assert.deepEqual(
        detail?.attemptLog.map((l) => [l.attempt, l.outcome, l.error]),
        [
          [1, "retry", "503"],
          [2, "S", null],
        ],
      );
      assert.equal(detail?.status, "S");
      assert.ok(detail?.sentAt);
      assert.equal(await store.getTransmission(999_999), undefined);
    }));

  test(`${name}: a message whose transmissions are all sent is S, with its sent time`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222"]);
      await store.enqueueOutgoing(outgoing("m", connections));
      const claimed = await store.claimTransmissions("w", 10, 1_000);
      const statuses = await store.recordAttempts(claimed.map((t) => ({ transmissionId: t.id, attempt: 1, status: "S" as const, durationMs: 1 })));
      assert.equal(statuses.get("m"), "S");
      const record = await store.getMessage("m");
      assert.equal(record?.status, "S");
      assert.ok(record?.sentAt);
    }));

  test(`${name}: delivery reports find a transmission by id, by message and identity, or by gateway id`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222"]);
      await store.enqueueOutgoing(outgoing("m", connections));
      const [a, b] = await store.claimTransmissions("w", 10, 1_000);
      await store.recordAttempts([
        { transmissionId: a.id, attempt: 1, status: "S", externalId: "gw-a", durationMs: 1 },
        { transmissionId: b.id, attempt: 1, status: "S", durationMs: 1 },
      ]);
      assert.equal(await store.reportDelivery({ backend: "kannel", externalId: "gw-a" }, { status: "S", detail: "buffered" }), a.id);
      assert.equal((await store.getMessage("m"))?.status, "S", "an interim report changes nothing");
      assert.equal(await store.reportDelivery({ transmissionId: a.id }, { status: "D" }), a.id);
      assert.equal((await store.getMessage("m"))?.status, "S");
      assert.equal(await store.reportDelivery({ messageId: "m", identity: "222" }, { status: "D", detail: "delivered" }), b.id);
      const delivered = await store.getMessage("m");
      assert.equal(delivered?.status, "D");
      assert.ok(delivered?.deliveredAt);
      assert.deepEqual(
        (await store.getTransmission(a.id))?.deliveryReports.map((r) => [r.status, r.detail]),
        [
          ["S", "buffered"],
          ["D", null],
        ],
      );
      assert.equal(await store.reportDelivery({ backend: "vumi", externalId: "gw-a" }, { status: "D" }), null);
      assert.equal(await store.reportDelivery({ messageId: "nope", identity: "111" }, { status: "D" }), null);
    }));

  test(`${name}: a failure report marks the transmission and the message E; a report that overtakes the send answer stands`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222"]);
      await store.enqueueOutgoing(outgoing("m", connections));
      const [a, b] = await store.claimTransmissions("w", 10, 1_000);
      await store.reportDelivery({ transmissionId: a.id }, { status: "D" });
      await store.recordAttempts([
        { transmissionId: a.id, attempt: 1, status: "S", durationMs: 1 },
        { transmissionId: b.id, attempt: 1, status: "S", durationMs: 1 },
      ]);
      assert.equal((await store.getTransmission(a.id))?.status, "D");
      await store.reportDelivery({ transmissionId: b.id }, { status: "E", detail: "SMSC reject" });
      const record = await store.getMessage("m");
      assert.equal(record?.status, "E");
      assert.equal(record?.transmissions[1].error, "SMSC reject");
    }));

  test(`${name}: pendingWork counts unprocessed inbound, due outbound and the next retry`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222"]);
      assert.deepEqual(await store.pendingWork(), { inbound: 0, outbound: 0, nextRetryAt: null });
      await accept(store, "in", connections[0]);
      await store.enqueueOutgoing(outgoing("m", connections));
      const now = Date.now();
      assert.deepEqual(await store.pendingWork(now), { inbound: 1, outbound: 2, nextRetryAt: null });
      const [a] = await store.claimTransmissions("w", 1, 1_000, now);
      await store.recordAttempts([{ transmissionId: a.id, attempt: 1, status: "Q", nextAttemptAt: now + 60_000, durationMs: 1 }]);
      assert.deepEqual(await store.pendingWork(now), { inbound: 1, outbound: 1, nextRetryAt: now + 60_000 });
    }));

  test(`${name}: send slots of a backend are spaced one interval apart, and each backend has its own`, () =>
    withStore(async (store) => {
      const now = Date.now();
      assert.equal(await store.reserveSendSlot("kannel", 200, now), now, "the first slot is at once");
      assert.equal(await store.reserveSendSlot("kannel", 200, now + 10), now + 200);
      assert.equal(await store.reserveSendSlot("kannel", 200, now + 20), now + 400);
      assert.equal(await store.reserveSendSlot("vumi", 200, now + 30), now + 30, "another backend's first slot is at once");
      assert.equal(await store.reserveSendSlot("kannel", 200, now + 5_000), now + 5_000, "after a pause, the next slot is at once");
    }));

  test(`${name}: listMessages filters by direction, status, backend, identity and reply, newest first, paged by id`, () =>
    withStore(async (store) => {
      const [a] = await store.lookupConnections("kannel", ["111"]);
      const [b] = await store.lookupConnections("vumi", ["222"]);
      await accept(store, "m1", a);
      await accept(store, "m2", b);
      await store.enqueueOutgoing(outgoing("m3", [a], { inResponseTo: "m1" }));
      const ids = async (query: Parameters<Store["listMessages"]>[0]) => (await store.listMessages(query)).map((m) => m.id);
      assert.deepEqual(await ids({}), ["m3", "m2", "m1"]);
      assert.deepEqual(await ids({ direction: "I" }), ["m2", "m1"]);
      assert.deepEqual(await ids({ status: "P" }), ["m3"]);
      assert.deepEqual(await ids({ backend: "kannel" }), ["m3", "m1"]);
      assert.deepEqual(await ids({ identity: "222" }), ["m2"]);
      assert.deepEqual(await ids({ inResponseTo: "m1" }), ["m3"]);
      assert.deepEqual(await ids({ limit: 1 }), ["m3"]);
      assert.deepEqual(await ids({ before: "m3", limit: 1 }), ["m2"]);
      assert.deepEqual(await ids({ before: "m1" }), []);
      assert.equal(await store.getMessage("nope"), undefined);
    }));

  test(`${name}: backend messages are stored per backend and identity, listed newest first and cleared`, () =>
    withStore(async (store) => {
      const row = (identity: string, text: string, direction: "I" | "O" = "O") => ({
        name: "tester",
        direction,
        messageId: "m",
        externalId: "",
        identity,
        text,
      });
      await store.addBackendMessages([row("111", "a", "I"), row("111", "b"), row("222", "c")]);
      await store.addBackendMessages([{ ...row("111", "z"), name: "other" }]);
      assert.deepEqual(
        (await store.listBackendMessages({ name: "tester" })).map((m) => m.text),
        ["c", "b", "a"],
      );
      assert.deepEqual(
        (await store.listBackendMessages({ name: "tester", identity: "111", direction: "O" })).map((m) => m.text),
        ["b"],
      );
      assert.deepEqual(
        (await store.listBackendMessages({ name: "tester", limit: 1, offset: 1 })).map((m) => m.text),
        ["b"],
      );
      assert.equal(await store.countBackendMessages({ name: "tester" }), 3);
      assert.equal(await store.clearBackendMessages("tester", "111"), 2);
      assert.equal(await store.countBackendMessages({ name: "tester" }), 1);
      assert.equal(await store.clearBackendMessages("tester"), 1);
      assert.equal(await store.countBackendMessages({ name: "other" }), 1);
    }));
}
