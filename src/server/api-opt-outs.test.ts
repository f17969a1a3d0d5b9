import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../config/resolve.ts";
import { createSystem, type System } from "../system.ts";
import { openApiDocument } from "./openapi.ts";
import { createServer } from "./server.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-api-opt-outs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("/api/opt-outs", () => {
  let system: System;
  let app: FastifyInstance;
  before(async () => {
    const config = await resolveConfig({
      installedBackends: { sms: { engine: "database" }, other: { engine: "database" } },
      apps: ["echo"],
      database: `sqlite:${join(dir, "api.db")}`,
      pipeline: { pollMs: 10, baseDelayMs: 10, maxDelayMs: 20 },
    });
    system = await createSystem(config);
    app = await createServer(system);
  });
  after(async () => {
    await app?.close();
    await system?.close();
  });
  const call = (method: "GET" | "PUT" | "DELETE" | "POST", url: string, payload?: object) => app.inject({ method, url, payload });

  test("PUT opts out (201, then 200 keeping the first), GET says since when and why, DELETE opts back in (204, then 404)", async () => {
    const url = "/api/opt-outs/sms/%2B255700000001";
    const missing = await call("GET", url);
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: "+255700000001 on sms is not opted out", backend: "sms", identity: "+255700000001", optedOut: false });
    const put = await call("PUT", url, { reason: "asked by phone to the help desk" });
    assert.equal(put.statusCode, 201);
    const record = put.json();
    assert.deepEqual(
      { ...record, since: typeof record.since },
      { backend: "sms", identity: "+255700000001", optedOut: true, since: "string", source: "api", detail: "asked by phone to the help desk", messageId: null },
    );
    const again = await call("PUT", url);
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), record, "the first opt-out stands");
    assert.deepEqual((await call("GET", url)).json(), record);
    assert.equal((await call("GET", "/api/opt-outs/other/%2B255700000001")).statusCode, 404, "an opt-out is per backend");
    assert.equal((await call("DELETE", url)).statusCode, 204);
    assert.equal((await call("DELETE", url)).statusCode, 404);
    assert.equal((await call("GET", url)).statusCode, 404);
  });

  test("a message to an identity opted out through the API ends E 'opted out'", async () => {
    assert.equal((await call("PUT", "/api/opt-outs/sms/555")).statusCode, 201);
    const queued = await call("POST", "/api/messages", { backend: "sms", identities: ["555", "556"], text: "news" });
    assert.equal(queued.statusCode, 202);
    const record = await system.pipeline.waitForMessage(queued.json().id);
    assert.deepEqual(
      record?.transmissions.map((t) => [t.identity, t.status, t.error]),
      [
        ["555", "E", "opted out"],
        ["556", "S", null],
      ],
    );
    const detail = (await call("GET", `/api/messages/${queued.json().id}`)).json();
    assert.equal(detail.transmissions[0].error, "opted out");
  });

  test("the list pages by `after`, filters by backend, and is bounded", async () => {
    for (const identity of ["700", "701", "702"]) await call("PUT", `/api/opt-outs/other/${identity}`);
    const first = (await call("GET", "/api/opt-outs?backend=other&limit=2")).json();
    assert.deepEqual(
      first.optOuts.map((o: { identity: string }) => o.identity),
      ["700", "701"],
    );
    assert.equal(first.total, 3);
    const second = (await call("GET", `/api/opt-outs?backend=other&limit=2&after=${first.next}`)).json();
    assert.deepEqual(
      second.optOuts.map((o: { identity: string }) => o.identity),
      ["702"],
    );
    assert.equal(second.next, null);
    const tooMany = await call("GET", "/api/opt-outs?limit=100000");
    assert.equal(tooMany.statusCode, 400);
    assert.match(tooMany.json().error, /limit/);
  });

  test("an unknown backend is a 400 naming the installed ones; an identity no backend can keep is a 400 naming the field", async () => {
    for (const [method, url] of [
      ["GET", "/api/opt-outs/nosuch/1"],
      ["PUT", "/api/opt-outs/nosuch/1"],
      ["DELETE", "/api/opt-outs/nosuch/1"],
      ["GET", "/api/opt-outs?backend=nosuch"],
    ] as const) {
      const answer = await call(method, url);
      assert.equal(answer.statusCode, 400, `${method} ${url}`);
      assert.match(answer.json().error, /backend "nosuch" is not installed; installed: sms, other/);
    }
    const control = await call("PUT", "/api/opt-outs/sms/12%0A34");
    assert.equal(control.statusCode, 400);
    assert.match(control.json().error, /^invalid request: identity: /);
    // Longer than any identity a store keeps (100 characters): Fastify refuses the path itself.
    assert.equal((await call("PUT", `/api/opt-outs/sms/${"9".repeat(101)}`)).statusCode, 414);
    const badBody = await call("PUT", "/api/opt-outs/sms/1", { reason: "x".repeat(501) });
    assert.equal(badBody.statusCode, 400);
    assert.match(badBody.json().error, /reason/);
    const extra = await call("PUT", "/api/opt-outs/sms/1", { source: "keyword" });
    assert.equal(extra.statusCode, 400, "the source is the API's: a body cannot choose it");
  });

  test("a PUT needs no body, but a browser page of another site cannot make one", async () => {
    const crossSite = await app.inject({ method: "PUT", url: "/api/opt-outs/sms/800", headers: { "sec-fetch-site": "cross-site" } });
    assert.equal(crossSite.statusCode, 403);
    assert.equal((await call("GET", "/api/opt-outs/sms/800")).statusCode, 404);
    const form = await app.inject({ method: "PUT", url: "/api/opt-outs/sms/800", headers: { "content-type": "text/plain" }, payload: "x" });
    assert.equal(form.statusCode, 415);
  });

  test("the OpenAPI document describes the opt-out routes", () => {
    const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(paths["/api/opt-outs/{backend}/{identity}"]).sort(), ["delete", "get", "put"]);
    assert.ok(paths["/api/opt-outs"].get);
  });
});
