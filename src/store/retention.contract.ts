import assert from "node:assert/strict";
import { test } from "node:test";
import type { Claim, Store } from "./store.ts";
import { withFreshStore } from "./fresh-store.contract.ts";

/** What every Store's retention purge must do (see RetentionStore); each store's test file calls it. */
export function retentionContract(name: string, open: () => Promise<Store>): void {
  const withStore = withFreshStore(open);
  let claims = 0;
  const claim = (): Claim => ({ token: `retention#${++claims}`, until: Date.now() + 60_000 });
  const DAY = 24 * 60 * 60 * 1000;
  /** A cutoff after everything made so far: every finished message is old enough. */
  const later = () => Date.now() + 60_000;

  /** An inbound message processed with one reply, claimed and sent (S) or left queued. */
  async function conversation(store: Store, id: string, identity: string, reply: "sent" | "queued") {
    const [connection] = await store.lookupConnections({ backend: "kannel", identities: [identity] });
    await store.acceptIncoming({ message: { id, text: `hello ${id}`, fields: {}, connection }, dedupeWindowMs: DAY });
    const [held] = await store.claimIncoming({ claim: claim(), limit: 1, maxAttempts: 5, only: id });
    const replyInit = { id: `${id}-reply`, text: `reply to ${id}`, fields: {}, context: {}, inResponseTo: id, connections: [connection] };
    if (reply === "queued") {
      await store.completeIncoming({ id, token: held.token, replies: [replyInit] });
      return;
    }
    const { claimed } = await store.completeIncoming({ id, token: held.token, replies: [replyInit], claimReplies: claim() });
    const [t] = claimed;
    await store.recordAttempts({
      outcomes: [{ transmissionId: t.id, messageId: t.messageId, token: t.token, attempt: t.attempt, status: "S", externalId: `gw-${id}`, durationMs: 3 }],
    });
    await store.reportDelivery({ ref: { backend: "kannel", externalId: `gw-${id}` }, report: { status: "D" } });
  }

  test(`${name}: purgeFinished deletes finished messages with their transmissions, attempts and reports, and nothing newer than the cutoff`, () =>
    withStore(async (store) => {
      await conversation(store, "old", "111", "sent");
      const transmissionId = (await store.getMessage("old-reply"))!.transmissions[0].id;
      assert.equal((await store.getTransmission(transmissionId))!.deliveryReports.length, 1);
      const before = Date.now() - DAY;
      assert.deepEqual(await store.purgeFinished({ olderThan: before, limit: 100 }), { messages: 0, transmissions: 0, backendMessages: 0, next: null });
      assert.ok(await store.getMessage("old"), "a message newer than the cutoff is kept");

      const purged = await store.purgeFinished({ olderThan: later(), limit: 100 });
      assert.equal(purged.messages, 2, "the inbound message and its delivered reply");
      assert.equal(await store.getMessage("old"), undefined);
      assert.equal(await store.getMessage("old-reply"), undefined);
      assert.equal(await store.getTransmission(transmissionId), undefined, "its transmission went with it");
    }));

  test(`${name}: purgeFinished keeps work not finished: an accepted message, a queued send, and the message a queued reply answers`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["222"] });
      await store.acceptIncoming({ message: { id: "waiting", text: "not processed yet", fields: {}, connection }, dedupeWindowMs: DAY });
      await store.enqueueOutgoing({ message: { id: "bulk", text: "news", fields: {}, context: {}, inResponseTo: null, connections: [connection] } });
      await conversation(store, "answered", "333", "queued");
      assert.equal((await store.purgeFinished({ olderThan: later(), limit: 100 })).messages, 0);
      for (const id of ["waiting", "bulk", "answered", "answered-reply"]) assert.ok(await store.getMessage(id), `${id} is kept`);
    }));

  test(`${name}: a failed outbound message whose other recipients still wait is kept until they are final`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["444", "555"] });
      await store.enqueueOutgoing({ message: { id: "half", text: "news", fields: {}, context: {}, inResponseTo: null, connections } });
      const [first] = await store.claimTransmissions({ claim: claim(), limit: 1, maxAttempts: 5 });
      await store.recordAttempts({
        outcomes: [{ transmissionId: first.id, messageId: "half", token: first.token, attempt: 1, status: "E", error: "rejected", durationMs: 1 }],
      });
      assert.equal((await store.getMessage("half"))!.status, "E");
      assert.equal((await store.purgeFinished({ olderThan: later(), limit: 100 })).messages, 0, "one recipient is still queued");
      const [second] = await store.claimTransmissions({ claim: claim(), limit: 1, maxAttempts: 5 });
      await store.recordAttempts({ outcomes: [{ transmissionId: second.id, messageId: "half", token: second.token, attempt: 1, status: "S", durationMs: 1 }] });
      assert.equal((await store.purgeFinished({ olderThan: later(), limit: 100 })).messages, 1);
    }));

  test(`${name}: purgeFinished takes at most limit messages a call, oldest first, and the database backend's old rows`, () =>
    withStore(async (store) => {
      for (const id of ["m1", "m2", "m3"]) await conversation(store, id, id, "sent");
      await store.addBackendMessages([
        { name: "db", direction: "I", messageId: "x", externalId: "", identity: "1", text: "a" },
        { name: "db", direction: "O", messageId: "y", externalId: "", identity: "1", text: "b" },
      ]);
      const first = await store.purgeFinished({ olderThan: later(), limit: 2 });
      assert.deepEqual([first.messages, first.transmissions, first.backendMessages], [2, 2, 2]);
      assert.equal(first.next?.id, "m1-reply", "it goes on after the last message it purged");
      assert.equal(await store.getMessage("m1"), undefined, "the oldest goes first");
      const rest = await store.purgeFinished({ olderThan: later(), limit: 100 });
      assert.equal(rest.messages, 4);
      assert.equal((await store.purgeFinished({ olderThan: later(), limit: 100 })).messages, 0);
      assert.equal(await store.countBackendMessages({ name: "db" }), 0);
    }));

  test(`${name}: purging a STOP message keeps the opt-out it recorded: consent outlives the traffic`, () =>
    withStore(async (store) => {
      await conversation(store, "stop", "666", "sent");
      await store.optOut({ backend: "kannel", identity: "666", source: "keyword", detail: "STOP", messageId: "stop" });
      assert.equal((await store.purgeFinished({ olderThan: later(), limit: 100 })).messages, 2);
      const kept = await store.getOptOut({ backend: "kannel", identity: "666" });
      assert.equal(kept?.source, "keyword");
      assert.equal(kept?.messageId, null);
    }));

  test(`${name}: a message whose webhook delivery is still to be POSTed is kept until it is done`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["777"] });
      await store.enqueueOutgoing({
        message: {
          id: "watched",
          text: "news",
          fields: {},
          context: {},
          inResponseTo: null,
          connections: [connection],
          eventUrl: "https://receiver.example/e",
        },
      });
      const [t] = await store.claimTransmissions({ claim: claim(), limit: 1, maxAttempts: 5 });
      await store.recordAttempts({ outcomes: [{ transmissionId: t.id, messageId: "watched", token: t.token, attempt: 1, status: "S", durationMs: 1 }] });
      assert.equal((await store.purgeFinished({ olderThan: later(), limit: 100 })).messages, 0, "its queued and sent events wait");
      for (;;) {
        const hooks = await store.claimWebhooks({ claim: claim(), limit: 10, maxAttempts: 5 });
        if (hooks.length === 0) break;
        for (const hook of hooks) await store.completeWebhook({ id: hook.id, token: hook.token, status: "S", answerStatus: 200 });
      }
      assert.equal((await store.purgeFinished({ olderThan: later(), limit: 100 })).messages, 1);
      assert.deepEqual(await store.listWebhooks("watched"), []);
    }));

  test(`${name}: a purge deletes about maxTransmissions transmissions a call: whole messages while they fit, a bigger one a slice at a time`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: Array.from({ length: 25 }, (_, i) => `9${i}`) });
      const send = async (id: string, to: typeof connections) => {
        await store.enqueueOutgoing({ message: { id, text: "news", fields: {}, context: {}, inResponseTo: null, connections: to } });
        const held = await store.claimTransmissions({ claim: claim(), limit: 100, maxAttempts: 5 });
        await store.recordAttempts({
          outcomes: held.map((t) => ({ transmissionId: t.id, messageId: id, token: t.token, attempt: 1, status: "S" as const, durationMs: 1 })),
        });
      };
      await send("small-1", connections.slice(0, 4));
      await send("small-2", connections.slice(4, 8));
      await send("bulk", connections);
      const first = await store.purgeFinished({ olderThan: later(), limit: 100, maxTransmissions: 10 });
      assert.deepEqual([first.messages, first.transmissions], [2, 8], "two small messages fit, the bulk one does not");
      const slices: number[] = [];
      let after = first.next;
      for (;;) {
        const next = await store.purgeFinished({ olderThan: later(), limit: 100, maxTransmissions: 10, after });
        slices.push(next.transmissions);
        if (next.next === null) break;
        after = next.next;
      }
      assert.deepEqual(slices, [10, 10, 5], "the bulk message's 25 recipients in slices of 10, the message with the last");
      assert.equal(await store.getMessage("bulk"), undefined);
    }));

  test(`${name}: a purge goes on after its cursor: messages it passed by are not looked at again in that run`, () =>
    withStore(async (store) => {
      await conversation(store, "a", "801", "sent");
      const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["802"] });
      await store.enqueueOutgoing({ message: { id: "queued", text: "news", fields: {}, context: {}, inResponseTo: null, connections: [connection] } });
      await conversation(store, "b", "803", "sent");
      const first = await store.purgeFinished({ olderThan: later(), limit: 1 });
      assert.equal(first.messages, 1);
      const rest = await store.purgeFinished({ olderThan: later(), limit: 100, after: first.next });
      assert.equal(rest.messages, 3, "a's reply and b's conversation; the queued message is passed by");
      assert.equal(rest.next, null);
      assert.ok(await store.getMessage("queued"));
    }));
}
