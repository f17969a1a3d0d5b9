import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { FakeGateway } from "./support/fake-gateway.ts";
import { parseSamples, type Sample, sampleValue } from "./support/prometheus-text.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

const API_TOKEN = "metrics-e2e-api-token-0123456789";
const INBOUND_TOKEN = "metrics-e2e-inbound-token-0123";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-metrics-e2e-"));
const gateway = new FakeGateway();
let server: ServerProcess;
/** Identity 1002's first send is answered 503 (a retry), 1003's every send 400 (permanent). */
const tries = new Map<string, number>();

before(async () => {
  await gateway.listen();
  gateway.respond = (request) => {
    const identity = new URLSearchParams(request.body).get("identity") ?? "";
    const n = (tries.get(identity) ?? 0) + 1;
    tries.set(identity, n);
    if (identity === "1002" && n === 1) return { status: 503, body: "busy", contentType: "text/plain" };
    if (identity === "1003") return { status: 400, body: "no such number", contentType: "text/plain" };
    return { status: 200, body: `ID:gw${identity}`, contentType: "text/plain" };
  };
  const configPath = join(dir, "rapidsms.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      installedBackends: {
        gw: {
          engine: "http",
          sendUrl: `${gateway.url}/send`,
          params: { externalIdName: "id" },
          messageIdPattern: "ID:(\\w+)",
          status: { idName: "id", statusName: "status" },
          inboundToken: INBOUND_TOKEN,
        },
      },
      apps: ["echo"],
      database: `sqlite:${join(dir, "rapidsms.db")}`,
      apiToken: API_TOKEN,
      pipeline: { pollMs: 20, baseDelayMs: 50, maxDelayMs: 100 },
    }),
  );
  server = await startServer(configPath);
});

