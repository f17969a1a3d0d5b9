import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppBase, type IncomingPhase } from "../apps/app.ts";
import { MessageSendingError, NoBackendError } from "../errors.ts";
import type { IncomingMessage, OutgoingMessage } from "../messages/messages.ts";
import { createTestRouter, FailedIdentitiesBackend, MockBackend, RaisesBackend } from "../testing/harness.ts";
import { getRouter, lookupConnections, receive, send, setRouter } from "./global.ts";
import { EchoApp } from "../apps/echo.ts";
import { openSqliteStore } from "../store/sqlite.ts";

type Calls = string[];

/** Records `<app>.<phase>` for every call and returns what `results[phase]` says. */
function recordingApp(name: string, calls: Calls, results: Partial<Record<IncomingPhase | "outgoing", unknown>> = {}) {
  return class extends AppBase {
    static override appName = name;
    override filter(msg: IncomingMessage) {
      return this.record("filter", msg);
    }
    override parse(msg: IncomingMessage) {
      return this.record("parse", msg);
    }
    override handle(msg: IncomingMessage) {
      return this.record("handle", msg);
    }
    override default(msg: IncomingMessage) {
      return this.record("default", msg);
    }
    override cleanup(msg: IncomingMessage) {
      return this.record("cleanup", msg);
    }
    override outgoing(msg: OutgoingMessage) {
      return this.record("outgoing", msg);
    }
    // biome-ignore lint/suspicious/noExplicitAny: the result each test wants from this phase, whatever its type
    private record(phase: IncomingPhase | "outgoing", _msg: unknown): any {
      calls.push(`${name}.${phase}`);
      return results[phase];
    }
  };
}

async function receiveAndWait(t: Awaited<ReturnType<typeof createTestRouter>>, text: string, identity = "1112223333") {
  const [connection] = await t.connections([identity]);
  const msg = await t.router.receive(text, connection);
  await t.router.idle();
  return msg;
}

