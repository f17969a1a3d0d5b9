import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../config/resolve.ts";
import { createSystem, type System } from "../system.ts";
import { testDatabase } from "../../test/support/test-database.ts";
import { createServer } from "./server.ts";

const TOKEN = "t0ken-with-enough-characters";

async function start(apiToken: string | null = null) {
  const config = await resolveConfig({
    installedBackends: { db: { engine: "database" }, other: { engine: "database" }, tester: { engine: "httptester" } },
    apps: ["echo"],
    database: testDatabase(),
    pipeline: { pollMs: 10, baseDelayMs: 10, maxDelayMs: 20 },
    apiToken,
  });
  const system = await createSystem(config);
  const app = await createServer(system);
  return { system, app };
}

describe("/api without a token", () => {
  let system: System;
  let app: FastifyInstance;
  before(async () => ({ system, app } = await start()));
  after(async () => {
    await app.close();
    await system.close();
  });

  test("POST /api/messages queues the message, answers 202 with its id, and it is sent", async () => {
    const response = await app.inject({ method: "POST", url: "/api/messages", payload: { backend: "db", identities: ["111", "222"], text: "hello" } });
    assert.equal(response.statusCode, 202);
    const body = response.json();
    assert.deepEqual(body, { id: body.id, status: "P", transmissions: 2 });
    assert.equal(response.headers.location, `/api/messages/${body.id}`);
    await system.pipeline.idle();
    const detail = (await app.inject({ url: `/api/messages/${body.id}` })).json();
    assert.equal(detail.status, "S");
    assert.equal(detail.direction, "O");
    assert.deepEqual(
      detail.transmissions.map((t: { identity: string; status: string }) => [t.identity, t.status]),
      [
        ["111", "S"],
        ["222", "S"],
      ],
    );
    assert.deepEqual(
      detail.transmissions[0].attemptLog.map((a: { attempt: number; outcome: string }) => [a.attempt, a.outcome]),
      [[1, "S"]],
    );
    assert.deepEqual([detail.recipients, detail.nextRecipients], [{ total: 2, Q: 0, R: 0, P: 0, S: 2, D: 0, E: 0 }, null], "every recipient, counted");
    assert.equal(await system.store.countBackendMessages({ name: "db", direction: "O" }), 2);
  });

  test("POST /api/messages takes connections on several backends", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/api/messages",
      payload: {
        connections: [
          { backend: "db", identity: "1" },
          { backend: "other", identity: "2" },
        ],
        text: "hi",
      },
    });
    assert.equal(response.statusCode, 202);
    await system.pipeline.idle();
    const detail = (await app.inject({ url: `/api/messages/${response.json().id}` })).json();
    assert.deepEqual(
      detail.transmissions.map((t: { backend: string }) => t.backend),
      ["db", "other"],
    );
  });

  const invalid: [string, unknown, RegExp][] = [
    ["no text", { backend: "db", identities: ["1"] }, /text/],
    ["no recipients", { text: "x" }, /give one of `backend` and `identities`, `connections`, or `group`/],
    ["both forms of recipients", { text: "x", backend: "db", identities: ["1"], connections: [{ backend: "db", identity: "2" }] }, /not both/],
    ["an empty identity", { text: "x", backend: "db", identities: [" "] }, /identities\.0/],
    ["an unknown key", { text: "x", backend: "db", identities: ["1"], priority: 9 }, /priority/],
    ["a backend that is not installed", { text: "x", backend: "nope", identities: ["1"] }, /backend "nope" is not installed; installed: db, other, tester/],
  ];
  for (const [name, payload, reason] of invalid) {
    test(`POST /api/messages with ${name} is a 400 that says why`, async () => {
      const response = await app.inject({ method: "POST", url: "/api/messages", payload: payload as object });
      assert.equal(response.statusCode, 400);
      assert.match(response.json().error, reason);
    });
  }

  test("POST /api/messages with a body that is not JSON is a 400 in JSON", async () => {
    const response = await app.inject({ method: "POST", url: "/api/messages", headers: { "content-type": "application/json" }, payload: "{nope" });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error, /bad request/);
  });

  test("GET /api/messages/:id of an unknown id is a 404", async () => {
    const response = await app.inject({ url: "/api/messages/unknown" });
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), { error: "no message with id unknown" });
  });

  test("GET /api/messages filters by identity, backend, direction and status, and pages with next", async () => {
    const [connection] = await system.router.lookupConnections("tester", ["555"]);
    await system.router.receive("echo one", connection);
    await system.router.receive("echo two", connection);
    await system.pipeline.idle();
    const inbound = (await app.inject({ url: "/api/messages?identity=555&direction=I" })).json();
    assert.deepEqual(
      inbound.messages.map((m: { text: string }) => m.text),
      ["echo two", "echo one"],
    );
    assert.equal(inbound.next, null);
    const replies = (await app.inject({ url: "/api/messages?backend=tester&direction=O&status=S" })).json();
    assert.deepEqual(
      replies.messages.map((m: { text: string }) => m.text),
      ["two", "one"],
    );
    const first = (await app.inject({ url: "/api/messages?identity=555&limit=3" })).json();
    assert.equal(first.messages.length, 3);
    const second = (await app.inject({ url: `/api/messages?identity=555&limit=3&before=${first.next}` })).json();
    assert.equal(second.messages.length, 1);
    assert.equal(second.next, null);
    assert.equal((await app.inject({ url: "/api/messages?status=X" })).statusCode, 400);
  });

  test("without a token, the API refuses clients that are not on loopback", async () => {
    const response = await app.inject({ url: "/api/messages", remoteAddress: "192.0.2.10" });
    assert.equal(response.statusCode, 403);
    assert.match(response.json().error, /RAPIDSMS_API_TOKEN/);
  });

  test("the OpenAPI document describes the message endpoints", async () => {
    const response = await app.inject({ url: "/api/openapi.json", remoteAddress: "192.0.2.10" });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.equal(document.openapi, "3.1.0");
    assert.deepEqual(Object.keys(document.paths), [
      "/api/messages",
      "/api/messages/{id}",
      "/api/messages/stats",
      "/api/messages.csv",
      "/api/contacts",
      "/api/contacts/{id}",
      "/api/groups",
      "/api/groups/{id}",
      "/api/groups/{id}/members",
      "/api/opt-outs",
      "/api/opt-outs/{backend}/{identity}",
    ]);
    assert.deepEqual(document.paths["/api/messages"].post.requestBody.content["application/json"].schema.required, ["text"]);
  });
});

