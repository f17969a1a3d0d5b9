import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../messages/connection.ts";
import type { Fields } from "../messages/messages.ts";
import type { Claim, Store } from "./store.ts";
import { outgoing, sent, withFreshStore } from "./fresh-store.contract.ts";

/**
 * The behaviour every Store must have. Each implementation's test file calls this with a factory
 * that opens a fresh, empty store.
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  const withStore = withFreshStore(open);

  const DAY = 24 * 60 * 60 * 1000;
  let claims = 0;
  /** A fresh claim, leased for `leaseMs` from `now`. */
  const claim = (now = Date.now(), leaseMs = 1_000): Claim => ({ token: `w#${++claims}`, until: now + leaseMs });
  const connect = (store: Store, backend: string, identities: string[]) => store.lookupConnections({ backend, identities });
  const accept = (store: Store, id: string, connection: Connection, fields: Fields = {}, now?: number) =>
    store.acceptIncoming({ message: { id, text: `text of ${id}`, fields, connection }, dedupeWindowMs: DAY, now });
  const claimIn = (store: Store, held: Claim, now?: number, limit = 10) => store.claimIncoming({ claim: held, limit, maxAttempts: 5, now });
  const claimOut = (store: Store, held: Claim, now?: number, limit = 10, maxAttempts = 10) =>
    store.claimTransmissions({ claim: held, limit, maxAttempts, now });

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
      const first = await connect(store, "kannel", ["222", "111", "222"]);
      assert.deepEqual(
        first.map((c) => c.identity),
        ["222", "111", "222"],
      );
      assert.equal(first[0].id, first[2].id);
      const again = await connect(store, "kannel", ["111", "333"]);
      assert.equal(again[0].id, first[1].id);
      assert.deepEqual(
        again.map((c) => c.backend),
        ["kannel", "kannel"],
      );
      const elsewhere = await connect(store, "vumi", ["111"]);
      assert.notEqual(elsewhere[0].id, first[1].id);
      assert.deepEqual(await connect(store, "kannel", []), []);
    }));

  test(`${name}: a connection can be linked to a contact`, () =>
    withStore(async (store) => {
      const contact = await store.createContact({ name: "Amina", language: "sw" });
      const { createdOn, modifiedOn, ...read } = (await store.getContact(contact.id))!;
      assert.deepEqual(read, { id: contact.id, name: "Amina", language: "sw", fields: {}, connections: [], groups: [] });
      assert.ok(createdOn <= modifiedOn);
      const [connection] = await connect(store, "kannel", ["111"]);
      assert.equal(connection.contactId, null);
      await store.setConnectionContact({ connectionId: connection.id, contactId: contact.id });
      const [linked] = await connect(store, "kannel", ["111"]);
      assert.equal(linked.contactId, contact.id);
    }));

  test(`${name}: a contact keeps its fields and connections; linking a connection takes it from another contact`, () =>
    withStore(async (store) => {
      const amina = await store.createContact({
        name: "Amina",
        language: "sw",
        fields: { age: 34, district: "Ilala", tags: ["chw"] },
        connections: [
          { backend: "kannel", identity: "+255700000001" },
          { backend: "vumi", identity: "amina" },
        ],
      });
      assert.deepEqual(amina.fields, { age: 34, district: "Ilala", tags: ["chw"] });
      assert.deepEqual(amina.connections, [
        { backend: "kannel", identity: "+255700000001" },
        { backend: "vumi", identity: "amina" },
      ]);
      const [connection] = await connect(store, "kannel", ["+255700000001"]);
      assert.equal(connection.contactId, amina.id);
      const juma = await store.createContact({ name: "Juma", connections: [{ backend: "kannel", identity: "+255700000001" }] });
      assert.deepEqual((await store.getContact(amina.id))?.connections, [{ backend: "vumi", identity: "amina" }]);
      assert.deepEqual(juma.connections, [{ backend: "kannel", identity: "+255700000001" }]);
      const changed = await store.updateContact({ id: amina.id, fields: { age: 35 }, connections: [{ backend: "kannel", identity: "+255700000002" }] });
      assert.deepEqual(changed?.fields, { age: 35 });
      assert.deepEqual(changed?.connections, [{ backend: "kannel", identity: "+255700000002" }]);
      assert.equal((await connect(store, "vumi", ["amina"]))[0].contactId, null, "a connection the update left out is unlinked");
      assert.equal(await store.updateContact({ id: 999_999, name: "nobody" }), undefined);
      assert.equal(await store.deleteContact(juma.id), true);
      assert.equal(await store.deleteContact(juma.id), false);
      assert.equal((await connect(store, "kannel", ["+255700000001"]))[0].contactId, null, "a deleted contact's connections stay, unlinked");
    }));

  test(`${name}: contacts and groups are listed in pages by id, with totals`, () =>
    withStore(async (store) => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.createContact({ name: `c${i}` })).id);
      const first = await store.listContacts({ limit: 2 });
      assert.deepEqual(
        first.items.map((c) => c.name),
        ["c0", "c1"],
      );
      assert.equal(first.total, 5);
      const second = await store.listContacts({ limit: 2, after: first.next! });
      const third = await store.listContacts({ limit: 2, after: second.next! });
      assert.deepEqual(
        [...second.items, ...third.items].map((c) => c.name),
        ["c2", "c3", "c4"],
      );
      assert.equal(third.next, null);
      for (const name of ["a", "b", "c"]) await store.createGroup({ name });
      const groups = await store.listGroups({ limit: 2 });
      assert.deepEqual(
        groups.items.map((g) => g.name),
        ["a", "b"],
      );
      assert.equal(groups.total, 3);
      assert.deepEqual(
        (await store.listGroups({ limit: 2, after: groups.next! })).items.map((g) => g.name),
        ["c"],
      );
    }));

  test(`${name}: a group has members; a broadcast goes to each member's first connection, or the one on the backend asked for`, () =>
    withStore(async (store) => {
      const reporters = (await store.createGroup({ name: "reporters", description: "weekly case reports" }))!;
      assert.equal(await store.createGroup({ name: "reporters" }), undefined, "a group name is unique");
      const amina = await store.createContact({
        name: "Amina",
        connections: [
          { backend: "kannel", identity: "+255700000001" },
          { backend: "vumi", identity: "amina" },
        ],
        groups: [reporters.id],
      });
      const juma = await store.createContact({ name: "Juma", connections: [{ backend: "vumi", identity: "juma" }] });
      const silent = await store.createContact({ name: "No phone" });
      const grown = await store.changeGroupMembers({ group: reporters.id, add: [juma.id, silent.id, 999_999] });
      assert.equal(grown?.members, 3);
      assert.deepEqual((await store.getContact(amina.id))?.groups, [{ id: reporters.id, name: "reporters" }]);
      const everyone = await store.groupConnections({ group: reporters.id });
      assert.deepEqual(
        everyone.map((c) => [c.backend, c.identity, c.contactId]),
        [
          ["kannel", "+255700000001", amina.id],
          ["vumi", "juma", juma.id],
        ],
      );
      assert.deepEqual(
        (await store.groupConnections({ group: reporters.id, backend: "vumi" })).map((c) => c.identity),
        ["amina", "juma"],
      );
      const members = await store.listContacts({ limit: 10, group: reporters.id });
      assert.deepEqual(
        members.items.map((c) => c.name),
        ["Amina", "Juma", "No phone"],
      );
      assert.equal((await store.changeGroupMembers({ group: reporters.id, remove: [amina.id] }))?.members, 2);
      assert.equal(await store.changeGroupMembers({ group: 999_999, add: [amina.id] }), undefined);
      const other = (await store.createGroup({ name: "nurses" }))!;
      assert.equal(await store.updateGroup({ id: other.id, name: "reporters" }), "conflict");
      const renamed = await store.updateGroup({ id: reporters.id, name: "chws", description: "" });
      assert.equal(renamed !== "conflict" && renamed?.name, "chws");
      assert.deepEqual(await store.getGroup({ name: "chws" }), renamed);
      assert.equal(await store.deleteGroup(reporters.id), true);
      assert.deepEqual((await store.getContact(juma.id))?.groups, [], "deleting a group keeps its contacts");
      assert.equal(await store.deleteGroup(reporters.id), false);
    }));

  test(`${name}: a session is opened by its first message, keeps what a step saves, and starts afresh when the gateway reuses its key`, () =>
    withStore(async (store) => {
      const t0 = 1_000_000_000_000;
      const opened = await store.openSession({ backend: "at", key: "ATUid_1", identity: "+254700", messageId: "m1", now: t0 });
      assert.deepEqual(
        { first: opened.firstMessageId, steps: opened.steps, state: opened.state, ended: opened.endedAt },
        { first: "m1", steps: 0, state: {}, ended: null },
      );
      assert.equal(
        (await store.openSession({ backend: "at", key: "ATUid_1", identity: "+254700", messageId: "m1", restart: true, now: t0 + 1 })).firstMessageId,
        "m1",
        "a retried first step",
      );
      await store.saveSession({ backend: "at", key: "ATUid_1", state: { name: "Amina", ñ: "😀" }, ended: false, now: t0 + 2 });
      const second = await store.openSession({ backend: "at", key: "ATUid_1", identity: "+254700", messageId: "m2", now: t0 + 3 });
      assert.deepEqual(
        { first: second.firstMessageId, steps: second.steps, state: second.state },
        { first: "m1", steps: 1, state: { name: "Amina", ñ: "😀" } },
      );
      assert.equal(
        (await store.openSession({ backend: "other", key: "ATUid_1", identity: "+254700", messageId: "m9", now: t0 })).firstMessageId,
        "m9",
        "keys are per backend",
      );
      await store.saveSession({ backend: "at", key: "ATUid_1", state: {}, ended: true, now: t0 + 4 });
      assert.equal(
        (await store.openSession({ backend: "at", key: "ATUid_1", identity: "+254700", messageId: "m3", now: t0 + 5 })).endedAt,
        new Date(t0 + 4).toISOString(),
      );
      const reused = await store.openSession({ backend: "at", key: "ATUid_1", identity: "+254711", messageId: "m4", restart: true, now: t0 + 6 });
      assert.deepEqual(
        { first: reused.firstMessageId, steps: reused.steps, state: reused.state, ended: reused.endedAt, identity: reused.identity },
        { first: "m4", steps: 0, state: {}, ended: null, identity: "+254711" },
      );
      await store.purgeDedupe({ olderThan: t0 + DAY });
      assert.equal(
        (await store.openSession({ backend: "at", key: "ATUid_1", identity: "+254700", messageId: "m5", now: t0 + DAY + 1 })).firstMessageId,
        "m5",
        "purged with the dedupe window",
      );
    }));

  test(`${name}: the parts of a long inbound message are held durably, once each, and answered whole in order once all are in`, () =>
    withStore(async (store) => {
      const t0 = 1_000_000_000_000;
      const hold = (key: string, number: number, total: number, now = t0, backend = "vonage") =>
        store.holdInboundPart({
          backend,
          key,
          part: { number, total, text: `part ${number} ñ`, fields: { messageId: `m${number}` }, externalId: `m${number}` },
          now,
        });
      assert.deepEqual(await hold("k1", 2, 3), { duplicate: false, complete: undefined });
      assert.deepEqual(await hold("k1", 2, 3), { duplicate: true, complete: undefined });
      assert.equal((await hold("k1", 1, 3, t0, "other")).complete, undefined, "keys are per backend");
      assert.equal((await hold("k1", 1, 3)).complete, undefined);
      const whole = await hold("k1", 3, 3, t0 + 5);
      assert.deepEqual(
        whole.complete?.map((p) => [p.number, p.text, p.fields.messageId]),
        [
          [1, "part 1 ñ", "m1"],
          [2, "part 2 ñ", "m2"],
          [3, "part 3 ñ", "m3"],
        ],
      );
      assert.equal((await hold("k1", 3, 3, t0 + 6)).complete?.length, 3, "a part sent again before the message was released answers it whole again");
      await hold("k2", 1, 2, t0 + 10);
      assert.deepEqual(
        (await store.expiredInboundParts({ backend: "vonage", olderThan: t0 + 1, limit: 10 })).map((g) => g.key),
        ["k1"],
        "k1 began before the cut, k2 after it",
      );
      await store.releaseInboundParts({ backend: "vonage", key: "k1", parts: whole.complete! });
      assert.deepEqual(
        (await store.expiredInboundParts({ backend: "vonage", olderThan: t0 + 1, limit: 10 })).map((g) => g.key),
        [],
        "a released message is not expired",
      );
      assert.deepEqual(await hold("k1", 2, 3, t0 + 20), { duplicate: true, complete: undefined }, "a part of a received message sent again");
      const reused = await store.holdInboundPart({ backend: "vonage", key: "k1", part: { number: 1, total: 2, text: "new", externalId: "n1" }, now: t0 + 21 });
      assert.deepEqual([reused.duplicate, reused.complete, reused.displaced], [false, undefined, undefined], "a new message under the key of one received");
      const displacing = await store.holdInboundPart({
        backend: "vonage",
        key: "k1",
        part: { number: 1, total: 2, text: "newer", externalId: "x1" },
        now: t0 + 22,
      });
      assert.deepEqual(
        displacing.displaced?.parts.map((p) => [p.number, p.text, p.externalId]),
        [[1, "new", "n1"]],
        "another message under the key of an incomplete one displaces it",
      );
      assert.notEqual(displacing.displaced?.key, "k1", "set aside under a key of its own, not deleted");
      assert.deepEqual(
        (await store.expiredInboundParts({ backend: "vonage", olderThan: t0 + 100, limit: 10 })).map((g) => g.key),
        ["k2", displacing.displaced?.key, "k1"],
        "oldest first; the one set aside is swept if whoever displaced it could not receive it",
      );
      await store.releaseInboundParts({ backend: "vonage", key: displacing.displaced!.key, parts: displacing.displaced!.parts });
      assert.deepEqual(
        (await store.expiredInboundParts({ backend: "vonage", olderThan: t0 + 100, limit: 10 })).map((g) => [
          g.key,
          g.parts.map((p) => [p.number, p.text, p.receivedAt]),
        ]),
        [
          ["k2", [[1, "part 1 ñ", t0 + 10]]],
          ["k1", [[1, "newer", t0 + 22]]],
        ],
      );
      await store.purgeDedupe({ olderThan: t0 + 100 });
      assert.deepEqual(await store.expiredInboundParts({ backend: "vonage", olderThan: t0 + DAY, limit: 10 }), []);
      assert.deepEqual((await store.expiredInboundParts({ backend: "other", olderThan: t0 + DAY, limit: 10 })).length, 0, "purged on every backend");
    }));

  test(`${name}: parts without gateway ids (SMPP's) are the same part again only with the same text: a reused reference begins a new message`, () =>
    withStore(async (store) => {
      const hold = (number: number, text: string, now: number) =>
        store.holdInboundPart({ backend: "smpp", key: "255700000001\n15555\n66\n2", part: { number, total: 2, text }, now });
      assert.equal((await hold(1, "Report A: ", 1)).duplicate, false);
      const a = await hold(2, "3 cases", 2);
      assert.deepEqual(
        a.complete?.map((p) => p.text),
        ["Report A: ", "3 cases"],
      );
      await store.releaseInboundParts({ backend: "smpp", key: "255700000001\n15555\n66\n2", parts: a.complete! });
      assert.equal((await hold(2, "3 cases", 3)).duplicate, true, "the same part sent again (a lost deliver_sm_resp)");
      const b = await hold(1, "Report B: ", 4);
      assert.deepEqual([b.duplicate, b.complete], [false, undefined], "a new message under the same reference, not a duplicate");
      const displacing = await hold(1, "Report C: ", 5);
      assert.deepEqual(
        displacing.displaced?.parts.map((p) => p.text),
        ["Report B: "],
        "another first part under an incomplete message's key hands that one back",
      );
      assert.deepEqual(
        (await hold(2, "none", 6)).complete?.map((p) => p.text),
        ["Report C: ", "none"],
      );
    }));

  test(`${name}: an accepted message is stored as Q with its fields`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
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
      const [onKannel] = await connect(store, "kannel", ["111"]);
      const [onVumi] = await connect(store, "vumi", ["111"]);
      const t0 = 1_000_000_000_000;
      await accept(store, "first", onKannel, { externalId: "gw-1" }, t0);
      assert.deepEqual(await accept(store, "again", onKannel, { externalId: "gw-1" }, t0 + DAY - 1), { id: "first", duplicate: true });
      assert.equal(await store.getMessage("again"), undefined);
      assert.deepEqual(await accept(store, "other-backend", onVumi, { externalId: "gw-1" }, t0 + 1), { id: "other-backend", duplicate: false });
      assert.deepEqual(await accept(store, "no-id", onKannel, {}, t0 + 2), { id: "no-id", duplicate: false });
      assert.deepEqual(await accept(store, "later", onKannel, { externalId: "gw-1" }, t0 + DAY + 1), { id: "later", duplicate: false });
      assert.deepEqual(await accept(store, "later-again", onKannel, { externalId: "gw-1" }, t0 + DAY + 2), { id: "later", duplicate: true });
      assert.equal(await store.purgeDedupe({ olderThan: t0 + DAY }), 1);
    }));

  test(`${name}: claimIncoming leases the oldest unprocessed messages once, and again when the lease ran out`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await accept(store, "a", connection);
      await accept(store, "b", connection);
      const now = Date.now();
      const first = await claimIn(store, claim(now), now, 1);
      assert.deepEqual(
        first.map((m) => [m.id, m.text, m.connection.identity, m.connection.backend, m.attempt]),
        [["a", "text of a", "111", "kannel", 1]],
      );
      assert.deepEqual(
        (await claimIn(store, claim(now), now)).map((m) => m.id),
        ["b"],
      );
      assert.deepEqual(await claimIn(store, claim(now + 500), now + 500), []);
      assert.deepEqual(
        (await claimIn(store, claim(now + 1_001), now + 1_001)).map((m) => [m.id, m.attempt]),
        [
          ["a", 2],
          ["b", 2],
        ],
      );
    }));

  test(`${name}: a message accepted already claimed is left to its claimer until the lease runs out`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      const now = Date.now();
      await store.acceptIncoming({ message: { id: "mine", text: "hi", fields: {}, connection }, dedupeWindowMs: 0, claim: claim(now) });
      assert.deepEqual(await claimIn(store, claim(now + 500), now + 500), []);
      assert.deepEqual(
        (await claimIn(store, claim(now + 1_001), now + 1_001)).map((m) => [m.id, m.attempt]),
        [["mine", 2]],
      );
    }));

  test(`${name}: renewClaims keeps only the leases it names; releaseClaims gives their work back at once`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await accept(store, "a", connection);
      await accept(store, "b", connection);
      await store.enqueueOutgoing({ message: outgoing("o", [connection]) });
      const now = Date.now();
      const running = claim(now);
      const finished = claim(now);
      await claimIn(store, running, now, 1);
      await claimIn(store, finished, now, 1);
      await claimOut(store, running, now);
      await store.renewClaims({ tokens: [running.token], until: now + 2_000 });
      assert.deepEqual(
        (await claimIn(store, claim(now + 1_500), now + 1_500)).map((m) => m.id),
        ["b"],
        "only the renewed claim holds past its first lease",
      );
      assert.deepEqual(await claimOut(store, claim(now + 1_500), now + 1_500), []);
      await store.releaseClaims({ tokens: [running.token] });
      const [again] = await claimIn(store, claim(now + 1_500), now + 1_500);
      assert.deepEqual([again.id, again.attempt], ["a", 1], "a released claim does not count as an attempt");
      const [resent] = await claimOut(store, claim(now + 1_500), now + 1_500);
      assert.equal(resent.attempt, 1);
    }));

  test(`${name}: completeIncoming marks R and queues the replies in one step, once, and only for the claim that holds the message`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await accept(store, "in", connection);
      const now = Date.now();
      const [stale] = await claimIn(store, claim(now, 10), now);
      const [current] = await claimIn(store, claim(now + 20), now + 20);
      const reply = outgoing("reply", [connection], { inResponseTo: "in", context: { inResponseTo: "in" }, priority: 1 });
      assert.deepEqual(await store.completeIncoming({ id: "in", token: stale.token, replies: [{ ...reply, id: "late" }] }), { applied: false, claimed: [] });
      assert.equal((await store.getMessage("in"))?.status, "Q", "the stale worker's completion is fenced out");
      assert.deepEqual(await store.completeIncoming({ id: "in", token: current.token, replies: [reply] }), { applied: true, claimed: [] });
      assert.deepEqual((await store.completeIncoming({ id: "in", token: current.token, replies: [{ ...reply, id: "reply-2" }] })).applied, false);
      assert.equal((await store.getMessage("in"))?.status, "R");
      assert.deepEqual(
        (await store.listMessages({ inResponseTo: "in" })).map((m) => [m.id, m.status, m.transmissions[0].status]),
        [["reply", "P", "Q"]],
      );
      assert.deepEqual(await claimIn(store, claim(now + 5_000), now + 5_000), []);
    }));

  test(`${name}: completeIncoming with claimReplies stores the replies' transmissions claimed and returns them`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "kannel", ["111", "222"]);
      await accept(store, "in", connections[0]);
      const now = Date.now();
      const [held] = await claimIn(store, claim(now), now);
      const reply = outgoing("reply", connections, { inResponseTo: "in", context: { inResponseTo: "in" }, priority: 1 });
      const replies = claim(now);
      const { claimed } = await store.completeIncoming({ id: "in", token: held.token, replies: [reply], claimReplies: replies });
      assert.deepEqual(
        claimed.map(({ messageId, text, context, backend, identity, attempt, token }) => ({ messageId, text, context, backend, identity, attempt, token })),
        ["111", "222"].map((identity) => ({
          messageId: "reply",
          text: reply.text,
          context: { inResponseTo: "in" },
          backend: "kannel",
          identity,
          attempt: 1,
          token: replies.token,
        })),
      );
      const [stored] = await store.listMessages({ inResponseTo: "in" });
      assert.deepEqual(stored.transmissions.map((t) => [t.id, t.status, t.attempts]).sort(), claimed.map((t) => [t.id, "P", 1]).sort());
      assert.deepEqual(await claimOut(store, claim(now + 500), now + 500), [], "claimed until its lease runs out");
      const again = await claimOut(store, claim(now + 1_001), now + 1_001);
      assert.deepEqual(again.map((t) => [t.id, t.attempt]).sort(), claimed.map((t) => [t.id, 2]).sort());
      const recorded = await store.recordAttempts({ outcomes: again.map((t) => sent(t, { messageId: t.messageId })) });
      assert.deepEqual([...recorded.statuses], [["reply", "S"]]);
      assert.deepEqual(recorded.fenced, []);
      assert.equal((await store.getMessage("reply"))?.status, "S");
    }));

  test(`${name}: a failed processing goes back to the queue after its backoff, then ends E at the last attempt`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await accept(store, "in", connection);
      const now = Date.now();
      const [first] = await claimIn(store, claim(now), now);
      assert.equal(await store.failIncoming({ id: "in", token: "someone-else", error: "x", nextAttemptAt: now }), false, "fenced");
      assert.equal(await store.failIncoming({ id: "in", token: first.token, error: "the app failed", nextAttemptAt: now + 5_000 }), true);
      const waiting = await store.getMessage("in");
      assert.deepEqual([waiting?.status, waiting?.error], ["Q", "the app failed"]);
      assert.deepEqual(await store.pendingWork({ now }), { inbound: 0, outbound: 0, nextRetryAt: now + 5_000 });
      assert.deepEqual(await claimIn(store, claim(now + 4_999), now + 4_999), []);
      const [second] = await claimIn(store, claim(now + 5_000), now + 5_000);
      assert.equal(second.attempt, 2);
      assert.equal(await store.failIncoming({ id: "in", token: second.token, error: "the app failed again", nextAttemptAt: null }), true);
      const failed = await store.getMessage("in");
      assert.deepEqual([failed?.status, failed?.error, failed?.transmissions[0].status], ["E", "the app failed again", "E"]);
    }));

  test(`${name}: a message claimed maxAttempts times (its workers died with it) is not handed out again: it ends E`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await accept(store, "poison", connection);
      let now = Date.now();
      for (let attempt = 1; attempt <= 5; attempt++) {
        assert.equal((await claimIn(store, claim(now, 10), now)).length, 1, `attempt ${attempt}`);
        now += 20;
      }
      assert.deepEqual(await claimIn(store, claim(now), now), []);
      const record = await store.getMessage("poison");
      assert.equal(record?.status, "E");
      assert.match(record?.error ?? "", /^processing failed 5 times/);
    }));

  test(`${name}: claimTransmissions leases due outbound transmissions by priority, never inbound ones`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "kannel", ["111", "222"]);
      await accept(store, "inbound", connections[0]);
      await store.enqueueOutgoing({ message: outgoing("bulk", connections, { context: { campaign: "x" } }) });
      await store.enqueueOutgoing({ message: outgoing("reply", [connections[1]], { priority: 1 }) });
      assert.equal((await store.getMessage("bulk"))?.status, "P");
      const now = Date.now();
      const held = claim(now);
      const claimed = await claimOut(store, held, now);
      assert.deepEqual(
        claimed.map((t) => [t.messageId, t.identity, t.backend, t.attempt, t.token]),
        [
          ["reply", "222", "kannel", 1, held.token],
          ["bulk", "111", "kannel", 1, held.token],
          ["bulk", "222", "kannel", 1, held.token],
        ],
      );
      assert.deepEqual(claimed[1].context, { campaign: "x" });
      assert.equal(claimed[1].text, "text of bulk");
      assert.deepEqual(await claimOut(store, claim(now), now), []);
      const reclaimed = await claimOut(store, claim(now + 1_001), now + 1_001);
      assert.deepEqual(
        reclaimed.map((t) => t.attempt),
        [2, 2, 2],
      );
    }));

  test(`${name}: recordAttempts sets S, schedules a retry (Q) or gives up (E), logs each attempt and derives the message status`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "kannel", ["111", "222", "333"]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const now = Date.now();
      const [a, b, c] = await claimOut(store, claim(now), now);
      const { statuses } = await store.recordAttempts({
        outcomes: [
          sent(a, { answer: "0: Accepted", externalId: "gw-a", durationMs: 12 }),
          sent(b, { status: "Q", nextAttemptAt: now + 5_000, error: "503", durationMs: 10 }),
          sent(c, { status: "E", error: "400 bad number", durationMs: 9 }),
        ],
      });
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
      assert.deepEqual(await claimOut(store, claim(now + 4_999), now + 4_999), []);
      const [retry] = await claimOut(store, claim(now + 5_000), now + 5_000);
      assert.deepEqual([retry.identity, retry.attempt], ["222", 2]);
      await store.recordAttempts({ outcomes: [sent(retry, { durationMs: 8 })] });
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

  test(`${name}: a stale sender's outcome is fenced out: the worker that holds the claim now decides`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await store.enqueueOutgoing({ message: outgoing("m", [connection]) });
      const now = Date.now();
      const [stale] = await claimOut(store, claim(now, 10), now);
      const [current] = await claimOut(store, claim(now + 20), now + 20);
      assert.deepEqual((await store.recordAttempts({ outcomes: [sent(current)] })).fenced, []);
      const late = await store.recordAttempts({ outcomes: [sent(stale, { status: "E", error: "timed out" })] });
      assert.deepEqual(late.fenced, [stale.id]);
      const detail = await store.getTransmission(stale.id);
      assert.equal(detail?.status, "S");
      assert.deepEqual(
        detail?.attemptLog.map((l) => [l.attempt, l.outcome]),
        [[2, "S"]],
        "nothing of the stale outcome was written",
      );
    }));

  test(`${name}: a message whose transmissions are all sent is S, with its sent time`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "kannel", ["111", "222"]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const claimed = await claimOut(store, claim());
      const { statuses } = await store.recordAttempts({ outcomes: claimed.map((t) => sent(t)) });
      assert.equal(statuses.get("m"), "S");
      const record = await store.getMessage("m");
      assert.equal(record?.status, "S");
      assert.ok(record?.sentAt);
    }));

  test(`${name}: delivery reports find transmissions by id, by message and identity, or by gateway id, on their own backend only`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "kannel", ["111", "222"]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const [a, b] = await claimOut(store, claim());
      await store.recordAttempts({ outcomes: [sent(a, { externalId: "gw-a" }), sent(b)] });
      const report = (ref: Parameters<Store["reportDelivery"]>[0]["ref"], status: "S" | "D" | "E", detail?: string) =>
        store.reportDelivery({ ref, report: { status, detail } });
      assert.deepEqual(await report({ backend: "kannel", externalId: "gw-a" }, "S", "buffered"), { transmissionIds: [a.id], changes: [] });
      assert.equal((await store.getMessage("m"))?.status, "S", "an interim report changes nothing");
      assert.deepEqual(await report({ transmissionId: a.id }, "D"), {
        transmissionIds: [a.id],
        changes: [{ transmissionId: a.id, messageId: "m", identity: "111", status: "D", error: null }],
      });
      assert.equal((await store.getMessage("m"))?.status, "S");
      assert.deepEqual(await report({ transmissionId: a.id }, "D"), { transmissionIds: [a.id], changes: [] }, "a report recorded before moves nothing");
      assert.deepEqual(await report({ backend: "kannel", messageId: "m", identity: "222" }, "D", "delivered"), {
        transmissionIds: [b.id],
        changes: [{ transmissionId: b.id, messageId: "m", identity: "222", status: "D", error: null }],
      });
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
      assert.deepEqual((await report({ backend: "vumi", externalId: "gw-a" }, "E")).transmissionIds, []);
      assert.deepEqual(
        (await report({ backend: "vumi", messageId: "m", identity: "111" }, "E")).transmissionIds,
        [],
        "another backend's report does not touch it",
      );
      assert.match((await report({ backend: "kannel", messageId: "nope", identity: "111" }, "D")).unmatched ?? "", /no message nope/);
    }));

  test(`${name}: a report naming a gateway id that several recipients share lands on all of them`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "junebug", ["111", "222"]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const claimed = await claimOut(store, claim());
      await store.recordAttempts({ outcomes: claimed.map((t) => sent(t, { externalId: "one-id" })) });
      const result = await store.reportDelivery({ ref: { backend: "junebug", externalId: "one-id" }, report: { status: "E", detail: "failed" } });
      assert.deepEqual(result.transmissionIds.sort(), claimed.map((t) => t.id).sort());
      assert.deepEqual(
        (await store.getMessage("m"))?.transmissions.map((t) => t.status),
        ["E", "E"],
      );
    }));

  test(`${name}: a report by gateway id or message id falls back to our id only when the message went to one recipient there`, () =>
    withStore(async (store) => {
      const one = await connect(store, "vumi", ["111"]);
      const two = await connect(store, "vumi", ["222", "333"]);
      await store.enqueueOutgoing({ message: outgoing("single", one) });
      await store.enqueueOutgoing({ message: outgoing("pair", two) });
      const claimed = await claimOut(store, claim());
      await store.recordAttempts({ outcomes: claimed.map((t) => sent(t)) });
      const report = (id: string) => store.reportDelivery({ ref: { backend: "vumi", externalIdOrMessageId: id }, report: { status: "D" } });
      assert.equal((await report("single")).transmissionIds.length, 1);
      assert.match((await report("pair")).unmatched ?? "", /went to 2 recipients/);
      assert.deepEqual(await report("unknown"), { transmissionIds: [], kept: true }, "most likely a gateway id whose send's answer is not recorded yet");
    }));

  test(`${name}: a report that overtakes the send's answer is kept, and applied when the answer brings its gateway id`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "vumi", ["111"]);
      await store.enqueueOutgoing({ message: outgoing("m", [connection]) });
      const [t] = await claimOut(store, claim());
      const early = { ref: { backend: "vumi", externalId: "vumi-7" }, report: { status: "D" as const, detail: "delivered" } };
      assert.deepEqual(await store.reportDelivery(early), { transmissionIds: [], kept: true });
      assert.deepEqual(await store.reportDelivery(early), { transmissionIds: [], kept: true }, "kept once");
      assert.deepEqual(await store.reportDelivery({ ref: { backend: "other", externalId: "vumi-7" }, report: { status: "E" } }), {
        transmissionIds: [],
        kept: true,
      });
      const { statuses, keptReports } = await store.recordAttempts({ outcomes: [sent(t, { messageId: "m", externalId: "vumi-7", segments: 1 })] });
      assert.equal(statuses.get("m"), "D");
      assert.deepEqual(
        keptReports.map((c) => [c.transmissionId, c.messageId, c.status, c.error]),
        [[t.id, "m", "D", null]],
        "the answer says the report it had overtaken delivered it",
      );
      const detail = await store.getTransmission(t.id);
      assert.deepEqual([detail?.status, detail?.externalId, !!detail?.sentAt, !!detail?.deliveredAt], ["D", "vumi-7", true, true]);
      assert.deepEqual(
        detail?.deliveryReports.map((r) => [r.status, r.detail]),
        [["D", "delivered"]],
        "the other backend's report for the same id stays with its backend",
      );
      assert.deepEqual((await store.reportDelivery(early)).transmissionIds, [t.id], "known now; recorded once all the same");
      assert.equal((await store.getTransmission(t.id))?.deliveryReports.length, 1);
    }));

  test(`${name}: a message sent in parts is D once every part's receipt says delivered (or the last part's does), E as soon as one failed; a part's receipt that overtook the answer counts`, () =>
    withStore(async (store) => {
      const [a, b] = await connect(store, "vonage", ["111", "222"]);
      await store.enqueueOutgoing({ message: outgoing("long", [a, b]) });
      const [ta, tb] = await claimOut(store, claim());
      const report = (externalId: string, status: "S" | "D" | "E", detail: string = status) =>
        store.reportDelivery({ ref: { backend: "vonage", externalId }, report: { status, detail } });
      assert.deepEqual(await report("a-2", "D"), { transmissionIds: [], kept: true }, "a part's receipt before the answer");
      await store.recordAttempts({
        outcomes: [
          sent(ta, { messageId: "long", externalId: "a-1", partIds: ["a-1", "a-2", "a-3"], segments: 3 }),
          sent(tb, { messageId: "long", externalId: "b-1", partIds: ["b-1", "b-2"], segments: 2 }),
        ],
      });
      assert.equal((await store.getTransmission(ta.id))?.status, "S", "1 of 3 parts delivered");
      assert.deepEqual((await report("a-1", "D")).transmissionIds, [ta.id]);
      assert.equal((await store.getTransmission(ta.id))?.status, "S", "2 of 3: the first part's id is a part's, not the whole's");
      await report("a-3", "S", "buffered");
      await report("a-3", "D");
      assert.equal((await store.getTransmission(ta.id))?.status, "D");
      assert.deepEqual(
        (await store.getTransmission(ta.id))?.deliveryReports.map((r) => [r.status, r.detail]),
        [
          ["D", "part 2 of 3: D"],
          ["D", "part 1 of 3: D"],
          ["S", "part 3 of 3: buffered"],
          ["D", "part 3 of 3: D"],
        ],
        "each receipt as the gateway gave it",
      );
      await report("a-1", "D");
      await report("a-3", "S", "late");
      assert.deepEqual(
        (await store.getTransmission(ta.id))?.deliveryReports.slice(4).map((r) => [r.status, r.detail]),
        [["S", "part 3 of 3: late"]],
        "the same receipt again is recorded once; a late S is recorded as it came, and changes nothing",
      );
      assert.equal((await store.getTransmission(ta.id))?.status, "D");
      await report("b-2", "E", "expired");
      assert.equal((await store.getTransmission(tb.id))?.status, "E", "one failed part fails the message");
      assert.match((await store.getTransmission(tb.id))?.error ?? "", /part 2 of 2: expired/);
      await report("b-1", "D");
      assert.equal((await store.getTransmission(tb.id))?.status, "E", "and it stays failed");
      assert.equal((await store.getMessage("long"))?.status, "E");
    }));

  test(`${name}: a message in parts whose gateway sends only the last part's receipt is D with it, and E if a part fails after all`, () =>
    withStore(async (store) => {
      const [a] = await connect(store, "smpp", ["111"]);
      await store.enqueueOutgoing({ message: outgoing("last-only", [a]) });
      const [ta] = await claimOut(store, claim());
      await store.recordAttempts({ outcomes: [sent(ta, { messageId: "last-only", externalId: "p-1", partIds: ["p-1", "p-2", "p-3"], segments: 3 })] });
      const report = (externalId: string, status: "D" | "E") =>
        store.reportDelivery({ ref: { backend: "smpp", externalId }, report: { status, detail: status } });
      await report("p-3", "D");
      assert.equal((await store.getTransmission(ta.id))?.status, "D");
      await report("p-1", "E");
      assert.equal((await store.getTransmission(ta.id))?.status, "E");
      assert.match((await store.getTransmission(ta.id))?.error ?? "", /part 1 of 3: E/);
    }));

  test(`${name}: receipts for every part of a message at once make it D (none sees the others missing)`, () =>
    withStore(async (store) => {
      const connections = await connect(
        store,
        "vonage",
        Array.from({ length: 10 }, (_, i) => `30${i}`),
      );
      await store.enqueueOutgoing({ message: outgoing("many", connections) });
      const claimed = await claimOut(store, claim());
      await store.recordAttempts({
        outcomes: claimed.map((t, i) => sent(t, { messageId: "many", externalId: `m${i}-1`, partIds: [`m${i}-1`, `m${i}-2`, `m${i}-3`], segments: 3 })),
      });
      await Promise.all(
        claimed.flatMap((_, i) =>
          [1, 2, 3].map((n) => store.reportDelivery({ ref: { backend: "vonage", externalId: `m${i}-${n}` }, report: { status: "D" } })),
        ),
      );
      const statuses = await Promise.all(claimed.map(async (t) => (await store.getTransmission(t.id))?.status));
      assert.deepEqual(
        statuses,
        claimed.map(() => "D"),
      );
    }));

  test(`${name}: a kept report for a gateway id that the answer gives several recipients lands on all of them`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "junebug", ["111", "222"]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const claimed = await claimOut(store, claim());
      const early = { ref: { backend: "junebug", externalId: "one-id" }, report: { status: "E" as const, detail: "delivery_failed" } };
      assert.deepEqual(await store.reportDelivery(early), { transmissionIds: [], kept: true });
      await store.recordAttempts({ outcomes: claimed.map((t) => sent(t, { messageId: "m", externalId: "one-id" })) });
      assert.deepEqual(
        (await store.getMessage("m"))?.transmissions.map((t) => [t.status, t.error]),
        [
          ["E", "delivery_failed"],
          ["E", "delivery_failed"],
        ],
      );
    }));

  test(`${name}: reports racing the answers that bring their gateway ids are never lost, whichever commits first`, () =>
    withStore(async (store) => {
      const count = 200;
      const connections = await connect(
        store,
        "vumi",
        Array.from({ length: count }, (_, i) => String(5_000 + i)),
      );
      for (const [i, connection] of connections.entries()) await store.enqueueOutgoing({ message: outgoing(`race-${i}`, [connection]) });
      const claimed = await claimOut(store, claim(), undefined, count);
      assert.equal(claimed.length, count);
      // Each report and its answer at the same moment, on as many connections as the store has.
      await Promise.all(
        claimed.flatMap((t) => [
          store.reportDelivery({ ref: { backend: "vumi", externalId: `gw-${t.id}` }, report: { status: "D", detail: "delivered" } }),
          store.recordAttempts({ outcomes: [sent(t, { messageId: t.messageId, externalId: `gw-${t.id}` })] }),
        ]),
      );
      const statuses = await Promise.all(claimed.map(async (t) => (await store.getTransmission(t.id))?.status));
      assert.deepEqual(
        statuses.filter((status) => status !== "D"),
        [],
        "every transmission ends D",
      );
    }));

  test(`${name}: a transmission whose claims keep running out ends E after maxAttempts, not claimed for ever`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await store.enqueueOutgoing({ message: outgoing("m", [connection]) });
      let now = Date.now();
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [t] = await claimOut(store, claim(now, 1_000), now, 10, 3);
        assert.equal(t?.attempt, attempt, "its worker dies holding it");
        now += 2_000;
      }
      assert.deepEqual(await claimOut(store, claim(now, 1_000), now, 10, 3), []);
      const [transmission] = (await store.getMessage("m"))!.transmissions;
      assert.equal(transmission.status, "E");
      assert.match(transmission.error ?? "", /gave up after 3 attempts: the last claim ran out/);
      assert.equal((await store.getMessage("m"))?.status, "E");
    }));

  test(`${name}: whatever a gateway answers is recorded: NULs mended, an id no store can match dropped, long notes cut`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "vumi", ["111", "222"]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const [a, b] = await claimOut(store, claim());
      await store.recordAttempts({
        outcomes: [
          sent(a, { messageId: "m", answer: "ok\u0000 \ud800", externalId: "id\u0000" }),
          sent(b, { messageId: "m", answer: "x".repeat(100_000), externalId: "y".repeat(3_000) }),
        ],
      });
      const [first, second] = await Promise.all([store.getTransmission(a.id), store.getTransmission(b.id)]);
      assert.deepEqual([first?.status, first?.externalId, first?.attemptLog[0].answer], ["S", null, "ok\ufffd \ufffd"]);
      assert.deepEqual([second?.status, second?.externalId, second?.attemptLog[0].answer?.length], ["S", null, 2_000]);
      const reported = await store.reportDelivery({ ref: { transmissionId: a.id }, report: { status: "E", detail: `bad\u0000${"z".repeat(5_000)}` } });
      assert.deepEqual(reported.transmissionIds, [a.id]);
      assert.match((await store.getTransmission(a.id))?.error ?? "", /^bad\ufffdz+…$/);
    }));

  test(`${name}: a message's status is right when the sends of its recipients are recorded at the same moment`, () =>
    withStore(async (store) => {
      const connections = await connect(
        store,
        "kannel",
        Array.from({ length: 40 }, (_, i) => String(6_000 + i)),
      );
      await store.enqueueOutgoing({ message: outgoing("many", connections) });
      const claimed = await claimOut(store, claim(), undefined, 40);
      // One transaction per recipient, all at once: none may decide the message's status without seeing the others.
      await Promise.all(claimed.map((t) => store.recordAttempts({ outcomes: [sent(t, { messageId: "many" })] })));
      assert.equal((await store.getMessage("many"))?.status, "S");
    }));

  test(`${name}: the same report twice is recorded once`, () =>
    withStore(async (store) => {
      const [connection] = await connect(store, "kannel", ["111"]);
      await store.enqueueOutgoing({ message: outgoing("m", [connection]) });
      const [t] = await claimOut(store, claim());
      await store.recordAttempts({ outcomes: [sent(t)] });
      for (const report of [
        { status: "S" as const, detail: "8 SMSC submit" },
        { status: "S" as const, detail: "8 SMSC submit" },
        { status: "D" as const, detail: "1 delivered" },
        { status: "D" as const, detail: "1 delivered" },
      ]) {
        await store.reportDelivery({ ref: { backend: "kannel", messageId: "m", identity: "111" }, report });
      }
      assert.deepEqual(
        (await store.getTransmission(t.id))?.deliveryReports.map((r) => r.detail),
        ["8 SMSC submit", "1 delivered"],
      );
    }));

  test(`${name}: a failure report marks the transmission and the message E; a report that overtakes the send answer stands, and the answer is still recorded`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "kannel", ["111", "222"]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const [a, b] = await claimOut(store, claim());
      await store.reportDelivery({ ref: { transmissionId: a.id }, report: { status: "D" } });
      const recorded = await store.recordAttempts({ outcomes: [sent(a, { externalId: "gw-a", segments: 2 }), sent(b)] });
      assert.deepEqual(recorded.fenced, []);
      const overtaken = await store.getTransmission(a.id);
      assert.deepEqual([overtaken?.status, overtaken?.externalId, overtaken?.segments, !!overtaken?.sentAt], ["D", "gw-a", 2, true]);
      assert.deepEqual(
        overtaken?.attemptLog.map((l) => l.outcome),
        ["S"],
      );
      await store.reportDelivery({ ref: { transmissionId: b.id }, report: { status: "E", detail: "SMSC reject" } });
      const record = await store.getMessage("m");
      assert.equal(record?.status, "E");
      assert.equal(record?.transmissions[1].error, "SMSC reject");
    }));

  test(`${name}: pendingWork counts unprocessed inbound, due outbound and the next retry`, () =>
    withStore(async (store) => {
      const connections = await connect(store, "kannel", ["111", "222"]);
      assert.deepEqual(await store.pendingWork(), { inbound: 0, outbound: 0, nextRetryAt: null });
      await accept(store, "in", connections[0]);
      await store.enqueueOutgoing({ message: outgoing("m", connections) });
      const now = Date.now();
      assert.deepEqual(await store.pendingWork({ now }), { inbound: 1, outbound: 2, nextRetryAt: null });
      const [a] = await claimOut(store, claim(now), now, 1);
      await store.recordAttempts({ outcomes: [sent(a, { status: "Q", nextAttemptAt: now + 60_000 })] });
      assert.deepEqual(await store.pendingWork({ now }), { inbound: 1, outbound: 1, nextRetryAt: now + 60_000 });
    }));

  test(`${name}: 10,000 recipients fit in one send: bulk writes are cut within the database's parameter limit`, { timeout: 120_000 }, () =>
    withStore(async (store) => {
      const identities = Array.from({ length: 10_000 }, (_, i) => `2557${String(i).padStart(8, "0")}`);
      const connections = await connect(store, "kannel", identities);
      assert.equal(new Set(connections.map((c) => c.id)).size, 10_000);
      await store.enqueueOutgoing({ message: outgoing("bulk", connections) });
      const claimed = await claimOut(store, claim(), undefined, 10_000);
      assert.equal(claimed.length, 10_000);
      const { statuses } = await store.recordAttempts({ outcomes: claimed.map((t) => sent(t)) });
      assert.equal(statuses.get("bulk"), "S");
      await accept(store, "in", connections[0]);
      const [held] = await claimIn(store, claim());
      const reply = outgoing("reply-to-all", connections, { inResponseTo: "in" });
      assert.equal((await store.completeIncoming({ id: "in", token: held.token, replies: [reply] })).applied, true);
      assert.equal((await store.getMessage("reply-to-all"))?.transmissions.length, 10_000);
    }),
  );
}
