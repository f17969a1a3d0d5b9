import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppBase } from "../apps/app.ts";
import { EchoApp } from "../apps/echo.ts";
import { BackendBase, type SendRequest } from "../backends/backend.ts";
import { resolveConfig } from "../config/resolve.ts";
import { MessageSendingError } from "../errors.ts";
import { silentLogger } from "../logger.ts";
import type { IncomingMessage } from "../messages/messages.ts";
import { EmbeddedQueue } from "../queue/embedded.ts";
import { getRouter } from "../router/global.ts";
import { Router } from "../router/router.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";
import { createSystem } from "../system.ts";
import { createTestRouter, FailedIdentitiesBackend, MockBackend, RaisesBackend, type TestRouter } from "../testing/harness.ts";
import { Pipeline } from "./pipeline.ts";
import { pipelineOptionsSchema, type PipelineSettings } from "./policy.ts";

async function receiveAndWait(t: TestRouter, text: string, identity = "1112223333") {
  const [connection] = await t.connections([identity]);
  const msg = await t.router.receive(text, connection);
  await t.idle();
  return msg;
}

/** Polls `done` every 10 ms for up to 10 s. */
async function eventually(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A store whose method `name` fails its first `times` calls, as a database that hiccups would. */
function failingFirst(store: Store, name: keyof Store, times = 1): Store {
  let failures = 0;
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (key !== name || typeof value !== "function") return value;
      return (...args: unknown[]) => (failures++ < times ? Promise.reject(new Error(`the database hiccuped in ${String(name)}`)) : value.apply(target, args));
    },
  });
}

/** A pipeline of this process on `store`, as a second worker process would have. */
async function worker(store: Store, backends: Record<string, typeof BackendBase<object>>, pipeline: PipelineSettings = {}) {
  const router = new Router({ apps: [EchoApp] });
  const instance = new Pipeline({
    store,
    queue: new EmbeddedQueue(silentLogger),
    router,
    backends: Object.fromEntries(Object.entries(backends).map(([name, engine]) => [name, { engine: engine as never, options: {} }])),
    options: pipelineOptionsSchema.parse({ pollMs: 10, baseDelayMs: 10, maxDelayMs: 20, leaseMs: 100, ...pipeline }),
    logger: silentLogger,
  });
  return { router, pipeline: instance };
}

