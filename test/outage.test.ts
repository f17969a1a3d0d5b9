import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";
import { createSystem } from "../src/system.ts";
import { FakeGateway } from "./support/fake-gateway.ts";

const MESSAGES = 50;

test("a gateway that answers 503, then refuses connections, then recovers: every message ends S, none E, with backoff between attempts", {
  timeout: 60_000,
}, async (t) => {
  const gateway = new FakeGateway();
  await gateway.listen();
  const config = await resolveConfig({
    installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send`, timeoutMs: 2_000 } },
    database: "sqlite::memory:",
    pipeline: { pollMs: 20, baseDelayMs: 100, maxDelayMs: 800, maxAttempts: 15 },
  });
  const system = await createSystem(config);
  const started = Date.now();
  const timeline: string[] = [];
  const mark = (what: string) => timeline.push(`${Date.now() - started} ms: ${what}`);

  gateway.status = 503;
  gateway.answer = "Service Unavailable";
  mark("gateway answers 503");
  const ids: string[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const connections = await system.router.lookupConnections("gw", [String(5_000 + i)]);
    ids.push((await system.router.send(`alert ${i}`, connections)).id);
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const during503 = gateway.requests.length;
  await gateway.close();
  mark(`gateway refuses connections (${during503} requests answered 503 so far)`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  gateway.status = 200;
  gateway.answer = "OK";
  await gateway.listen();
  mark("gateway recovers");
  await system.pipeline.idle();
  mark("all messages final");

  const records = await Promise.all(ids.map((id) => system.store.getMessage(id)));
  assert.deepEqual(
    records.map((r) => r?.status),
    ids.map(() => "S"),
  );
  const details = await Promise.all(records.map((r) => system.store.getTransmission(r!.transmissions[0].id)));
  for (const detail of details) {
    const log = detail!.attemptLog;
    assert.ok(log.length >= 3, `at least 3 attempts for ${detail!.identity}, got ${log.length}`);
    assert.deepEqual(
      log.map((a) => a.outcome),
      [...log.slice(0, -1).map(() => "retry"), "S"],
    );
    // Retry n waits at least half its exponential step: 50, 100, 200, 400, 400… ms here.
    const gaps = log.slice(1).map((a, i) => Date.parse(a.at) - Date.parse(log[i].at));
    for (const [i, gap] of gaps.entries())
      assert.ok(gap >= Math.min(800, 100 * 2 ** i) / 2 - 5, `gap ${i + 1} of ${gaps.join(", ")} ms is shorter than its backoff`);
  }
  const errors = new Set(
    details
      .flatMap((d) => d!.attemptLog.map((a) => a.error ?? ""))
      .filter(Boolean)
      .map((e) => e.replace(/\d+ ms/g, "")),
  );
  assert.ok(
    [...errors].some((e) => /answered 503/.test(e)),
    "503s were recorded",
  );
  assert.ok(
    [...errors].some((e) => /unreachable/.test(e)),
    "refused connections were recorded",
  );
  const attempts = details.map((d) => d!.attemptLog.length);
  t.diagnostic(`timeline: ${timeline.join("; ")}`);
  t.diagnostic(`attempts per message: min ${Math.min(...attempts)}, max ${Math.max(...attempts)}; gateway requests ${gateway.requests.length}`);
  t.diagnostic(`first message's attempts: ${details[0]!.attemptLog.map((a) => `${a.outcome}@${Date.parse(a.at) - started}ms`).join(", ")}`);
  await system.close();
  await gateway.close();
});
