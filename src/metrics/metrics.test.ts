import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSamples, sampleValue } from "../../test/support/prometheus-text.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { storeThread } from "../store/sqlite-thread.ts";
import { openStore } from "../store/open.ts";
import { sendOutcomeLabel } from "./labels.ts";
import { NoMetrics, PrometheusMetrics } from "./metrics.ts";
import { timedStore } from "./timed-store.ts";

const none = { inboundQueued: 0, inboundOldestSeconds: 0, transmissionsDue: 0, oldestDueSeconds: 0 };

async function scrape(metrics: PrometheusMetrics, timeoutMs?: number) {
  const { contentType, body } = await metrics.render(timeoutMs);
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  return parseSamples(body);
}

test("metrics: each count lands in its series, labelled by backend and outcome, with the process's role on every series", async () => {
  const metrics = new PrometheusMetrics({ role: "worker", processMetrics: false });
  metrics.inbound("kannel", "accepted");
  metrics.inbound("kannel", "accepted");
  metrics.inbound("kannel", "duplicate");
  metrics.inbound("vumi", "refused");
  metrics.processed("R");
  metrics.processed("retry");
  metrics.sent("kannel", "sent", 0.02);
  metrics.sent("kannel", "opted_out", 0.004);
  metrics.gatewayAnswer("kannel", 0.3);
  metrics.gatewayAnswer("kannel", 45);
  metrics.report("kannel", "D");
  metrics.report("kannel", "unmatched");
  metrics.watch({ queueDepth: async () => ({ inboundQueued: 4, inboundOldestSeconds: 12.5, transmissionsDue: 3, oldestDueSeconds: 61 }) });
  const samples = await scrape(metrics);
  const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);
  assert.equal(value("rapidsms_inbound_requests_total", { backend: "kannel", outcome: "accepted" }), 2);
  assert.equal(value("rapidsms_inbound_requests_total", { backend: "kannel", outcome: "duplicate" }), 1);
  assert.equal(value("rapidsms_inbound_requests_total", { backend: "vumi", outcome: "refused" }), 1);
  assert.equal(value("rapidsms_inbound_requests_total", { backend: "vumi", outcome: "accepted" }), undefined, "no series for what never happened");
  assert.equal(value("rapidsms_messages_processed_total", { status: "R" }), 1);
  assert.equal(value("rapidsms_messages_processed_total", { status: "retry" }), 1);
  assert.equal(value("rapidsms_sends_total", { backend: "kannel", outcome: "sent" }), 1);
  assert.equal(value("rapidsms_sends_total", { backend: "kannel", outcome: "opted_out" }), 1);
  assert.equal(value("rapidsms_send_latency_seconds_count", { backend: "kannel" }), 2);
  assert.equal(value("rapidsms_send_latency_seconds_bucket", { backend: "kannel", le: "0.005" }), 1);
  assert.equal(value("rapidsms_send_latency_seconds_bucket", { backend: "kannel", le: "0.025" }), 2);
  assert.equal(value("rapidsms_gateway_answer_seconds_bucket", { backend: "kannel", le: "0.25" }), 0);
  assert.equal(value("rapidsms_gateway_answer_seconds_bucket", { backend: "kannel", le: "0.5" }), 1);
  assert.equal(value("rapidsms_gateway_answer_seconds_bucket", { backend: "kannel", le: "30" }), 1, "buckets reach a slow gateway's 30 s");
  assert.equal(value("rapidsms_gateway_answer_seconds_bucket", { backend: "kannel", le: "+Inf" }), 2, "past the last bucket");
  assert.equal(value("rapidsms_gateway_answer_seconds_count", { backend: "kannel" }), 2);
  assert.equal(value("rapidsms_gateway_answer_seconds_sum", { backend: "kannel" }), 45.3);
  assert.equal(value("rapidsms_delivery_reports_total", { backend: "kannel", status: "D" }), 1);
  assert.equal(value("rapidsms_delivery_reports_total", { backend: "kannel", status: "unmatched" }), 1);
  assert.equal(value("rapidsms_inbound_queued"), 4);
  assert.equal(value("rapidsms_inbound_oldest_seconds"), 12.5);
  assert.equal(value("rapidsms_transmissions_due"), 3);
  assert.equal(value("rapidsms_transmissions_oldest_due_seconds"), 61);
  assert.equal(value("rapidsms_metrics_source_up", { source: "store" }), 1);
  assert.ok(
    samples.every((s) => s.labels.role === "worker"),
    "every series has the role",
  );
});

