import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { BackendBase, type SendRequest, type SendResult } from "../backends/backend.ts";
import { MessageSendingError } from "../errors.ts";
import { createTestRouter, MockBackend } from "../testing/harness.ts";
import { waitFor } from "../../test/support/wait-for.ts";
import { pipelineOptionsSchema } from "./policy.ts";

/** Answers each send with the next scripted outcome: "ok", "retry", "permanent" or a list of failed identities. */
class ScriptedBackend extends BackendBase<object> {
  static override engine = "scripted";
  static override optionsSchema: z.ZodType<object> = z.object({});
  static script: (string | string[])[] = [];
  readonly calls: SendRequest[] = [];

  override async send(request: SendRequest): Promise<SendResult> {
    this.calls.push(request);
    const next = ScriptedBackend.script.shift() ?? "ok";
    if (Array.isArray(next)) throw new MessageSendingError("some failed", { failedIdentities: next, retryable: true });
    if (next === "retry") throw new MessageSendingError("gateway answered 503", { retryable: true });
    if (next === "permanent") throw new MessageSendingError("gateway answered 400", { retryable: false });
    return { answer: "0: Accepted", externalIds: Object.fromEntries(request.identities.map((i) => [i, `gw-${i}`])) };
  }
}

async function scripted(script: (string | string[])[], pipeline = {}) {
  ScriptedBackend.script = [...script];
  const t = await createTestRouter({ backends: { gw: ScriptedBackend }, pipeline });
  return { t, backend: t.backends.get("gw") as ScriptedBackend };
}

test("a retryable failure is retried with backoff until it succeeds; every attempt is recorded", async () => {
  const { t, backend } = await scripted(["retry", "retry", "ok"]);
  const msg = await t.router.send("hi", await t.connections(["111"], "gw"));
  await t.idle();
  const record = await t.store.getMessage(msg.id);
  assert.equal(record?.status, "S");
  assert.equal(backend.calls.length, 3);
  const detail = await t.store.getTransmission(record!.transmissions[0].id);
  assert.deepEqual(
    detail?.attemptLog.map((a) => [a.attempt, a.outcome]),
    [
      [1, "retry"],
      [2, "retry"],
      [3, "S"],
    ],
  );
  assert.equal(detail?.attemptLog[2].answer, "0: Accepted");
  assert.equal(detail?.externalId, "gw-111");
  const [first, second] = detail!.attemptLog;
  assert.ok(Date.parse(second.at) - Date.parse(first.at) >= 5, "the retry waited for its backoff");
  await t.close();
});

test("retries stop at maxAttempts and the transmission ends E with the reason", async () => {
  const { t, backend } = await scripted(["retry", "retry", "retry", "retry"], { maxAttempts: 3 });
  const msg = await t.router.send("hi", await t.connections(["111"], "gw"));
  await t.idle();
  const record = await t.store.getMessage(msg.id);
  assert.equal(backend.calls.length, 3);
  assert.equal(record?.status, "E");
  assert.equal(record?.transmissions[0].error, "gw encountered an error while sending: gateway answered 503 (gave up after 3 attempts)");
  await t.close();
});

test("a permanent failure is not retried", async () => {
  const { t, backend } = await scripted(["permanent"]);
  const msg = await t.router.send("hi", await t.connections(["111"], "gw"));
  await t.idle();
  assert.equal(backend.calls.length, 1);
  assert.equal((await t.store.getMessage(msg.id))?.status, "E");
  await t.close();
});

test("after a partial failure only the failed identities are retried; a sent one is never sent again", async () => {
  const { t, backend } = await scripted([["222"], "ok"]);
  const msg = await t.router.send("hi", await t.connections(["111", "222", "333"], "gw"));
  await t.idle();
  assert.deepEqual(
    backend.calls.map((c) => c.identities),
    [["111", "222", "333"], ["222"]],
  );
  const record = await t.store.getMessage(msg.id);
  assert.equal(record?.status, "S");
  assert.deepEqual(
    record?.transmissions.map((tr) => [tr.identity, tr.status, tr.attempts]),
    [
      ["111", "S", 1],
      ["222", "S", 2],
      ["333", "S", 1],
    ],
  );
  await t.close();
});

test("a message to many identities is sent in batches of batchSize per send call", async () => {
  const t = await createTestRouter({ pipeline: { batchSize: 200 } });
  const identities = Array.from({ length: 450 }, (_, i) => String(1_000 + i));
  const msg = await t.router.send("bulk", await t.connections(identities));
  await t.idle();
  assert.deepEqual(
    t.sent().map((s) => s.identities.length),
    [200, 200, 50],
  );
  assert.deepEqual(
    t
      .sent()
      .flatMap((s) => s.identities)
      .sort(),
    identities,
  );
  assert.equal((await t.store.getMessage(msg.id))?.status, "S");
  await t.close();
});