describe("accepting and processing", () => {
  test("receive stores the message as Q before it resolves; processing marks it R", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    class Slow extends AppBase {
      override async handle() {
        await gate;
      }
    }
    const t = await createTestRouter({ apps: [Slow] });
    const [connection] = await t.connections(["555"]);
    const msg = await t.router.receive("hello", connection, { fields: { externalId: "ext-1" } });
    const stored = await t.store.getMessage(msg.id);
    assert.deepEqual([stored?.status, stored?.direction, stored?.externalId], ["Q", "I", "ext-1"]);
    assert.deepEqual(
      stored?.transmissions.map((tr) => [tr.backend, tr.identity, tr.status]),
      [["mockbackend", "555", "Q"]],
    );
    release();
    await t.idle();
    assert.equal((await t.store.getMessage(msg.id))?.status, "R");
    await t.close();
  });

  test("a message an app filters is R, its replies sent", async () => {
    class RespondThenFilter extends AppBase {
      override filter(msg: IncomingMessage) {
        msg.respond("filtered");
        return true;
      }
    }
    const t = await createTestRouter({ apps: [RespondThenFilter] });
    const msg = await receiveAndWait(t, "hello");
    assert.equal((await t.store.getMessage(msg.id))?.status, "R");
    assert.deepEqual(
      t.sent().map((s) => s.text),
      ["filtered"],
    );
    await t.close();
  });

  test("a reply carries inResponseTo and the inbound message's externalId to its backend, and ends S", async () => {
    const t = await createTestRouter({ apps: [EchoApp] });
    const [connection] = await t.connections(["555"]);
    const msg = await t.router.receive("echo hi", connection, { fields: { externalId: "gw-42" } });
    await t.idle();
    assert.deepEqual(t.sent(), [
      {
        id: t.sent()[0].id,
        text: "hi",
        identities: ["555"],
        context: { inResponseTo: msg.id, externalId: "gw-42" },
        signal: t.sent()[0].signal,
        deadline: t.sent()[0].deadline,
      },
    ]);
    const [reply] = await t.store.listMessages({ inResponseTo: msg.id });
    assert.deepEqual([reply.text, reply.status], ["hi", "S"]);
    await t.close();
  });

  test("an app that keeps failing is tried again with backoff and ends E after maxAttempts, none of its replies sent", async () => {
    let calls = 0;
    class Broken extends AppBase {
      override handle(msg: IncomingMessage): boolean {
        calls++;
        msg.respond("never sent");
        throw new Error("database is down");
      }
    }
    const t = await createTestRouter({ apps: [Broken], pipeline: { maxAttempts: 3 } });
    const msg = await receiveAndWait(t, "hello");
    const record = await t.store.getMessage(msg.id);
    assert.deepEqual([record?.status, record?.error], ["E", "database is down"]);
    assert.equal(calls, 3);
    assert.equal(t.sent().length, 0);
    await t.close();
  });

  test("an app that fails once is processed on its next attempt, its reply sent once", async () => {
    let calls = 0;
    class Flaky extends AppBase {
      override handle(msg: IncomingMessage) {
        if (++calls === 1) throw new Error("a hiccup");
        msg.respond("done");
        return true;
      }
    }
    const t = await createTestRouter({ apps: [Flaky] });
    const msg = await receiveAndWait(t, "hello");
    assert.equal((await t.store.getMessage(msg.id))?.status, "R");
    assert.deepEqual(
      t.sent().map((s) => s.text),
      ["done"],
    );
    await t.close();
  });

  test("a completeIncoming that fails once: the message is processed again and its reply sent once", async () => {
    const t = await createTestRouter({ store: failingFirst(openSqliteStore(":memory:"), "completeIncoming"), apps: [EchoApp] });
    const msg = await receiveAndWait(t, "echo again");
    assert.equal((await t.store.getMessage(msg.id))?.status, "R");
    assert.deepEqual(
      t.sent().map((s) => s.text),
      ["again"],
    );
    await t.close();
  });
  test("a message whose results the store keeps refusing is not a poison message: E with the reason after maxAttempts", async () => {
    const t = await createTestRouter({
      store: failingFirst(openSqliteStore(":memory:"), "completeIncoming", 1_000),
      apps: [EchoApp],
      pipeline: { maxAttempts: 3 },
    });
    const msg = await receiveAndWait(t, "echo forever");
    const record = await t.store.getMessage(msg.id);
    assert.equal(record?.status, "E");
    assert.match(record?.error ?? "", /the database hiccuped in completeIncoming/);
    assert.equal(t.sent().length, 0);
    assert.deepEqual(await t.store.pendingWork(), { inbound: 0, outbound: 0, nextRetryAt: null }, "nothing left to run again after a restart");
    await t.close();
  });
  test("an app's reply that no store can keep (a NUL, or too long) ends the message E at once, with the reason", async () => {
    let calls = 0;
    class Garbled extends AppBase {
      override handle(msg: IncomingMessage) {
        calls++;
        msg.respond("fine");
        msg.respond("bad\u0000reply");
        return true;
      }
    }
    const t = await createTestRouter({ apps: [Garbled], pipeline: { maxAttempts: 5 } });
    const msg = await receiveAndWait(t, "hello");
    const record = await t.store.getMessage(msg.id);
    assert.deepEqual([record?.status, record?.error], ["E", "reply text 1: Null characters are not allowed."]);
    assert.equal(calls, 1, "not run again: it would answer the same");
    assert.equal(t.sent().length, 0);
    await t.close();
  });
});

