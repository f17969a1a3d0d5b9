import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { z } from "zod";
import { AppBase } from "../apps/app.ts";
import { EchoApp } from "../apps/echo.ts";
import { BackendBase, type SendRequest } from "../backends/backend.ts";
import type { IncomingMessage } from "../messages/messages.ts";
import type { PipelineSettings } from "../pipeline/policy.ts";
import { silentLogger } from "../logger.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { pipelineOptionsSchema } from "../pipeline/policy.ts";
import { Router } from "../router/router.ts";
import type { Store } from "../store/store.ts";
import type { Queue } from "./queue.ts";

/** Records every send with its time; sends with `fail` in the text fail once per identity. */
class RecordingBackend extends BackendBase<object> {
  static override engine = "recording";
  static override optionsSchema = z.object({});
  static sends: (SendRequest & { at: number; backend: string })[] = [];
  static failed = new Set<string>();
  static delayMs = 0;

  override async send(request: SendRequest): Promise<void> {
    if (RecordingBackend.delayMs) await new Promise((resolve) => setTimeout(resolve, RecordingBackend.delayMs));
    const key = `${request.id}:${request.identities.join(",")}`;
    if (request.text.includes("fail") && !RecordingBackend.failed.has(key)) {
      RecordingBackend.failed.add(key);
      throw new Error("gateway answered 503");
    }
    RecordingBackend.sends.push({ ...request, at: Date.now(), backend: this.name });
  }
}

export interface QueueFixture {
  store: Store;
  queue: Queue;
}

const FAST: PipelineSettings = { pollMs: 50, baseDelayMs: 20, maxDelayMs: 100, leaseMs: 2_000 };

/**
 * The behaviour every Queue must have, checked through real routers on a real store. `open`
 * gives a fresh store and a queue on it; calling it again with the same store gives another
 * process's queue on the same work.
 */