describe("incoming phases", () => {
  test("an unhandled message goes through filter, parse, handle, default and cleanup, apps in order", async () => {
    const calls: Calls = [];
    const t = await createTestRouter({ apps: [recordingApp("a", calls), recordingApp("b", calls)] });
    await receiveAndWait(t, "hello");
    assert.deepEqual(calls, ["a.filter", "b.filter", "a.parse", "b.parse", "a.handle", "b.handle", "a.default", "b.default", "a.cleanup", "b.cleanup"]);
    await t.close();
  });

  test("filter returning true stops every later app and phase, cleanup included", async () => {
    const calls: Calls = [];
    const t = await createTestRouter({ apps: [recordingApp("a", calls, { filter: true }), recordingApp("b", calls)] });
    const msg = await receiveAndWait(t, "hello");
    assert.deepEqual(calls, ["a.filter"]);
    assert.equal((await t.store.getMessage(msg.id))?.status, "R");
    await t.close();
  });

  test("responses queued before a filter stops the message are still sent", async () => {
    class RespondThenFilter extends AppBase {
      override filter(msg: IncomingMessage) {
        msg.respond("filtered");
        return true;
      }
    }
    const t = await createTestRouter({ apps: [RespondThenFilter] });
    await receiveAndWait(t, "hello");
    assert.deepEqual(
      t.sent().map((s) => s.text),
      ["filtered"],
    );
    await t.close();
  });

  test("handle returning true ends the handle phase, marks the message handled and skips default and cleanup", async () => {
    const calls: Calls = [];
    const seen: IncomingMessage[] = [];
    class Sees extends AppBase {
      override filter(msg: IncomingMessage) {
        seen.push(msg);
      }
    }
    const t = await createTestRouter({ apps: [Sees, recordingApp("a", calls, { handle: true }), recordingApp("b", calls)] });
    await receiveAndWait(t, "hello");
    const [msg] = seen;
    assert.deepEqual(calls, ["a.filter", "b.filter", "a.parse", "b.parse", "a.handle"]);
    assert.equal(msg.handled, true);
    await t.close();
  });

  test("default runs until an app returns true, then cleanup still runs for the unhandled message", async () => {
    const calls: Calls = [];
    const t = await createTestRouter({
      apps: [recordingApp("a", calls, { default: true }), recordingApp("b", calls)],
    });
    await receiveAndWait(t, "hello");
    assert.deepEqual(calls.slice(6), ["a.default", "a.cleanup", "b.cleanup"]);
    await t.close();
  });

  test("only exactly true counts: truthy values do not stop filter or handle", async () => {
    const calls: Calls = [];
    const t = await createTestRouter({
      apps: [recordingApp("a", calls, { filter: 1, handle: "yes" }), recordingApp("b", calls)],
    });
    const msg = await receiveAndWait(t, "hello");
    assert.equal(msg.handled, false);
    assert.equal(calls.filter((c) => c.endsWith(".cleanup")).length, 2);
    await t.close();
  });

  test("replies are sent only after every phase has run, in the order respond() was called", async () => {
    const sentDuringPhases: number[] = [];
    let t!: Awaited<ReturnType<typeof createTestRouter>>;
    class Responder extends AppBase {
      override handle(msg: IncomingMessage) {
        msg.respond("first");
        msg.respond("second");
      }
      override cleanup() {
        sentDuringPhases.push(t.sent().length);
      }
    }
    t = await createTestRouter({ apps: [Responder] });
    await receiveAndWait(t, "hello");
    assert.deepEqual(sentDuringPhases, [0]);
    assert.deepEqual(
      t.sent().map((s) => s.text),
      ["first", "second"],
    );
    await t.close();
  });

  test("an app that throws marks the message E with the reason and sends none of its replies", async () => {
    class Broken extends AppBase {
      override handle(msg: IncomingMessage): boolean {
        msg.respond("never sent");
        throw new Error("database is down");
      }
    }
    const t = await createTestRouter({ apps: [Broken] });
    const msg = await receiveAndWait(t, "hello");
    const record = await t.store.getMessage(msg.id);
    assert.equal(record?.status, "E");
    assert.equal(record?.error, "database is down");
    assert.equal(t.sent().length, 0);
    await t.close();
  });

  test("receive stores the message as Q before it resolves; processing marks it R", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class Slow extends AppBase {
      override async handle() {
        await gate;
      }
    }
    const t = await createTestRouter({ apps: [Slow] });
    const [connection] = await t.connections(["555"]);
    const msg = await t.router.receive("hello", connection, { fields: { externalId: "ext-1" } });
    const stored = await t.store.getMessage(msg.id);
    assert.equal(stored?.status, "Q");
    assert.equal(stored?.direction, "I");
    assert.equal(stored?.externalId, "ext-1");
    assert.deepEqual(
      stored?.transmissions.map((tr) => [tr.backend, tr.identity, tr.status]),
      [["mockbackend", "555", "Q"]],
    );
    release();
    await t.router.idle();
    assert.equal((await t.store.getMessage(msg.id))?.status, "R");
    await t.close();
  });
});