describe("/api with a token", () => {
  let system: System;
  let app: FastifyInstance;
  before(async () => ({ system, app } = await start(TOKEN)));
  after(async () => {
    await app.close();
    await system.close();
  });
  const payload = { backend: "db", identities: ["1"], text: "x" };

  test("a request without the token is a 401 asking for a bearer token", async () => {
    const response = await app.inject({ method: "POST", url: "/api/messages", payload });
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers["www-authenticate"]), /^Bearer/);
  });

  test("a request with a wrong token is a 401, from loopback too", async () => {
    const response = await app.inject({ method: "POST", url: "/api/messages", payload, headers: { authorization: "Bearer wrong" } });
    assert.equal(response.statusCode, 401);
    assert.doesNotMatch(response.body, new RegExp(TOKEN));
  });

  test("a request with the token is served from anywhere", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/api/messages",
      payload,
      headers: { authorization: `Bearer ${TOKEN}` },
      remoteAddress: "192.0.2.10",
    });
    assert.equal(response.statusCode, 202);
  });

  test("contacts and groups need the token as every /api route does", async () => {
    for (const url of ["/api/contacts", "/api/groups", "/api/contacts/1", "/api/groups/1/members"]) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 401, url);
    }
    const created = await app.inject({ method: "POST", url: "/api/groups", payload: { name: "x" }, remoteAddress: "192.0.2.10" });
    assert.equal(created.statusCode, 401);
    const allowed = await app.inject({ url: "/api/contacts", headers: { authorization: `Bearer ${TOKEN}` }, remoteAddress: "192.0.2.10" });
    assert.equal(allowed.statusCode, 200);
  });

  test("backend endpoints do not need the API token", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/tester/", payload: { identity: "1", text: "hi" } });
    assert.equal(response.statusCode, 200);
  });
});
