import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../config/resolve.ts";
import { createSystem } from "../system.ts";
import { parseSamples, sampleValue } from "../../test/support/prometheus-text.ts";
import { REDIS_MISSING, startRedis } from "../../test/support/redis.ts";
import { testDatabase } from "../../test/support/test-database.ts";
import { createServer } from "./server.ts";

const TOKEN = "metrics-test-token-0123456789";

async function serve(extra: Record<string, unknown>) {
  const system = await createSystem(
    await resolveConfig({ installedBackends: { http: { engine: "http" } }, apps: ["echo"], database: testDatabase(), ...extra }),
  );
  const app = await createServer(system);
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await system.close();
    },
  };
}

test("GET /metrics without an API token answers loopback clients, in Prometheus's text format", async () => {
  const { app, close } = await serve({});
  try {
    await app.inject({ method: "GET", url: "/backend/http/?identity=1001&text=hello" });
    const response = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "127.0.0.1" });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    const samples = parseSamples(response.body);
    assert.equal(sampleValue(samples, "rapidsms_inbound_requests_total", { backend: "http", outcome: "accepted" }), 1);
    const remote = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "203.0.113.9" });
    assert.equal(remote.statusCode, 403, "a client elsewhere, with no token configured");
  } finally {
    await close();
  }
});

test("GET /metrics with an API token wants it as a Bearer token (401 without), as /api does", async () => {
  const { app, close } = await serve({ apiToken: TOKEN });
  try {
    const without = await app.inject({ method: "GET", url: "/metrics" });
    assert.equal(without.statusCode, 401);
    assert.match(without.body, /Authorization: Bearer/);
    assert.equal((await app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer wrong-token-0123456789" } })).statusCode, 401);
    const withToken = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: "203.0.113.9" });
    assert.equal(withToken.statusCode, 200);
    assert.ok(!withToken.body.includes(TOKEN), "the token is in no series");
  } finally {
    await close();
  }
});

test("with metrics: false there is no /metrics (404)", async () => {
  const { app, close } = await serve({ metrics: false });
  try {
    assert.equal((await app.inject({ method: "GET", url: "/metrics" })).statusCode, 404);
  } finally {
    await close();
  }
});

test("with a Redis queue, /metrics has BullMQ's job counts for the inbound queue and each backend's send queue", { skip: REDIS_MISSING }, async () => {
  const redis = await startRedis();
  const { app, close } = await serve({ queue: redis.url });
  try {
    const response = await app.inject({ method: "GET", url: "/metrics" });
    assert.equal(response.statusCode, 200);
    const samples = parseSamples(response.body);
    for (const queue of ["rapidsms-inbound", "rapidsms-send-http"]) {
      for (const state of ["waiting", "active", "delayed", "failed"]) {
        assert.equal(typeof sampleValue(samples, "rapidsms_queue_jobs", { queue, state }), "number", `${queue} ${state}`);
      }
    }
    assert.equal(sampleValue(samples, "rapidsms_metrics_source_up", { source: "queue" }), 1);
  } finally {
    await close();
    await redis.stop();
  }
});