describe("outgoing", () => {
  test("outgoing phase runs apps in reverse order", async () => {
    const calls: Calls = [];
    const t = await createTestRouter({ apps: [recordingApp("a", calls), recordingApp("b", calls)] });
    await t.router.send("hi", await t.connections(["1"]));
    assert.deepEqual(calls, ["b.outgoing", "a.outgoing"]);
    await t.close();
  });

  test("an outgoing app returning false cancels the message: nothing is sent or stored", async () => {
    const calls: Calls = [];
    const t = await createTestRouter({ apps: [recordingApp("a", calls), recordingApp("b", calls, { outgoing: false })] });
    const msg = await t.router.send("hi", await t.connections(["1"]));
    assert.deepEqual(calls, ["b.outgoing"]);
    assert.equal(msg.processed, false);
    assert.equal(t.sent().length, 0);
    assert.equal(await t.store.getMessage(msg.id), undefined);
    await t.close();
  });

  test("an outgoing app that throws is skipped and the message is still sent", async () => {
    class Throws extends AppBase {
      override outgoing(): boolean {
        throw new Error("boom");
      }
    }
    const t = await createTestRouter({ apps: [Throws] });
    const msg = await t.router.send("hi", await t.connections(["1"]));
    await t.router.idle();
    assert.equal(msg.processed, true);
    assert.equal(t.sent().length, 1);
    await t.close();
  });

  test("one send call per backend carries all of that backend's identities; the message ends S", async () => {
    const t = await createTestRouter({ backends: { one: MockBackend, two: MockBackend } });
    const connections = [...(await t.connections(["111", "222"], "one")), ...(await t.connections(["333"], "two")), ...(await t.connections(["444"], "one"))];
    const msg = await t.router.send("hello", connections);
    await t.router.idle();
    assert.deepEqual(
      t.sent("one").map((s) => s.identities),
      [["111", "222", "444"]],
    );
    assert.deepEqual(
      t.sent("two").map((s) => s.identities),
      [["333"]],
    );
    assert.deepEqual(t.sent("one")[0], { id: msg.id, text: "hello", identities: ["111", "222", "444"], context: {} });
    const record = await t.store.getMessage(msg.id);
    assert.equal(record?.status, "S");
    assert.ok(record?.sentAt);
    assert.deepEqual(
      record?.transmissions.map((tr) => tr.status),
      ["S", "S", "S", "S"],
    );
    await t.close();
  });

  test("sending to no connection is refused", async () => {
    const t = await createTestRouter();
    await assert.rejects(t.router.send("hello", []), /at least one connection/);
    await t.close();
  });

  test("a connection given twice gets one transmission", async () => {
    const t = await createTestRouter();
    const [c] = await t.connections(["111"]);
    await t.router.send("hello", [c, c]);
    await t.router.idle();
    assert.deepEqual(t.sent()[0].identities, ["111"]);
    await t.close();
  });

  test("failedIdentities marks only those E, the others S, and the message E", async () => {
    const t = await createTestRouter({ backends: { fi: FailedIdentitiesBackend }, pipeline: { maxAttempts: 1 } });
    const msg = await t.router.send("hello", await t.connections(["100", "200", "310"], "fi"));
    await t.router.idle();
    const record = await t.store.getMessage(msg.id);
    assert.deepEqual(
      record?.transmissions.map((tr) => [tr.identity, tr.status]),
      [
        ["100", "E"],
        ["200", "S"],
        ["310", "E"],
      ],
    );
    assert.equal(record?.status, "E");
    await t.close();
  });

  test("a failing backend group does not stop the others; an unknown backend fails only its group", async () => {
    const t = await createTestRouter({ backends: { good: MockBackend, bad: RaisesBackend }, pipeline: { maxAttempts: 1 } });
    const connections = [...(await t.connections(["1"], "good")), ...(await t.connections(["2"], "bad")), ...(await t.connections(["3"], "not-installed"))];
    const msg = await t.router.send("hello", connections);
    await t.router.idle();
    const record = await t.store.getMessage(msg.id);
    const byBackend = Object.fromEntries(record!.transmissions.map((tr) => [tr.backend, tr]));
    assert.equal(byBackend.good.status, "S");
    assert.equal(byBackend.bad.status, "E");
    assert.match(byBackend.bad.error!, /bad encountered an error while sending: Error!/);
    assert.equal(byBackend["not-installed"].status, "E");
    assert.match(byBackend["not-installed"].error!, /Router is not configured with the not-installed backend/);
    assert.equal(t.sent("good").length, 1);
    await t.close();
  });

  test("sendToBackend throws NoBackendError for an unknown name and wraps other errors in MessageSendingError", async () => {
    const t = await createTestRouter({ backends: { bad: RaisesBackend, fi: FailedIdentitiesBackend } });
    await assert.rejects(t.router.sendToBackend("nope", "id", "x", ["1"], {}), NoBackendError);
    await assert.rejects(t.router.sendToBackend("bad", "id", "x", ["1"], {}), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.deepEqual(error.failedIdentities, []);
      return true;
    });
    await assert.rejects(t.router.sendToBackend("fi", "id", "x", ["1", "2"], {}), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.deepEqual(error.failedIdentities, ["1"]);
      return true;
    });
    await t.close();
  });

  test("a reply carries inResponseTo and the inbound message's externalId to its backend", async () => {
    class Echo extends AppBase {
      override handle(msg: IncomingMessage) {
        msg.respond(`got ${msg.text}`);
        return true;
      }
    }
    const t = await createTestRouter({ apps: [Echo] });
    const [connection] = await t.connections(["555"]);
    const msg = await t.router.receive("hi", connection, { fields: { externalId: "gw-42" } });
    await t.router.idle();
    assert.deepEqual(t.sent(), [{ id: t.sent()[0].id, text: "got hi", identities: ["555"], context: { inResponseTo: msg.id, externalId: "gw-42" } }]);
    const [reply] = await t.store.listMessages({ inResponseTo: msg.id });
    assert.equal(reply.text, "got hi");
    assert.equal(reply.status, "S");
    await t.close();
  });

  test("msg.error sends an ErrorMessage", async () => {
    const kinds: string[] = [];
    class Errs extends AppBase {
      override handle(msg: IncomingMessage) {
        msg.error("bad input");
        return true;
      }
      override outgoing(msg: OutgoingMessage) {
        kinds.push(`${msg.constructor.name}:${msg.kind}`);
      }
    }
    const t = await createTestRouter({ apps: [Errs] });
    await receiveAndWait(t, "x");
    assert.deepEqual(kinds, ["ErrorMessage:error"]);
    await t.close();
  });
});

