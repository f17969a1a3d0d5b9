import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "./connection.ts";
import { describeConnection } from "./connection.ts";
import { ErrorMessage, IncomingMessage, OutgoingMessage } from "./messages.ts";

const connection: Connection = { id: 1, backend: "kannel", identity: "+2557", contactId: null };
const other: Connection = { id: 2, backend: "kannel", identity: "+2558", contactId: null };

test("a message id is a time-ordered uuid7 as 32 lowercase hex characters, unless one is given", () => {
  const ids = Array.from({ length: 1_000 }, () => new IncomingMessage({ connections: [connection], text: "hi" }).id);
  for (const id of ids) assert.match(id, /^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
  assert.deepEqual([...ids].sort(), ids, "each id sorts after the one made before it");
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(new IncomingMessage({ connections: [connection], text: "hi", id: "given" }).id, "given");
});

test("a message keeps its raw text, copies its fields and starts unprocessed and unhandled", () => {
  const fields = { externalId: "e1" };
  const msg = new IncomingMessage({ connections: [connection], text: "hi", fields });
  msg.text = "changed";
  fields.externalId = "mutated";
  assert.equal(msg.rawText, "hi");
  assert.deepEqual(msg.fields, { externalId: "e1" });
  assert.equal(msg.processed, false);
  assert.equal(msg.handled, false);
  assert.equal(msg.connection, connection);
});

test("a message without a text is refused; the empty text is allowed", () => {
  assert.throws(() => new IncomingMessage({ connections: [connection], text: undefined as unknown as string }), TypeError);
  assert.equal(new IncomingMessage({ connections: [connection], text: "" }).text, "");
});

test("respond queues a reply to the sender; options override connections and add fields", () => {
  const msg = new IncomingMessage({ connections: [connection], text: "hi" });
  const first = msg.respond("one");
  const second = msg.respond("two", { connections: [other], fields: { a: 1 } });
  assert.deepEqual(msg.responses, [first, second]);
  assert.deepEqual(first, { text: "one", connections: [connection], inResponseTo: msg, kind: "message" });
  assert.deepEqual(second.connections, [other]);
  assert.deepEqual(second.fields, { a: 1 });
});

test("error queues a reply of kind error", () => {
  const msg = new IncomingMessage({ connections: [connection], text: "hi" });
  assert.equal(msg.error("bad").kind, "error");
  assert.equal(new ErrorMessage({ connections: [connection], text: "x" }).kind, "error");
});

test("extraBackendContext is empty for a message that replies to nothing", () => {
  assert.deepEqual(new OutgoingMessage({ connections: [connection], text: "x" }).extraBackendContext(), {});
});

test("extraBackendContext carries inResponseTo, and externalId when the original had one", () => {
  const withExternal = new IncomingMessage({ connections: [connection], text: "hi", fields: { externalId: "gw-1" } });
  const without = new IncomingMessage({ connections: [connection], text: "hi" });
  assert.deepEqual(new OutgoingMessage({ connections: [connection], text: "x", inResponseTo: withExternal }).extraBackendContext(), {
    inResponseTo: withExternal.id,
    externalId: "gw-1",
  });
  assert.deepEqual(new OutgoingMessage({ connections: [connection], text: "x", inResponseTo: without }).extraBackendContext(), {
    inResponseTo: without.id,
  });
});

test("a connection reads as '<identity> via <backend>'", () => {
  assert.equal(describeConnection(connection), "+2557 via kannel");
});