test("replies to one identity reach the backend in the order they were queued", async () => {
  class Slow extends MockBackend {
    static override engine = "slow";
    override async send(request: SendRequest) {
      await new Promise((resolve) => setTimeout(resolve, request.text === "1" ? 30 : 1));
      await super.send(request);
    }
  }
  const t = await createTestRouter({ backends: { mockbackend: Slow } });
  const [connection] = await t.connections(["111"]);
  for (const text of ["1", "2", "3"]) await t.router.send(text, connection);
  await t.idle();
  assert.deepEqual(
    t.sent().map((s) => s.text),
    ["1", "2", "3"],
  );
  await t.close();
});

test("work claimed by a process that died is claimed again once its lease runs out", async () => {
  const t = await createTestRouter({ pipeline: { leaseMs: 100 }, stopped: true });
  const [connection] = await t.connections(["111"]);
  const msg = await t.router.send("hi", connection);
  const [connection2] = await t.connections(["222"]);
  const incoming = await t.router.receive("x", connection2);
  // A dead process's claims: taken and never finished.
  const dead = { token: "dead-process#1", until: Date.now() + 100 };
  await t.store.claimTransmissions({ claim: dead, limit: 10, maxAttempts: 10 });
  await t.store.claimIncoming({ claim: dead, limit: 10, maxAttempts: 10 });
  await t.pipeline.start();
  await t.idle();
  assert.equal((await t.store.getMessage(msg.id))?.status, "S");
  assert.equal((await t.store.getMessage(incoming.id))?.status, "R");
  assert.equal(t.sent().length, 1);
  await t.close();
});

test("stopping the pipeline leaves queued work queued, and a new start picks it up", async () => {
  const t = await createTestRouter();
  await t.pipeline.stop();
  const msg = await t.router.send("later", await t.connections(["111"]));
  assert.equal((await t.store.getMessage(msg.id))?.status, "P");
  assert.equal(t.sent().length, 0);
  await t.pipeline.start();
  await t.idle();
  assert.equal((await t.store.getMessage(msg.id))?.status, "S");
  await t.close();
});

test("a redelivered gateway id is answered as a duplicate and processed once", async () => {
  const t = await createTestRouter({ stopped: true });
  const [connection] = await t.connections(["111"]);
  const first = await t.router.receive("hello", connection, { fields: { externalId: "gw-7" } });
  const again = await t.router.receive("hello", connection, { fields: { externalId: "gw-7" } });
  assert.equal(first.duplicate, false);
  assert.equal(again.duplicate, true);
  assert.equal(again.id, first.id);
  assert.equal((await t.store.listMessages({ direction: "I" })).length, 1);
  await t.pipeline.start();
  await t.close();
});

test("a backend limited in segments per second takes a slot per segment: never more segments in any second than its limit", async () => {
  const times: number[] = [];
  class Timed extends MockBackend {
    static override engine = "timed";
    override async send(request: SendRequest) {
      times.push(performance.now());
      await super.send(request);
    }
  }
  const perSecond = 10;
  const t = await createTestRouter({ backends: { mockbackend: Timed }, pipeline: { rateLimits: { mockbackend: { perSecond, count: "segments" } } } });
  const twoSegments = "x".repeat(200);
  for (let i = 0; i < 8; i++) await t.router.send(twoSegments, await t.connections([String(5_000 + i)]));
  await t.idle();
  assert.equal(times.length, 8);
  // 8 sends of 2 segments: at 10 segments a second, at most 5 of them in any second. Counted as
  // messages (a slot each), all 8 would go within 0.8 s.
  const busiest = Math.max(...times.map((at) => times.filter((u) => u >= at && u < at + 1_000).length));
  assert.ok(busiest * 2 <= perSecond, `${busiest} two-segment sends within one second, limit ${perSecond} segments`);
  await t.close();
});

test("rate limits are messages per second, or segments per second when asked", () => {
  const { rateLimits } = pipelineOptionsSchema.parse({ rateLimits: { a: 50, b: { perSecond: 10, count: "segments" }, c: { perSecond: 5 } } });
  assert.deepEqual(rateLimits, { a: { perSecond: 50, count: "messages" }, b: { perSecond: 10, count: "segments" }, c: { perSecond: 5, count: "messages" } });
  assert.throws(() => pipelineOptionsSchema.parse({ rateLimits: { a: { perSecond: 10, count: "bytes" } } }));
  assert.throws(() => pipelineOptionsSchema.parse({ rateLimits: { a: 0 } }));
});

test("a claim of more messages than the loop has places never runs more sends at once than sendConcurrency", async () => {
  let running = 0;
  let most = 0;
  class Counting extends MockBackend {
    static override engine = "counting";
    override async send(request: SendRequest) {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setImmediate(resolve));
      await super.send(request);
      running--;
    }
  }
  const t = await createTestRouter({ backends: { mockbackend: Counting }, pipeline: { sendConcurrency: 4 }, stopped: true });
  const connections = await t.connections(Array.from({ length: 300 }, (_, i) => String(7_000 + i)));
  for (const connection of connections) await t.router.send("one each", connection);
  await t.pipeline.start();
  await t.idle();
  assert.equal(t.sent().length, 300);
  assert.ok(most <= 4, `${most} sends at once`);
  await t.close();
});

