// The phase engine alone: no store, no queue, no pipeline. What is stored and sent is the
// pipeline's business (pipeline/pipeline.test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppBase, type IncomingPhase } from "../apps/app.ts";
import type { Connection } from "../messages/connection.ts";
import { IncomingMessage, type OutgoingMessage } from "../messages/messages.ts";
import type { RouterPort } from "./api.ts";
import { getRouter, lookupConnections, receive, send, setRouter } from "./global.ts";
import { Router } from "./router.ts";

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

/** A port that keeps what the router hands it in memory. */
class MemoryPort implements RouterPort {
  readonly accepted: IncomingMessage[] = [];
  readonly enqueued: { msg: OutgoingMessage; priority: number }[] = [];
  private readonly seen = new Map<string, string>();
  private ids = 0;

  async accept(msg: IncomingMessage) {
    const gatewayId = msg.fields.externalId as string | undefined;
    const original = gatewayId ? this.seen.get(gatewayId) : undefined;
    if (original) return { id: original, duplicate: true };
    if (gatewayId) this.seen.set(gatewayId, msg.id);
    this.accepted.push(msg);
    return { id: msg.id, duplicate: false };
  }

  async enqueue(msg: OutgoingMessage, { priority }: { priority: number }) {
    this.enqueued.push({ msg, priority });
  }

  async connectionLanguages(): Promise<Record<number, string>> {
    return {};
  }

  async lookupConnections(backend: string, identities: readonly string[]): Promise<Connection[]> {
    return identities.map((identity) => ({ id: ++this.ids, backend, identity, contactId: null }));
  }
}

const connection: Connection = { id: 1, backend: "mock", identity: "1112223333", contactId: null };
const incoming = (text = "hello") => new IncomingMessage({ connections: [connection], text });
const texts = (replies: OutgoingMessage[]) => replies.map((r) => r.text);

describe("incoming phases", () => {
  test("an unhandled message goes through filter, parse, handle, default and cleanup, apps in order", async () => {
    const calls: Calls = [];
    const router = new Router({ apps: [recordingApp("a", calls), recordingApp("b", calls)] });
    const msg = incoming();
    await router.process(msg);
    assert.deepEqual(calls, ["a.filter", "b.filter", "a.parse", "b.parse", "a.handle", "b.handle", "a.default", "b.default", "a.cleanup", "b.cleanup"]);
    assert.equal(msg.processed, true);
  });

  test("filter returning true stops every later app and phase, cleanup included", async () => {
    const calls: Calls = [];
    const router = new Router({ apps: [recordingApp("a", calls, { filter: true }), recordingApp("b", calls)] });
    const msg = incoming();
    await router.process(msg);
    assert.deepEqual(calls, ["a.filter"]);
    assert.equal(msg.processed, false);
  });

  test("responses queued before a filter stops the message are still sent", async () => {
    class RespondThenFilter extends AppBase {
      override filter(msg: IncomingMessage) {
        msg.respond("filtered");
        return true;
      }
    }
    assert.deepEqual(texts(await new Router({ apps: [RespondThenFilter] }).process(incoming())), ["filtered"]);
  });

  test("handle returning true ends the handle phase, marks the message handled and skips default and cleanup", async () => {
    const calls: Calls = [];
    const router = new Router({ apps: [recordingApp("a", calls, { handle: true }), recordingApp("b", calls)] });
    const msg = incoming();
    await router.process(msg);
    assert.deepEqual(calls, ["a.filter", "b.filter", "a.parse", "b.parse", "a.handle"]);
    assert.equal(msg.handled, true);
  });

  test("default runs until an app returns true, then cleanup still runs for the unhandled message", async () => {
    const calls: Calls = [];
    await new Router({ apps: [recordingApp("a", calls, { default: true }), recordingApp("b", calls)] }).process(incoming());
    assert.deepEqual(calls.slice(6), ["a.default", "a.cleanup", "b.cleanup"]);
  });

  test("only exactly true counts: truthy values do not stop filter or handle", async () => {
    const calls: Calls = [];
    const msg = incoming();
    await new Router({ apps: [recordingApp("a", calls, { filter: 1, handle: "yes" }), recordingApp("b", calls)] }).process(msg);
    assert.equal(msg.handled, false);
    assert.equal(calls.filter((c) => c.endsWith(".cleanup")).length, 2);
  });

  test("replies come out after every phase has run, in the order respond() was called, each through the outgoing phase", async () => {
    const calls: Calls = [];
    class Responder extends AppBase {
      override handle(msg: IncomingMessage) {
        msg.respond("first");
        msg.respond("second");
      }
      override cleanup() {
        calls.push("cleanup");
      }
      override outgoing(msg: OutgoingMessage) {
        calls.push(`outgoing ${msg.text}`);
      }
    }
    const replies = await new Router({ apps: [Responder] }).process(incoming());
    assert.deepEqual(texts(replies), ["first", "second"]);
    assert.deepEqual(calls, ["cleanup", "outgoing first", "outgoing second"]);
    assert.ok(replies.every((reply) => reply.inResponseTo?.text === "hello"));
  });

  test("a reply an outgoing app cancels is not among the replies", async () => {
    class Censor extends AppBase {
      override handle(msg: IncomingMessage) {
        msg.respond("keep");
        msg.respond("drop");
      }
      override outgoing(msg: OutgoingMessage) {
        return msg.text !== "drop";
      }
    }
    assert.deepEqual(texts(await new Router({ apps: [Censor] }).process(incoming())), ["keep"]);
  });

  test("an app that throws makes process() throw, for the pipeline to try again", async () => {
    class Broken extends AppBase {
      override handle(msg: IncomingMessage): boolean {
        msg.respond("never sent");
        throw new Error("database is down");
      }
    }
    await assert.rejects(new Router({ apps: [Broken] }).process(incoming()), /database is down/);
  });

  test("msg.error makes an ErrorMessage", async () => {
    class Errs extends AppBase {
      override handle(msg: IncomingMessage) {
        msg.error("bad input");
        return true;
      }
    }
    const [reply] = await new Router({ apps: [Errs] }).process(incoming());
    assert.deepEqual([reply.constructor.name, reply.kind], ["ErrorMessage", "error"]);
  });

  test("a reply's backend context carries the inbound message's id and gateway id", async () => {
    class Echo extends AppBase {
      override handle(msg: IncomingMessage) {
        msg.respond(`got ${msg.text}`);
        return true;
      }
    }
    const msg = new IncomingMessage({ connections: [connection], text: "hi", fields: { externalId: "gw-42" } });
    const [reply] = await new Router({ apps: [Echo] }).process(msg);
    assert.deepEqual(reply.extraBackendContext(), { inResponseTo: msg.id, externalId: "gw-42" });
  });
});