test("metrics: two systems in one process count apart (no global registry), and the process metrics have their standard names", async () => {
  const a = new PrometheusMetrics({ role: "all" });
  const b = new PrometheusMetrics({ role: "all" });
  a.inbound("http", "accepted");
  const [inA, inB] = [await scrape(a), await scrape(b)];
  assert.equal(sampleValue(inA, "rapidsms_inbound_requests_total", { backend: "http" }), 1);
  assert.equal(sampleValue(inB, "rapidsms_inbound_requests_total", { backend: "http" }), undefined);
  assert.ok(sampleValue(inA, "process_cpu_seconds_total") !== undefined, "process_cpu_seconds_total");
  assert.ok(sampleValue(inA, "nodejs_eventloop_lag_seconds") !== undefined, "nodejs_eventloop_lag_seconds");
});

test("metrics: a scrape whose sources hang answers in time, the store marked down and its gauges NaN rather than stale", async () => {
  const metrics = new PrometheusMetrics({ role: "all", processMetrics: false });
  let depth = { ...none, inboundQueued: 7 };
  let hang = false;
  metrics.watch({
    queueDepth: () => (hang ? new Promise(() => {}) : Promise.resolve(depth)),
    queueJobs: () => (hang ? Promise.reject(new Error("Redis is gone")) : Promise.resolve([{ queue: "rapidsms-inbound", state: "waiting", count: 2 }])),
  });
  let samples = await scrape(metrics);
  assert.equal(sampleValue(samples, "rapidsms_inbound_queued"), 7);
  assert.equal(sampleValue(samples, "rapidsms_queue_jobs", { queue: "rapidsms-inbound", state: "waiting" }), 2);
  hang = true;
  depth = { ...none, inboundQueued: 9 };
  samples = await scrape(metrics, 50);
  assert.equal(sampleValue(samples, "rapidsms_metrics_source_up", { source: "store" }), 0);
  assert.equal(sampleValue(samples, "rapidsms_metrics_source_up", { source: "queue" }), 0);
  assert.ok(Number.isNaN(sampleValue(samples, "rapidsms_inbound_queued")), "not the last value");
  assert.equal(sampleValue(samples, "rapidsms_queue_jobs", { queue: "rapidsms-inbound" }), undefined, "no stale queue counts");
});

test("metrics: a send's outcome is sent, retry, failed or opted_out (the opt-out check's `opted out`, a gateway's RECIPIENT_OPTED_OUT)", () => {
  assert.equal(sendOutcomeLabel({ status: "S" }), "sent");
  assert.equal(sendOutcomeLabel({ status: "Q", error: "kannel: 503" }), "retry");
  assert.equal(sendOutcomeLabel({ status: "E", error: "kannel: 400 bad number" }), "failed");
  assert.equal(sendOutcomeLabel({ status: "E", error: "opted out" }), "opted_out");
  assert.equal(
    sendOutcomeLabel({ status: "E", error: "twilio could not send to 111: 21610 (RECIPIENT_OPTED_OUT: the recipient opted out; not retried)" }),
    "opted_out",
  );
  assert.equal(sendOutcomeLabel({ status: "E", error: "the recipient opted out of nothing" }), "failed", "only the exact text or the code");
});

test("metrics: the timed store times each method by name, answers and fails as the store does, and is still known as the store's thread", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-metrics-"));
  const metrics = new PrometheusMetrics({ role: "all", processMetrics: false });
  const inThread = openStore(`sqlite:${join(dir, "timed.db")}`);
  const store = timedStore(inThread, metrics);
  try {
    await store.migrate();
    metrics.watch({ queueDepth: () => store.queueDepth() });
    assert.deepEqual(await store.queueDepth(), none);
    assert.ok(storeThread(store), "the thread behind it is found through the wrapper");
    assert.equal(storeThread(store), storeThread(inThread));
    assert.equal(store.appData().dialect, "sqlite", "what it does not time, it inherits");
    const samples = await scrape(metrics);
    assert.equal(sampleValue(samples, "rapidsms_store_call_seconds_count", { method: "migrate" }), 1);
    assert.equal(sampleValue(samples, "rapidsms_store_call_seconds_count", { method: "queueDepth" }), 2, "its own call and the scrape's");
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(store.getMessage("x"), "a closed store's refusal comes through");
  const samples = await scrape(metrics);
  assert.equal(sampleValue(samples, "rapidsms_store_call_seconds_count", { method: "getMessage" }), 1, "a failed call is timed too");
});

test("metrics: with metrics off, the store is not wrapped and nothing is served", async () => {
  const store = openSqliteStore(":memory:");
  const off = new NoMetrics();
  assert.equal(timedStore(store, off), store);
  off.inbound();
  off.sent();
  assert.deepEqual(await off.render(), { contentType: "text/plain; charset=utf-8", body: "" });
  await store.close();
});
