import assert from "node:assert/strict";
import { test } from "node:test";
import type { Store } from "./store.ts";

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
      assert.deepEqual(first.map((c) => c.identity), ["222", "111", "222"]);
      assert.equal(first[0].id, first[2].id);
      const again = await store.lookupConnections("kannel", ["111", "333"]);
      assert.equal(again[0].id, first[1].id);
      assert.deepEqual(again.map((c) => c.backend), ["kannel", "kannel"]);
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

  test(`${name}: an incoming message is stored as Q with its fields and finished as R or E`, () =>
    withStore(async (store) => {
      const [connection] = await store.lookupConnections("kannel", ["111"]);
      await store.saveIncoming({ id: "in1", text: "hello", fields: { externalId: "gw-1", to: "555" }, connection });
      await store.saveIncoming({ id: "in2", text: "bad", fields: {}, connection });
      const stored = await store.getMessage("in1");
      assert.equal(stored?.status, "Q");
      assert.equal(stored?.direction, "I");
      assert.equal(stored?.externalId, "gw-1");
      assert.deepEqual(stored?.fields, { externalId: "gw-1", to: "555" });
      await store.finishIncoming("in1", "R");
      await store.finishIncoming("in2", "E", "app failed");
      assert.equal((await store.getMessage("in1"))?.status, "R");
      const failed = await store.getMessage("in2");
      assert.equal(failed?.status, "E");
      assert.equal(failed?.error, "app failed");
      assert.equal(failed?.transmissions[0].status, "E");
    }));

  test(`${name}: an outgoing message gets one P transmission per connection; updates re-derive its status`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections("kannel", ["111", "222"]);
      const transmissions = await store.saveOutgoing({ id: "out1", text: "hi", fields: {}, inResponseTo: null, connections });
      assert.deepEqual(transmissions.map((t) => [t.backend, t.identity, t.status]), [["kannel", "111", "P"], ["kannel", "222", "P"]]);
      assert.equal((await store.getMessage("out1"))?.status, "P");
      assert.equal(await store.updateTransmissions("out1", [{ ids: [transmissions[0].id], status: "S" }]), "P");
      assert.equal(await store.updateTransmissions("out1", [{ ids: [transmissions[1].id], status: "S" }]), "S");
      const sent = await store.getMessage("out1");
      assert.ok(sent?.sentAt);
      assert.ok(sent?.transmissions.every((t) => t.sentAt));
      assert.equal(await store.updateTransmissions("out1", [{ ids: transmissions.map((t) => t.id), status: "D" }]), "D");
      assert.ok((await store.getMessage("out1"))?.deliveredAt);
      const status = await store.updateTransmissions("out1", [{ ids: [transmissions[0].id], status: "E", error: "rejected" }]);
      assert.equal(status, "E");
      const errored = await store.getMessage("out1");
      assert.equal(errored?.transmissions[0].error, "rejected");
      assert.equal(errored?.error, "rejected");
    }));

  test(`${name}: listMessages filters by direction, status, backend, identity and reply, newest first`, () =>
    withStore(async (store) => {
      const [a] = await store.lookupConnections("kannel", ["111"]);
      const [b] = await store.lookupConnections("vumi", ["222"]);
      await store.saveIncoming({ id: "m1", text: "one", fields: {}, connection: a });
      await store.saveIncoming({ id: "m2", text: "two", fields: {}, connection: b });
      await store.saveOutgoing({ id: "m3", text: "three", fields: {}, inResponseTo: "m1", connections: [a] });
      const ids = async (query: Parameters<Store["listMessages"]>[0]) => (await store.listMessages(query)).map((m) => m.id);
      assert.deepEqual(await ids({}), ["m3", "m2", "m1"]);
      assert.deepEqual(await ids({ direction: "I" }), ["m2", "m1"]);
      assert.deepEqual(await ids({ status: "P" }), ["m3"]);
      assert.deepEqual(await ids({ backend: "kannel" }), ["m3", "m1"]);
      assert.deepEqual(await ids({ identity: "222" }), ["m2"]);
      assert.deepEqual(await ids({ inResponseTo: "m1" }), ["m3"]);
      assert.deepEqual(await ids({ limit: 1 }), ["m3"]);
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
      assert.deepEqual((await store.listBackendMessages({ name: "tester" })).map((m) => m.text), ["c", "b", "a"]);
      assert.deepEqual((await store.listBackendMessages({ name: "tester", identity: "111", direction: "O" })).map((m) => m.text), ["b"]);
      assert.deepEqual((await store.listBackendMessages({ name: "tester", limit: 1, offset: 1 })).map((m) => m.text), ["b"]);
      assert.equal(await store.countBackendMessages({ name: "tester" }), 3);
      assert.equal(await store.clearBackendMessages("tester", "111"), 2);
      assert.equal(await store.countBackendMessages({ name: "tester" }), 1);
      assert.equal(await store.clearBackendMessages("tester"), 1);
      assert.equal(await store.countBackendMessages({ name: "other" }), 1);
    }));
}