export function queueContract(name: string, open: (shared?: Store) => Promise<QueueFixture>): void {
  /** A process on the fixture's store and queue: its router and pipeline (a worker, unless `worker` is false). */
  async function router(fixture: QueueFixture, options: { apps?: (typeof AppBase)[]; pipeline?: PipelineSettings; worker?: boolean } = {}) {
    const r = new Router({ apps: options.apps ?? [EchoApp] });
    const recording = { engine: RecordingBackend, options: {} };
    const pipeline = new Pipeline({
      store: fixture.store,
      queue: fixture.queue,
      router: r,
      backends: { gw: recording, bulk: recording },
      options: pipelineOptionsSchema.parse({ ...FAST, ...options.pipeline }),
      logger: silentLogger,
    });
    const process = {
      receive: r.receive.bind(r),
      send: r.send.bind(r),
      lookupConnections: r.lookupConnections.bind(r),
      start: () => pipeline.start(),
      stop: () => pipeline.stop(),
      idle: () => pipeline.idle(),
    };
    opened.routers.push(process);
    if (!opened.fixtures.includes(fixture)) opened.fixtures.push(fixture);
    if (options.worker !== false) await pipeline.start();
    return process;
  }
  /** What the running test opened: closed after it, even when it fails (a running worker would hold the process). */
  const opened = { routers: [] as { stop(): Promise<void> }[], fixtures: [] as QueueFixture[] };
  async function cleanup() {
    for (const r of opened.routers.splice(0)) await r.stop();
    const fixtures = opened.fixtures.splice(0);
    for (const f of fixtures) await f.queue.close();
    await fixtures[0]?.store.close();
  }
  afterEach(cleanup);
  const reset = () => {
    RecordingBackend.sends = [];
    RecordingBackend.failed = new Set();
    RecordingBackend.delayMs = 0;
  };

  test(`${name}: a message accepted by a web process is processed by a worker and its reply sent`, async () => {
    reset();
    const workerSide = await open();
    const webSide = await open(workerSide.store);
    const worker = await router(workerSide);
    const web = await router(webSide, { worker: false });
    const [connection] = await web.lookupConnections("gw", ["111"]);
    const msg = await web.receive("echo hello", connection);
    await worker.idle();
    assert.equal((await workerSide.store.getMessage(msg.id))?.status, "R");
    assert.deepEqual(
      RecordingBackend.sends.map((s) => [s.backend, s.text, s.identities]),
      [["gw", "hello", ["111"]]],
    );
  });

  test(`${name}: a failed send is retried after its backoff and ends S`, async () => {
    reset();
    const fixture = await open();
    const r = await router(fixture);
    const msg = await r.send("please fail once", await r.lookupConnections("gw", ["222"]));
    await r.idle();
    const record = await fixture.store.getMessage(msg.id);
    assert.equal(record?.status, "S");
    assert.equal(record?.transmissions[0].attempts, 2);
  });

  test(`${name}: a scheduled send goes when due, not before, though the worker polls only once a minute`, { timeout: 30_000 }, async () => {
    reset();
    const fixture = await open();
    const r = await router(fixture, { pipeline: { pollMs: 60_000 } });
    const due = Date.now() + 1_500;
    const msg = await r.send("at its time", await r.lookupConnections("gw", ["333"]), { sendAt: new Date(due).toISOString() });
    assert.equal((await fixture.store.getMessage(msg.id))?.sendAt, new Date(due).toISOString());
    await r.idle();
    assert.equal(RecordingBackend.sends.length, 1);
    assert.ok(RecordingBackend.sends[0].at >= due, `sent ${due - RecordingBackend.sends[0].at} ms before its time`);
    assert.equal((await fixture.store.getMessage(msg.id))?.status, "S");
  });

  test(`${name}: two workers on the same work send each transmission once`, async () => {
    reset();
    RecordingBackend.delayMs = 2;
    const first = await open();
    const second = await open(first.store);
    const a = await router(first);
    const b = await router(second);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await (i % 2 ? a : b).send(`m${i}`, await a.lookupConnections("gw", [String(5_000 + i)]))).id);
    const [many] = [
      await a.send(
        "to many",
        await a.lookupConnections(
          "bulk",
          Array.from({ length: 450 }, (_, i) => String(10_000 + i)),
        ),
      ),
    ];
    await a.idle();
    await b.idle();
    const perIdentity = new Map<string, number>();
    for (const s of RecordingBackend.sends)
      for (const identity of s.identities) perIdentity.set(`${s.id}:${identity}`, (perIdentity.get(`${s.id}:${identity}`) ?? 0) + 1);
    assert.equal(perIdentity.size, 550);
    assert.deepEqual(
      [...perIdentity.values()].filter((n) => n > 1),
      [],
      "no transmission sent twice",
    );
    assert.ok(
      RecordingBackend.sends.filter((s) => s.id === many.id).every((s) => s.identities.length <= 200),
      "batches of at most 200",
    );
    for (const id of ids) assert.equal((await first.store.getMessage(id))?.status, "S");
  });

  test(`${name}: replies go before bulk sends waiting on the same backend`, async () => {
    reset();
    RecordingBackend.delayMs = 5;
    const fixture = await open();
    const r = await router(fixture, { pipeline: { sendConcurrency: 1 }, worker: false });
    for (let i = 0; i < 30; i++) await r.send(`bulk ${i}`, await r.lookupConnections("gw", [String(7_000 + i)]));
    await r.send("reply", await r.lookupConnections("gw", ["7999"]), { priority: 1 });
    await r.start();
    await r.idle();
    const order = RecordingBackend.sends.map((s) => s.text);
    assert.ok(order.indexOf("reply") < 3, `the reply went out at position ${order.indexOf("reply")}`);
  });

  test(`${name}: a rate-limited backend is never sent more than its limit in any second, across workers`, { timeout: 30_000 }, async () => {
    reset();
    const perSecond = 20;
    const first = await open();
    const second = await open(first.store);
    const pipeline = { rateLimits: { gw: perSecond } };
    const a = await router(first, { pipeline, worker: false });
    const b = await router(second, { pipeline, worker: false });
    for (let i = 0; i < 60; i++) await a.send(`r${i}`, await a.lookupConnections("gw", [String(8_000 + i)]));
    await Promise.all([a.start(), b.start()]);
    await a.idle();
    await b.idle();
    const times = RecordingBackend.sends.map((s) => s.at).sort((x, y) => x - y);
    // In any second (a window starting at any send), at most the limit: so 60 sends take 2 s or more.
    const busiest = Math.max(...times.map((at) => times.filter((u) => u >= at && u < at + 1_000).length));
    assert.equal(times.length, 60, "the whole backlog went, shared by both workers");
    assert.ok(busiest <= perSecond, `${busiest} sends in one second, limit ${perSecond}`);
  });

  test(`${name}: work committed to the store but never handed to the queue is still done`, async () => {
    reset();
    const fixture = await open();
    const r = await router(fixture, { pipeline: { staleAfterMs: 100 } });
    const [connection] = await r.lookupConnections("gw", ["333"]);
    // As if the web process died between its commit and telling the queue.
    await fixture.store.acceptIncoming({ message: { id: "orphan-in", text: "echo orphan", fields: {}, connection }, dedupeWindowMs: 0 });
    await fixture.store.enqueueOutgoing({
      message: { id: "orphan-out", text: "lost job", fields: {}, context: {}, inResponseTo: null, connections: [connection] },
    });
    const deadline = Date.now() + 10_000;
    while (RecordingBackend.sends.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(RecordingBackend.sends.map((s) => s.text).sort(), ["lost job", "orphan"]);
  });

  test(`${name}: an app that keeps failing ends E after maxAttempts, and the worker goes on`, async () => {
    reset();
    class Broken extends AppBase {
      override handle(msg: IncomingMessage): boolean {
        if (msg.text === "boom") throw new Error("app failed");
        msg.respond("fine");
        return true;
      }
    }
    const fixture = await open();
    const r = await router(fixture, { apps: [Broken], pipeline: { maxAttempts: 2 } });
    const [connection] = await r.lookupConnections("gw", ["444"]);
    const bad = await r.receive("boom", connection);
    const good = await r.receive("ok", connection);
    await r.idle();
    assert.equal((await fixture.store.getMessage(bad.id))?.status, "E");
    assert.equal((await fixture.store.getMessage(good.id))?.status, "R");
    assert.deepEqual(
      RecordingBackend.sends.map((s) => s.text),
      ["fine"],
    );
  });
}