describe("receive and send through the port", () => {
  test("receive hands the message to the port; a duplicate comes back with the original's id", async () => {
    const port = new MemoryPort();
    const router = new Router({ port });
    const first = await router.receive("hello", connection, { fields: { externalId: "gw-7" } });
    const again = await router.receive("hello", connection, { fields: { externalId: "gw-7" } });
    assert.deepEqual([first.duplicate, again.duplicate, again.id], [false, true, first.id]);
    assert.deepEqual(port.accepted, [first]);
  });

  test("the outgoing phase runs apps in reverse order, then the message goes to the port", async () => {
    const calls: Calls = [];
    const port = new MemoryPort();
    const router = new Router({ apps: [recordingApp("a", calls), recordingApp("b", calls)], port });
    const msg = await router.send("hi", connection, { priority: 3 });
    assert.deepEqual(calls, ["b.outgoing", "a.outgoing"]);
    assert.deepEqual(port.enqueued, [{ msg, priority: 3 }]);
  });

  test("an outgoing app returning false cancels the message: nothing reaches the port", async () => {
    const calls: Calls = [];
    const port = new MemoryPort();
    const router = new Router({ apps: [recordingApp("a", calls), recordingApp("b", calls, { outgoing: false })], port });
    const msg = await router.send("hi", connection);
    assert.deepEqual(calls, ["b.outgoing"]);
    assert.equal(msg.processed, false);
    assert.deepEqual(port.enqueued, []);
  });

  test("an outgoing app that throws is skipped and the message is still sent", async () => {
    class Throws extends AppBase {
      override outgoing(): boolean {
        throw new Error("boom");
      }
    }
    const port = new MemoryPort();
    const msg = await new Router({ apps: [Throws], port }).send("hi", connection);
    assert.equal(msg.processed, true);
    assert.equal(port.enqueued.length, 1);
  });

  test("sending to no connection is refused; a connection given twice counts once", async () => {
    const port = new MemoryPort();
    const router = new Router({ port });
    await assert.rejects(router.send("hello", []), /at least one connection/);
    const msg = await router.send("hello", [connection, connection]);
    assert.deepEqual(msg.connections, [connection]);
  });

  test("a router with no port says how to get one", async () => {
    await assert.rejects(new Router().receive("x", connection), /not connected to a pipeline: build it with createSystem/);
  });
});

describe("module-level API", () => {
  test("getRouter throws until a router is set; receive, send and lookupConnections use the one set", async () => {
    setRouter(undefined);
    assert.throws(() => getRouter(), /no router is running/);
    const port = new MemoryPort();
    const router = new Router({ port });
    setRouter(router);
    try {
      assert.equal(getRouter(), router);
      const [found] = await lookupConnections("mockbackend", [1112223333]);
      assert.deepEqual([found.backend, found.identity], ["mockbackend", "1112223333"]);
      await send("out", found);
      await receive("in", found);
      assert.deepEqual(
        port.enqueued.map((e) => e.msg.text),
        ["out"],
      );
      assert.deepEqual(
        port.accepted.map((m) => m.text),
        ["in"],
      );
    } finally {
      setRouter(undefined);
    }
  });
});
