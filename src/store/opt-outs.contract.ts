import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../messages/connection.ts";
import type { Claim, OutgoingRecordInit, Store } from "./store.ts";
import { withFreshStore } from "./fresh-store.contract.ts";

/** What every Store does with opt-outs (see OptOutStore), and how its claims of sends see them. */
export function optOutsContract(name: string, open: () => Promise<Store>): void {
  const withStore = withFreshStore(open);

  let claims = 0;
  const claim = (): Claim => ({ token: `opt#${++claims}`, until: Date.now() + 60_000 });
  const outgoing = (id: string, connections: Connection[], inResponseTo: string | null = null): OutgoingRecordInit => ({
    id,
    text: `text of ${id}`,
    fields: {},
    context: {},
    inResponseTo,
    connections,
    priority: 1,
  });
  /** An inbound message from `connection`, stored and processed (R), as a STOP would be. */
  const received = async (store: Store, id: string, connection: Connection) => {
    await store.acceptIncoming({ message: { id, text: "STOP", fields: {}, connection }, dedupeWindowMs: 60_000 });
    const [held] = await store.claimIncoming({ claim: claim(), limit: 1, maxAttempts: 5, only: id });
    return held;
  };

  test(`${name}: optOut records who, since when and why; a second keeps the first record`, () =>
    withStore(async (store) => {
      const before = new Date().toISOString();
      const first = await store.optOut({ backend: "sms", identity: "+255700000001", source: "api", detail: "asked on the phone" });
      assert.equal(first.created, true);
      assert.deepEqual(
        { ...first.record, since: undefined },
        { backend: "sms", identity: "+255700000001", since: undefined, source: "api", detail: "asked on the phone", messageId: null },
      );
      assert.ok(first.record.since >= before, "since is the time of the opt-out");
      const again = await store.optOut({ backend: "sms", identity: "+255700000001", source: "operator", detail: "root" });
      assert.equal(again.created, false);
      assert.deepEqual(again.record, first.record);
      assert.deepEqual(await store.getOptOut({ backend: "sms", identity: "+255700000001" }), first.record);
      assert.equal(await store.getOptOut({ backend: "other", identity: "+255700000001" }), undefined, "an opt-out is per backend");
    }));

  test(`${name}: optIn lifts an opt-out, and says whether there was one`, () =>
    withStore(async (store) => {
      await store.optOut({ backend: "sms", identity: "1", source: "keyword", detail: "STOP" });
      assert.equal(await store.optIn({ backend: "sms", identity: "1" }), true);
      assert.equal(await store.getOptOut({ backend: "sms", identity: "1" }), undefined);
      assert.equal(await store.optIn({ backend: "sms", identity: "1" }), false);
      assert.equal(await store.optIn({ backend: "never", identity: "seen" }), false);
    }));

  test(`${name}: optIn by a START keeps its message: given again (processed again after a failure) it is true again, and changes nothing`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections({ backend: "sms", identities: ["500"] });
      const stop = await received(store, "in-stop-500", connection);
      await store.optOut({ backend: "sms", identity: "500", source: "keyword", detail: "STOP", messageId: stop.id });
      const start = await received(store, "in-start-500", connection);
      assert.equal(await store.optIn({ backend: "sms", identity: "500", messageId: start.id }), true);
      assert.equal(await store.optIn({ backend: "sms", identity: "500", messageId: start.id }), true, "the same START again is still one");
      assert.equal(await store.optIn({ backend: "sms", identity: "500", messageId: "in-other" }), false, "another START finds nobody opted out");
      assert.equal(await store.optIn({ backend: "sms", identity: "500" }), false);
      assert.equal(await store.getOptOut({ backend: "sms", identity: "500" }), undefined, "an opted-in connection is not opted out");
      assert.equal((await store.listOptOuts({ limit: 10 })).total, 0);
      await store.enqueueOutgoing({ message: outgoing("after-start", [connection]) });
      const [claimed] = await store.claimTransmissions({ claim: claim(), limit: 10, maxAttempts: 5 });
      assert.equal(claimed.optedOut, undefined, "sends after the START are not marked");

      const stopAgain = await received(store, "in-stop-500-2", connection);
      await store.optOut({ backend: "sms", identity: "500", source: "keyword", detail: "STOP", messageId: stopAgain.id });
      assert.equal(await store.optIn({ backend: "sms", identity: "500", messageId: start.id }), true, "the old START, processed again, is still a START");
      assert.equal((await store.getOptOut({ backend: "sms", identity: "500" }))?.messageId, stopAgain.id, "but it does not lift the STOP that came after it");
      const restart = await received(store, "in-start-500-2", connection);
      assert.equal(await store.optIn({ backend: "sms", identity: "500", messageId: restart.id }), true);
      assert.equal(
        await store.optIn({ backend: "sms", identity: "500", messageId: start.id }),
        false,
        "once a later START opted them in, the old one is an ordinary text",
      );
    }));

  test(`${name}: purging the START that opted someone in takes its keeping with it, and leaves them opted in`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections({ backend: "sms", identities: ["600"] });
      await store.optOut({ backend: "sms", identity: "600", source: "api", detail: "" });
      const start = await received(store, "in-start-600", connection);
      assert.equal(await store.optIn({ backend: "sms", identity: "600", messageId: start.id }), true);
      await store.completeIncoming({ id: start.id, token: start.token, replies: [] });
      assert.equal((await store.purgeFinished({ olderThan: Date.now() + 60_000, limit: 100 })).messages, 1);
      assert.equal(await store.getOptOut({ backend: "sms", identity: "600" }), undefined);
      assert.equal(await store.optIn({ backend: "sms", identity: "600", messageId: start.id }), false, "the purged START is not known any more");
    }));

  test(`${name}: listOptOuts pages by connection and filters by backend`, () =>
    withStore(async (store) => {
      for (const identity of ["1", "2", "3"]) await store.optOut({ backend: "a", identity, source: "api", detail: "" });
      await store.optOut({ backend: "b", identity: "9", source: "provider", detail: "twilio: 21610" });
      const first = await store.listOptOuts({ limit: 2 });
      assert.equal(first.total, 4);
      assert.deepEqual(
        first.items.map((r) => r.identity),
        ["1", "2"],
      );
      assert.notEqual(first.next, null);
      const second = await store.listOptOuts({ limit: 2, after: first.next! });
      assert.deepEqual(
        second.items.map((r) => `${r.backend}/${r.identity}`),
        ["a/3", "b/9"],
      );
      assert.equal(second.next, null);
      const onB = await store.listOptOuts({ limit: 10, backend: "b" });
      assert.deepEqual(
        onB.items.map((r) => [r.identity, r.source, r.detail]),
        [["9", "provider", "twilio: 21610"]],
      );
      assert.equal(onB.total, 1);
    }));

  test(`${name}: a claim of sends marks the opted-out recipients, but not the reply to their own STOP`, () =>
    withStore(async (store) => {
      const [out, stays] = await store.lookupConnections({ backend: "sms", identities: ["100", "200"] });
      const stop = await received(store, "in-stop", out);
      await store.optOut({ backend: "sms", identity: "100", source: "keyword", detail: "STOP", messageId: stop.id });
      await store.completeIncoming({ id: stop.id, token: stop.token, replies: [] });
      await store.enqueueOutgoing({ message: outgoing("confirmation", [out], stop.id) });
      await store.enqueueOutgoing({ message: outgoing("later", [out, stays]) });
      const claimed = await store.claimTransmissions({ claim: claim(), limit: 10, maxAttempts: 5 });
      const marks = Object.fromEntries(claimed.map((t) => [`${t.messageId} ${t.identity}`, t.optedOut === true]));
      assert.deepEqual(marks, { "confirmation 100": false, "later 100": true, "later 200": false });
    }));

  test(`${name}: replies stored claimed are marked as they are stored; after optIn nothing is`, () =>
    withStore(async (store) => {
      const [out] = await store.lookupConnections({ backend: "sms", identities: ["300"] });
      const stop = await received(store, "in-stop-2", out);
      await store.optOut({ backend: "sms", identity: "300", source: "keyword", detail: "STOP", messageId: stop.id });
      const done = await store.completeIncoming({
        id: stop.id,
        token: stop.token,
        replies: [outgoing("r-confirm", [out], stop.id), outgoing("r-other", [out], null)],
        claimReplies: claim(),
      });
      assert.equal(done.applied, true);
      assert.deepEqual(
        done.claimed.map((t) => [t.messageId, t.optedOut === true]),
        [
          ["r-confirm", false],
          ["r-other", true],
        ],
      );
      await store.optIn({ backend: "sms", identity: "300" });
      const next = await received(store, "in-next", out);
      const again = await store.completeIncoming({ id: next.id, token: next.token, replies: [outgoing("r-after", [out], next.id)], claimReplies: claim() });
      assert.equal(again.claimed[0].optedOut, undefined);
    }));

  test(`${name}: an opt-out made by the API (no message) stops every send, replies too`, () =>
    withStore(async (store) => {
      const [out] = await store.lookupConnections({ backend: "sms", identities: ["400"] });
      await store.optOut({ backend: "sms", identity: "400", source: "api", detail: "" });
      const msg = await received(store, "in-api", out);
      const done = await store.completeIncoming({ id: msg.id, token: msg.token, replies: [outgoing("r-api", [out], msg.id)], claimReplies: claim() });
      assert.equal(done.claimed[0].optedOut, true);
      await store.enqueueOutgoing({ message: outgoing("bulk", [out]) });
      const [bulk] = await store.claimTransmissions({ claim: claim(), limit: 10, maxAttempts: 5 });
      assert.equal(bulk.optedOut, true);
    }));
}
