import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { MAX_UNREAD_CHANGES, type StatusChange, StatusEvents } from "./status-events.ts";

const change = (n: number): StatusChange => ({
  messageId: `m${n}`,
  backend: "kannel",
  identity: "+1555",
  status: "sent",
  error: null,
  at: new Date().toISOString(),
});

test("status events: listeners get each change in order until they stop; one that throws is logged and the others still get it", () => {
  const logged: string[] = [];
  const logger = pino({ level: "error" }, { write: (line: string) => logged.push(line) });
  const events = new StatusEvents(logger);
  assert.equal(events.listening, false);
  const seen: string[] = [];
  const offThrowing = events.on(() => {
    throw new Error("the host's bug");
  });
  const off = events.on((c) => seen.push(c.messageId));
  assert.equal(events.listening, true);
  events.emit(change(1));
  events.emit(change(2));
  off();
  offThrowing();
  events.emit(change(3));
  assert.deepEqual(seen, ["m1", "m2"]);
  assert.equal(events.listening, false);
  assert.equal(logged.length, 2);
  assert.match(logged[0], /a status listener threw; the change is recorded all the same/);
});

test("status events as an async iterator: changes emitted before and while it waits arrive in order; aborting ends it and stops listening", async () => {
  const events = new StatusEvents(pino({ level: "silent" }));
  const controller = new AbortController();
  const iterator = events.changes({ signal: controller.signal });
  events.emit(change(1));
  const read: string[] = [];
  const reading = (async () => {
    for await (const c of { [Symbol.asyncIterator]: () => iterator }) {
      read.push(c.messageId);
      if (read.length === 3) controller.abort();
    }
  })();
  await new Promise((resolve) => setImmediate(resolve));
  events.emit(change(2));
  events.emit(change(3));
  await reading;
  assert.deepEqual(read, ["m1", "m2", "m3"]);
  assert.equal(events.listening, false);
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
});

test("status events: breaking out of a for await loop stops listening", async () => {
  const events = new StatusEvents(pino({ level: "silent" }));
  const iterator = events.changes();
  events.emit(change(1));
  for await (const _ of { [Symbol.asyncIterator]: () => iterator }) break;
  assert.equal(events.listening, false);
});

test("status events: a reader that falls too far behind gets an error saying so, not a silent gap, and memory stays bounded", async () => {
  const events = new StatusEvents(pino({ level: "silent" }));
  const iterator = events.changes();
  for (let n = 0; n < MAX_UNREAD_CHANGES + 5; n++) events.emit(change(n));
  assert.equal(events.listening, false, "it stopped listening when it overflowed");
  await assert.rejects(iterator.next(), /fell 10000 changes behind; read sms\.status\(id\)/);
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
});