test("status events: a delivery report that overtook the send's answer is told after the send, when the answer lets it land", async () => {
  class Overtaken extends BackendBase<object> {
    static override engine = "overtaken";
    static override optionsSchema: z.ZodType<object> = z.object({});
    override async send(request: SendRequest): Promise<SendResult> {
      const reported = await this.port.reportDelivery({ externalId: "gw-early" }, { status: "D", detail: "delivered" });
      assert.equal(reported.kept, true, "the report came before the answer, so it is kept");
      return { externalIds: Object.fromEntries(request.identities.map((i) => [i, "gw-early"])) };
    }
  }
  const t = await createTestRouter({ backends: { gw: Overtaken } });
  const seen: string[] = [];
  t.pipeline.events.on((change) => seen.push(`${change.identity} ${change.status}`));
  await t.router.send("hi", await t.connections(["111"], "gw"));
  await t.idle();
  assert.deepEqual(seen, ["111 queued", "111 sent", "111 delivered"]);
});

test("status events: a message cancelled while its send was under way, whose attempt then fails, is told failed with error cancelled and never sent again", async () => {
  let release: () => void = () => {};
  const answered = new Promise<void>((resolve) => (release = resolve));
  class Slow extends BackendBase<object> {
    static override engine = "slow";
    static override optionsSchema: z.ZodType<object> = z.object({});
    readonly calls: SendRequest[] = [];
    override async send(request: SendRequest): Promise<SendResult> {
      this.calls.push(request);
      await answered;
      throw new MessageSendingError("gateway answered 503", { retryable: true });
    }
  }
  const t = await createTestRouter({ backends: { gw: Slow }, pipeline: { baseDelayMs: 1, maxDelayMs: 2 } });
  const backend = t.backends.get("gw") as Slow;
  const seen: string[] = [];
  t.pipeline.events.on((change) => seen.push(`${change.identity} ${change.status} ${change.error ?? ""}`.trim()));
  const msg = await t.router.send("hi", await t.connections(["111"], "gw"));
  await waitFor("the send to start", () => backend.calls.length === 1);
  const cancel = await t.pipeline.cancelOutgoing(msg.id);
  assert.ok(cancel && cancel !== "inbound");
  assert.equal(cancel.sending, 1);
  release();
  await t.idle();
  assert.deepEqual(seen, ["111 queued", "111 failed cancelled"]);
  assert.equal(backend.calls.length, 1, "not sent again");
  const record = await t.store.getMessage(msg.id);
  assert.deepEqual([record?.status, record?.transmissions[0].error], ["E", "cancelled"]);
  await t.close();
});

/** A backend whose gateway echoes its key back in everything it answers: in the answer, the message, each recipient's error. */
class EchoingBackend extends BackendBase<{ apiKey: string }> {
  static override engine = "echoing";
  static override optionsSchema = z.object({ apiKey: z.string() });
  static override secretOptions = ["apiKey"];

  override async send(request: SendRequest): Promise<SendResult> {
    const [ok, optedOut, failed] = request.identities;
    if (request.text === "ok") return { answer: `accepted with key ${this.config.apiKey}` };
    throw new MessageSendingError(`the gateway says ${this.config.apiKey} is over quota`, {
      failedIdentities: [optedOut, failed],
      optedOutIdentities: [optedOut],
      permanentIdentities: [failed],
      identityErrors: { [optedOut]: `blacklisted for ${this.config.apiKey}`, [failed]: `bad number (${this.config.apiKey})` },
      externalIds: { [ok]: "gw-ok" },
      retryable: false,
    });
  }
}

test("what a backend records of a send never holds its secret options' values, whatever the gateway echoed", async () => {
  const key = "echoed-api-key-0123456789";
  const t = await createTestRouter({ backends: { gw: { engine: EchoingBackend, options: { apiKey: key } } } });
  try {
    const connections = await t.connections(["111", "222", "333"], "gw");
    const sent = await t.router.send("ok", connections.slice(0, 1));
    const failed = await t.router.send("fail", connections);
    await t.idle();
    const texts: string[] = [];
    for (const id of [sent.id, failed.id]) {
      for (const { id: tid } of (await t.store.getMessage(id))!.transmissions) {
        const detail = (await t.store.getTransmission(tid))!;
        texts.push(detail.error ?? "", ...detail.attemptLog.map((a) => `${a.answer ?? ""} ${a.error ?? ""}`));
      }
    }
    const all = texts.join("\n");
    assert.match(all, /accepted with key \*\*\*/);
    assert.match(all, /blacklisted for \*\*\*.*RECIPIENT_OPTED_OUT/);
    assert.match(all, /bad number \(\*\*\*\)/);
    assert.doesNotMatch(all, new RegExp(key));
  } finally {
    await t.close();
  }
});
