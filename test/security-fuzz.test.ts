// Generated requests, thousands per endpoint, at every inbound and API route of a server on the
// production store (SQLite in its thread): no 5xx, and the server still healthy afterwards. The
// long run (20,000 per endpoint) is `node bench/fuzz.ts`; its figures are in docs/security.md.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../src/config/resolve.ts";
import { createServer } from "../src/server/server.ts";
import { createSystem, type System } from "../src/system.ts";
import { ENDPOINTS, FUZZ_CONFIG, fuzzEndpoint } from "./support/fuzz.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
const dir = mkdtempSync(join(tmpdir(), "rapidsms-fuzz-"));
let system: System;
let app: FastifyInstance;

before(async () => {
  system = await createSystem(await resolveConfig({ ...FUZZ_CONFIG, database: `sqlite:${join(dir, "fuzz.db")}` }), undefined, "web");
  app = await createServer(system);
});

after(async () => {
  await app.close();
  await system.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`${RUNS} generated requests per endpoint`, () => {
  for (const endpoint of ENDPOINTS) {
    test(`${endpoint.name}: never a 5xx`, async (t) => {
      const result = await fuzzEndpoint(app, endpoint, RUNS);
      const statuses = [...result.statuses]
        .sort(([a], [b]) => a - b)
        .map(([status, n]) => `${status}×${n}`)
        .join(" ");
      t.diagnostic(`${result.requests} requests in ${Math.round(result.ms)} ms: ${statuses}`);
      assert.equal(result.failure, undefined, `a 5xx: ${JSON.stringify(result.failure, null, 1)?.slice(0, 2_000)}`);
    });
  }

  test("afterwards the server is healthy and accepts a valid message", async () => {
    assert.equal((await app.inject({ url: "/healthz" })).statusCode, 200);
    const response = await app.inject({ method: "POST", url: "/backend/http/", payload: { identity: "1112223333", text: "still here" } });
    assert.equal(response.statusCode, 200);
    assert.equal((await system.store.listMessages({ identity: "1112223333", direction: "I" }))[0]?.text, "still here");
  });
});