describe("sending", () => {
  test("one send call per backend carries all of that backend's identities; the message ends S", async () => {
    const t = await createTestRouter({ backends: { one: MockBackend, two: MockBackend } });
    const connections = [...(await t.connections(["111", "222"], "one")), ...(await t.connections(["333"], "two")), ...(await t.connections(["444"], "one"))];
    const msg = await t.router.send("hello", connections);
    await t.idle();
    assert.deepEqual(
      t.sent("one").map((s) => [s.id, s.text, s.identities, s.context]),
      [[msg.id, "hello", ["111", "222", "444"], {}]],
    );
    assert.deepEqual(
      t.sent("two").map((s) => s.identities),
      [["333"]],
    );
    const record = await t.store.getMessage(msg.id);
    assert.equal(record?.status, "S");
    assert.ok(record?.sentAt);
    await t.close();
  });

  test("a message an outgoing app cancels is not stored", async () => {
    class Cancel extends AppBase {
      override outgoing() {
        return false;
      }
    }
    const t = await createTestRouter({ apps: [Cancel] });
    const msg = await t.router.send("hi", await t.connections(["1"]));
    assert.equal(await t.store.getMessage(msg.id), undefined);
    await t.close();
  });

  test("failedIdentities marks only those E, the others S, and the message E", async () => {
    const t = await createTestRouter({ backends: { fi: FailedIdentitiesBackend }, pipeline: { maxAttempts: 1 } });
    const msg = await t.router.send("hello", await t.connections(["100", "200", "310"], "fi"));
    await t.idle();
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

  test("a failing backend group does not stop the others; an unknown backend fails only its group, at once", async () => {
    const t = await createTestRouter({ backends: { good: MockBackend, bad: RaisesBackend }, pipeline: { maxAttempts: 2 } });
    const connections = [...(await t.connections(["1"], "good")), ...(await t.connections(["2"], "bad")), ...(await t.connections(["3"], "not-installed"))];
    const msg = await t.router.send("hello", connections);
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    const byBackend = Object.fromEntries(record!.transmissions.map((tr) => [tr.backend, tr]));
    assert.equal(byBackend.good.status, "S");
    assert.equal(byBackend.bad.status, "E");
    assert.match(byBackend.bad.error!, /bad encountered an error while sending: Error! \(gave up after 2 attempts\)/);
    assert.deepEqual([byBackend["not-installed"].status, byBackend["not-installed"].attempts], ["E", 1]);
    assert.match(byBackend["not-installed"].error!, /Router is not configured with the not-installed backend/);
    await t.close();
  });

  test("a recordAttempts that fails once: the outcome is recorded all the same", async () => {
    const t = await createTestRouter({ store: failingFirst(openSqliteStore(":memory:"), "recordAttempts") });
    const msg = await t.router.send("hello", await t.connections(["111"]));
    await t.idle();
    assert.equal((await t.store.getMessage(msg.id))?.status, "S");
    assert.equal(t.sent().length, 1);
    await t.close();
  });

  test("a send that never settles is cut at its deadline, retried, and ends E after maxAttempts", async () => {
    let calls = 0;
    class Hangs extends BackendBase<object> {
      static override engine = "hangs";
      override send(_request: SendRequest): Promise<void> {
        calls++;
        return new Promise(() => {});
      }
    }
    const t = await createTestRouter({ backends: { gw: Hangs }, pipeline: { sendTimeoutMs: 100, maxAttempts: 2 } });
    const msg = await t.router.send("hello", await t.connections(["111"], "gw"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    assert.equal(record?.status, "E");
    assert.match(
      record?.transmissions[0].error ?? "",
      /gw did not finish the send within 100 ms \(pipeline\.sendTimeoutMs\); will retry \(gave up after 2 attempts\)/,
    );
    assert.equal(calls, 2);
    await t.close();
  });

  test("the send's signal aborts at the deadline, so a backend that listens stops its gateway call", async () => {
    const reasons: string[] = [];
    class Listens extends BackendBase<object> {
      static override engine = "listens";
      override send({ signal }: SendRequest): Promise<void> {
        return new Promise((_resolve, reject) =>
          signal?.addEventListener("abort", () => {
            reasons.push(String(signal.reason?.code));
            reject(new MessageSendingError("aborted"));
          }),
        );
      }
    }
    const t = await createTestRouter({ backends: { gw: Listens }, pipeline: { sendTimeouts: { gw: 50 }, maxAttempts: 1 } });
    await t.router.send("hello", await t.connections(["111"], "gw"));
    await t.idle();
    assert.deepEqual(reasons, ["SEND_TIMEOUT"]);
    await t.close();
  });
});

describe("claims across workers", () => {
  test("a stale worker's outcome is fenced out: the worker that took over decides, and the SMS went once more, not twice", async () => {
    const store = openSqliteStore(":memory:");
    await store.migrate();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let staleCalls = 0;
    class Stalls extends BackendBase<object> {
      static override engine = "stalls";
      override async send(): Promise<void> {
        staleCalls++;
        await gate;
        throw new MessageSendingError("gateway answered 503", { retryable: true });
      }
    }
    // Worker A cannot renew its leases (it lost the database for a while).
    const cut = new Proxy(store, { get: (target, key) => (key === "renewClaims" ? async () => {} : Reflect.get(target, key)) });
    // One place, held by the stalled send: A cannot claim the transmission again once its lease runs out, only B can.
    const a = await worker(cut, { gw: Stalls }, { sendTimeoutMs: 60_000, sendConcurrency: 1 });
    await a.pipeline.start();
    const [connection] = await a.router.lookupConnections("gw", ["111"]);
    const msg = await a.router.send("hello", connection);
    await eventually(async () => staleCalls === 1);
    const b = await worker(store, { gw: MockBackend });
    await b.pipeline.start();
    const taken = b.pipeline.backends.get("gw") as MockBackend;
    await eventually(async () => (await store.getMessage(msg.id))?.status === "S");
    open();
    await a.pipeline.stop({ timeoutMs: 5_000 });
    await b.pipeline.stop();
    const [transmission] = (await store.getMessage(msg.id))!.transmissions;
    const detail = await store.getTransmission(transmission.id);
    assert.equal(detail?.status, "S", "A's late failure did not overwrite B's success");
    assert.deepEqual(
      detail?.attemptLog.map((l) => [l.attempt, l.outcome]),
      [[2, "S"]],
    );
    assert.equal(taken.messages.length, 1);
    await store.close();
  });

  test("stop with a hung send returns within the shutdown deadline, and another worker sends the message", async () => {
    const store = openSqliteStore(":memory:");
    await store.migrate();
    let hung = 0;
    class Hangs extends BackendBase<object> {
      static override engine = "hangs";
      override send(): Promise<void> {
        hung++;
        return new Promise(() => {});
      }
    }
    const a = await worker(store, { gw: Hangs }, { sendTimeoutMs: 600_000, leaseMs: 600_000 });
    await a.pipeline.start();
    const [connection] = await a.router.lookupConnections("gw", ["111"]);
    const msg = await a.router.send("hello", connection);
    await eventually(async () => hung === 1);
    await a.pipeline.stop({ timeoutMs: 100 });
    const b = await worker(store, { gw: MockBackend });
    await b.pipeline.start();
    await eventually(async () => (await store.getMessage(msg.id))?.status === "S");
    await b.pipeline.stop();
    const [transmission] = (await store.getMessage(msg.id))!.transmissions;
    assert.deepEqual([transmission.status, transmission.attempts], ["S", 1], "the hung attempt was given back, not counted");
    assert.equal((b.pipeline.backends.get("gw") as MockBackend).messages.length, 1);
    await store.close();
  });
  test("a send still waiting its turn when stop gives up is not started: its gateway never sees it", async () => {
    const inner = openSqliteStore(":memory:");
    await inner.migrate();
    let recorded = 0;
    const store = new Proxy(inner, {
      get: (target, key) => {
        const value = Reflect.get(target, key);
        if (key !== "recordAttempts") return value;
        return (...args: unknown[]) => {
          recorded++;
          return value.apply(target, args);
        };
      },
    });
    let started = 0;
    class Hangs extends BackendBase<object> {
      static override engine = "hangs";
      override send(): Promise<void> {
        started++;
        return new Promise(() => {});
      }
    }
    const a = await worker(store, { gw: Hangs }, { sendTimeoutMs: 600_000, leaseMs: 600_000 });
    await a.pipeline.start();
    const [connection] = await a.router.lookupConnections("gw", ["111"]);
    await a.router.send("first", connection);
    await eventually(async () => started === 1);
    // To the same recipient on the same backend: it waits for the first, to keep their order.
    const second = await a.router.send("second", connection);
    await eventually(async () => (await store.getMessage(second.id))?.transmissions[0].status === "P");
    await a.pipeline.stop({ timeoutMs: 50 });
    await eventually(async () => recorded === 2);
    assert.equal(recorded, 2, "both sends came to an end");
    assert.equal(started, 1, "the second send was not started after the stop");
    await inner.close();
  });
});

describe("hand-off within a process", () => {
  /** A harness whose store never hands out `hidden`'s work: only a hand-over within the process gets it done. */
  async function hiding(hidden: "claimIncoming" | "claimTransmissions") {
    const inner = openSqliteStore(":memory:");
    const store = new Proxy(inner, { get: (target, key) => (key === hidden ? async () => [] : Reflect.get(target, key)) });
    const t = await createTestRouter({ store, apps: [EchoApp] });
    const [connection] = await t.connections(["555"]);
    return { t, store, connection };
  }

  test("a message accepted by a process with a free worker is processed there, without a claim through the store", async () => {
    const { t, store, connection } = await hiding("claimIncoming");
    const msg = await t.router.receive("echo handed over", connection);
    await eventually(async () => (await store.getMessage(msg.id))?.status === "R");
    assert.equal((await store.getMessage(msg.id))?.status, "R");
    await t.idle();
    assert.deepEqual(
      t.sent().map((s) => s.text),
      ["handed over"],
    );
    await t.close();
  });

  test("a reply made by a process with a free sender is sent there, without a claim through the store", async () => {
    const { t, store, connection } = await hiding("claimTransmissions");
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
});

test("two systems in one process do not interfere, and neither sets the process's router", async () => {
  const config = (name: string) =>
    resolveConfig({ installedBackends: { [name]: { engine: "database" } }, apps: ["echo"], database: "sqlite::memory:", pipeline: { pollMs: 10 } });
  const [one, two] = await Promise.all([createSystem(await config("one")), createSystem(await config("two"))]);
  try {
    assert.throws(() => getRouter(), /no router is running/);
    for (const [system, name] of [
      [one, "one"],
      [two, "two"],
    ] as const) {
      const [connection] = await system.router.lookupConnections(name, ["111"]);
      await system.router.receive(`echo from ${name}`, connection);
    }
    await Promise.all([one.pipeline.idle(), two.pipeline.idle()]);
    for (const [system, name] of [
      [one, "one"],
      [two, "two"],
    ] as const) {
      const replies = await system.store.listMessages({ direction: "O" });
      assert.deepEqual(
        replies.map((r) => [r.text, r.transmissions[0].backend]),
        [[`from ${name}`, name]],
      );
    }
  } finally {
    await one.close();
    await two.close();
  }
});

test("a backend that cannot encode the message (a URIError) fails it at once; any other error is tried again", async () => {
  const calls: Record<string, number> = {};
  class Encodes extends BackendBase<object> {
    static override engine = "encodes";
    override async send({ text }: SendRequest): Promise<void> {
      calls[text] = (calls[text] ?? 0) + 1;
      if (text === "cannot encode") encodeURIComponent("\ud800");
      if (text === "bug") throw new TypeError("cannot read properties of undefined");
    }
  }
  const t = await createTestRouter({ backends: { gw: Encodes }, pipeline: { maxAttempts: 3 } });
  const [connection] = await t.connections(["111"], "gw");
  const unencodable = await t.router.send("cannot encode", connection);
  const bug = await t.router.send("bug", connection);
  await t.idle();
  const [a, b] = [await t.store.getMessage(unencodable.id), await t.store.getMessage(bug.id)];
  assert.deepEqual([a?.status, a?.transmissions[0].attempts, calls["cannot encode"]], ["E", 1, 1]);
  assert.match(a?.transmissions[0].error ?? "", /gw encountered an error while sending: URI malformed$/);
  assert.deepEqual([b?.status, b?.transmissions[0].attempts, calls.bug], ["E", 3, 3]);
  await t.close();
});
