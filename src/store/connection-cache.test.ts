import assert from "node:assert/strict";
import { test } from "node:test";
import { withConnectionCache } from "./connection-cache.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** A store that counts the identities its lookups are asked for. */
async function countingStore(): Promise<{ store: Store; asked: string[] }> {
  const inner = openSqliteStore(":memory:");
  await inner.migrate();
  const asked: string[] = [];
  const store: Store = Object.create(inner);
  store.lookupConnections = (args) => {
    asked.push(...args.identities);
    return inner.lookupConnections(args);
  };
  return { store, asked };
}

test("a connection looked up once is answered from the cache after that, the same as the store's", async () => {
  const { store, asked } = await countingStore();
  const cached = withConnectionCache(store);
  const first = await cached.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
  const again = await cached.lookupConnections({ backend: "kannel", identities: ["222", "111"] });
  assert.deepEqual(again, [first[1], first[0]]);
  assert.deepEqual(asked, ["111", "222"]);
  // Another backend's identity is another connection.
  const [other] = await cached.lookupConnections({ backend: "vumi", identities: ["111"] });
  assert.notEqual(other.id, first[0].id);
  assert.deepEqual(asked, ["111", "222", "111"]);
});

test("linking a connection to a contact shows in the cached connection", async () => {
  const { store } = await countingStore();
  const cached = withConnectionCache(store);
  const [connection] = await cached.lookupConnections({ backend: "kannel", identities: ["111"] });
  const contact = await cached.createContact({ name: "Ana" });
  await cached.setConnectionContact({ connectionId: connection.id, contactId: contact.id });
  assert.equal((await cached.lookupConnections({ backend: "kannel", identities: ["111"] }))[0].contactId, contact.id);
  await cached.setConnectionContact({ connectionId: connection.id, contactId: null });
  assert.equal((await cached.lookupConnections({ backend: "kannel", identities: ["111"] }))[0].contactId, null);
});

test("a contact made or changed with connections shows in the cached connections", async () => {
  const { store } = await countingStore();
  const cached = withConnectionCache(store);
  await cached.lookupConnections({ backend: "kannel", identities: ["111"] });
  const contact = await cached.createContact({ name: "Ana", connections: [{ backend: "kannel", identity: "111" }] });
  assert.equal((await cached.lookupConnections({ backend: "kannel", identities: ["111"] }))[0].contactId, contact.id);
  await cached.updateContact({ id: contact.id, connections: [] });
  assert.equal((await cached.lookupConnections({ backend: "kannel", identities: ["111"] }))[0].contactId, null);
});

test("a lookup under way while a contact takes its connection does not put the old contactId back in the cache", async () => {
  const { store } = await countingStore();
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const slow: Store = Object.create(store);
  // Reads the connection now (no contact yet), answers only once the gate opens.
  slow.lookupConnections = async (args) => {
    const read = await store.lookupConnections(args);
    await gate;
    return read;
  };
  const cached = withConnectionCache(slow);
  const lookup = cached.lookupConnections({ backend: "kannel", identities: ["555"] });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const contact = await cached.createContact({ name: "Ana", connections: [{ backend: "kannel", identity: "555" }] });
  release();
  assert.equal((await lookup)[0].contactId, null, "the lookup read before the contact was made");
  assert.equal((await cached.lookupConnections({ backend: "kannel", identities: ["555"] }))[0].contactId, contact.id);
});

test("the cache holds at most its size: connections in use stay, the others age out", async () => {
  const { store, asked } = await countingStore();
  const cached = withConnectionCache(store, 4);
  await cached.lookupConnections({ backend: "kannel", identities: ["keep"] });
  for (const identity of ["a", "b", "c", "d", "e", "f"]) {
    await cached.lookupConnections({ backend: "kannel", identities: [identity] });
    await cached.lookupConnections({ backend: "kannel", identities: ["keep"] });
  }
  asked.length = 0;
  await cached.lookupConnections({ backend: "kannel", identities: ["keep"] });
  await cached.lookupConnections({ backend: "kannel", identities: ["a"] });
  assert.deepEqual(asked, ["a"]);
});