describe("module-level API", () => {
  test("getRouter throws until a router is set; receive, send and lookupConnections use it", async () => {
    setRouter(undefined);
    assert.throws(() => getRouter(), /no router is running/);
    const t = await createTestRouter();
    setRouter(t.router);
    try {
      assert.equal(getRouter(), t.router);
      const [connection] = await lookupConnections("mockbackend", [1112223333]);
      assert.equal(connection.identity, "1112223333");
      await send("out", connection);
      await receive("in", connection);
      await t.router.idle();
      await t.router.idle();
      assert.deepEqual(
        t.sent().map((s) => s.text),
        ["out"],
      );
      assert.equal((await t.store.listMessages({ direction: "I" })).length, 1);
    } finally {
      setRouter(undefined);
      await t.close();
    }
  });
});

/** A router whose store never hands out `hidden`'s work: only a hand-over within the process gets it done. */
async function routerWhoseStoreHides(hidden: "claimIncoming" | "claimTransmissions") {
  const inner = openSqliteStore(":memory:");
  const store = new Proxy(inner, { get: (target, key) => (key === hidden ? async () => [] : Reflect.get(target, key)) });
  const t = await createTestRouter({ store, apps: [EchoApp] });
  const [connection] = await t.connections(["555"]);
  return { t, store, connection };
}

/** Polls `done` every 10 ms for up to 5 s. */
async function eventually(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await done()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

test("a message accepted by a process with a free worker is processed there, without a claim through the store", async () => {
  const { t, store, connection } = await routerWhoseStoreHides("claimIncoming");
  const msg = await t.router.receive("echo handed over", connection);
  await eventually(async () => (await store.getMessage(msg.id))?.status === "R");
  assert.equal((await store.getMessage(msg.id))?.status, "R");
  await t.router.idle();
  assert.deepEqual(
    t.sent().map((s) => s.text),
    ["handed over"],
  );
  await t.close();
});

test("a reply made by a process with a free sender is sent there, without a claim through the store", async () => {
  const { t, store, connection } = await routerWhoseStoreHides("claimTransmissions");
  const msg = await t.router.receive("echo straight out", connection);
  const reply = async () => (await store.listMessages({ inResponseTo: msg.id }))[0];
  await eventually(async () => (await reply())?.status === "S");
  assert.deepEqual(
    t.sent().map((s) => s.text),
    ["straight out"],
  );
  const { status, transmissions } = (await reply())!;
  assert.deepEqual([status, transmissions.map((tr) => [tr.status, tr.attempts])], ["S", [["S", 1]]]);
  await t.close();
});
