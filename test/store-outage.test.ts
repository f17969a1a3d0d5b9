// The database goes away under a running server: gateways must get an answer they retry (503),
// never a 500 and never a 200 for a message that was not committed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";
import { createServer } from "../src/server/server.ts";
import { createSystem } from "../src/system.ts";
import { POSTGRES_MISSING, startPostgres } from "./support/postgres.ts";

test("PostgreSQL stops: inbound gets a 503 with Retry-After, the API too, and /healthz says so", { skip: POSTGRES_MISSING }, async () => {
  const postgres = await startPostgres();
  const config = await resolveConfig({ installedBackends: { http: { engine: "http" } }, database: await postgres.createDatabase("outage") });
  const system = await createSystem(config, undefined, "web");
  const app = await createServer(system);
  try {
    assert.equal((await app.inject({ url: "/backend/http/?identity=1&text=before" })).statusCode, 200);
    await postgres.stop();
    for (const request of [
      { url: "/backend/http/?identity=1&text=during" },
      { method: "POST" as const, url: "/api/messages", payload: { backend: "http", identities: ["1"], text: "during" } },
    ]) {
      const response = await app.inject(request);
      assert.equal(response.statusCode, 503, `${request.url}: ${response.body}`);
      assert.equal(response.headers["retry-after"], "1");
      assert.match(response.body, /not available for now; try again/);
    }
    const health = await app.inject({ url: "/healthz" });
    assert.equal(health.statusCode, 503);
    assert.equal(health.json().store, "unreachable");
  } finally {
    await app.close();
    await system.close().catch(() => undefined);
  }
});