after(async () => {
  server?.child.kill("SIGTERM");
  await server?.exited;
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

const inbound = (query: Record<string, string>) => fetch(`${server.url}/backend/gw/?${new URLSearchParams(query)}`);

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  assert.equal(response.status, 200);
  return parseSamples(await response.text());
}

async function scrapeUntil(done: (samples: Sample[]) => boolean, what: string): Promise<Sample[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const samples = await scrape();
    if (done(samples)) return samples;
    if (Date.now() > deadline)
      throw new Error(
        `/metrics never showed ${what}:\n${samples
          .filter((s) => s.name.startsWith("rapidsms_"))
          .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
          .join("\n")}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("/metrics through the running server: inbound outcomes, processing, sends (sent, retry, failed), gateway times, delivery reports, backlog, store calls, the process", async () => {
  const token = INBOUND_TOKEN;
  assert.equal((await inbound({ identity: "1001", text: "echo one", id: "m1", token })).status, 200);
  assert.equal((await inbound({ identity: "1001", text: "echo one", id: "m1", token })).status, 200, "the same gateway id again");
  assert.equal((await inbound({ identity: "1002", text: "echo two", id: "m2", token })).status, 200);
  assert.equal((await inbound({ identity: "1003", text: "echo three", id: "m3", token })).status, 200);
  assert.equal((await inbound({ identity: "1004", id: "m4", token })).status, 400, "no text");
  assert.equal((await inbound({ identity: "1005", text: "echo five", id: "m5" })).status, 403, "no inbound token");

  const sends = (samples: Sample[], outcome: string) => sampleValue(samples, "rapidsms_sends_total", { backend: "gw", outcome }) ?? 0;
  await scrapeUntil((s) => sends(s, "sent") === 2 && sends(s, "failed") === 1, "two replies sent and one failed");
  const report = await fetch(`${server.url}/backend/gw/status/?${new URLSearchParams({ id: "gw1001", status: "DELIVERED", token })}`);
  assert.equal(report.status, 200);
  const early = await fetch(`${server.url}/backend/gw/status/?${new URLSearchParams({ id: "gw-unknown", status: "DELIVERED", token })}`);
  assert.equal(early.status, 200, "a report for an id no send has brought yet is kept");

  const samples = await scrapeUntil((s) => sampleValue(s, "rapidsms_delivery_reports_total", { backend: "gw", status: "kept" }) === 1, "the kept report");
  const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);
  const inboundOf = (outcome: string) => value("rapidsms_inbound_requests_total", { backend: "gw", outcome });
  assert.deepEqual(["accepted", "duplicate", "invalid", "refused"].map(inboundOf), [3, 1, 1, 1]);
  assert.equal(value("rapidsms_messages_processed_total", { status: "R" }), 3);
  assert.equal(value("rapidsms_messages_processed_total", { status: "E" }), undefined);
  assert.deepEqual(
    ["sent", "retry", "failed", "opted_out"].map((outcome) => sends(samples, outcome)),
    [2, 1, 1, 0],
  );
  assert.equal(value("rapidsms_gateway_answer_seconds_count", { backend: "gw" }), 4, "one per send call");
  assert.equal(value("rapidsms_send_latency_seconds_count", { backend: "gw" }), 4, "one per attempt recorded");
  assert.equal(value("rapidsms_delivery_reports_total", { backend: "gw", status: "D" }), 1);
  assert.equal(value("rapidsms_inbound_queued"), 0);
  assert.equal(value("rapidsms_transmissions_due"), 0);
  assert.equal(value("rapidsms_transmissions_oldest_due_seconds"), 0);
  assert.equal(value("rapidsms_metrics_source_up", { source: "store" }), 1);
  assert.ok((value("rapidsms_store_call_seconds_count", { method: "acceptIncoming" }) ?? 0) >= 4, "every accept went through the store");
  assert.ok((value("rapidsms_store_call_seconds_count", { method: "recordAttempts" }) ?? 0) >= 4);
  assert.equal(value("rapidsms_queue_jobs", { queue: "send", state: "active" }), 0);
  assert.ok((value("process_cpu_seconds_total") ?? 0) > 0, "the Node process metrics");
  assert.ok(
    samples.every((s) => s.labels.role === "all"),
    "each series names the process's role",
  );
  assert.ok(!samples.some((s) => JSON.stringify(s.labels).includes(INBOUND_TOKEN)), "no secret in a label");

  const refused = await fetch(`${server.url}/metrics`);
  assert.equal(refused.status, 401, "the API token is wanted");
});

test("a worker started with --metrics-port serves its own /metrics (labelled role=worker) and /healthz; a web process refuses the option", async () => {
  const configPath = join(dir, "worker.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send` } },
      apps: ["echo"],
      database: `sqlite:${join(dir, "worker.db")}`,
      apiToken: API_TOKEN,
      pipeline: { inboundConcurrency: 3, sendConcurrency: 5 },
    }),
  );
  const worker = await startServer(configPath, 0, {}, "worker", ["--metrics-port", "0"]);
  try {
    assert.ok(worker.port > 0, worker.output());
    const response = await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    assert.equal(response.status, 200);
    const samples = parseSamples(await response.text());
    assert.equal(sampleValue(samples, "rapidsms_queue_jobs", { queue: "inbound", state: "free" }), 3);
    assert.equal(sampleValue(samples, "rapidsms_queue_jobs", { queue: "send", state: "free" }), 5);
    assert.ok(
      samples.every((s) => s.labels.role === "worker"),
      "labelled by role",
    );
    assert.equal((await fetch(`${worker.url}/metrics`)).status, 401);
    const health = await fetch(`${worker.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).role, "worker");
    assert.equal((await fetch(`${worker.url}/backend/gw/?identity=1&text=hi`)).status, 404, "a worker takes no inbound traffic");
  } finally {
    worker.child.kill("SIGTERM");
    await worker.exited;
  }
  await assert.rejects(startServer(configPath, 0, {}, "web", ["--metrics-port", "0"]), /--metrics-port is for --role worker/);
});
