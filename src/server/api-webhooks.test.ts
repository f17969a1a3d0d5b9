import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { testDatabase } from "../../test/support/test-database.ts";
import { resolveConfig } from "../config/resolve.ts";
import { createSystem, type System } from "../system.ts";
import { createServer } from "./server.ts";

const SECRET = "api-test-secret-0123456789";

async function start(webhooks: Record<string, unknown>) {
  const config = await resolveConfig({
    installedBackends: { db: { engine: "database" } },
    apps: ["echo"],
    database: testDatabase(),
    pipeline: { pollMs: 10 },
    webhooks,
  });
  const system = await createSystem(config);
  const app = await createServer(system);
  return { system, app };
}

const started: { system: System; app: Awaited<ReturnType<typeof createServer>> }[] = [];
after(async () => {
  for (const { app, system } of started) {
    await app.close();
    await system.close();
  }
});

describe("eventUrl on POST /api/messages", () => {
  test("without webhooks.secret it is a 400 that says what to set, and nothing is queued", async () => {
    const server = await start({});
    started.push(server);
    const response = await server.app.inject({
      method: "POST",
      url: "/api/messages",
      payload: { backend: "db", identities: ["1"], text: "hi", eventUrl: "https://hooks.example.org/e" },
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error, /^invalid request: eventUrl: .*webhooks\.secret.*RAPIDSMS_WEBHOOK_SECRET/);
    assert.deepEqual(
      response.json().issues.map((i: { path: string }) => i.path),
      ["eventUrl"],
    );
    assert.equal((await server.system.store.listMessages({ direction: "O" })).length, 0);
  });

  test("a host that webhooks.allowedHosts does not list, credentials, a group, and 2 KiB are refused; an allowed one is stored and shown without its query", async () => {
    const server = await start({ secret: SECRET, allowedHosts: ["localhost"] });
    started.push(server);
    const send = (payload: Record<string, unknown>) => server.app.inject({ method: "POST", url: "/api/messages", payload: { text: "hi", ...payload } });
    const refusals: [Record<string, unknown>, RegExp][] = [
      [
        { backend: "db", identities: ["1"], eventUrl: "http://10.0.0.5/admin" },
        /eventUrl: has the host 10\.0\.0\.5, which webhooks\.allowedHosts does not list/,
      ],
      [{ backend: "db", identities: ["1"], eventUrl: "http://me:pw@localhost:9/e" }, /eventUrl: has credentials in it/],
      [{ group: "staff", eventUrl: "https://hooks.example.org/e" }, /eventUrl: `eventUrl` is for messages to `identities` or `connections`/],
      [{ backend: "db", identities: ["1"], eventUrl: `https://hooks.example.org/${"x".repeat(2048)}` }, /eventUrl: Too big/],
    ];
    for (const [payload, reason] of refusals) {
      const response = await send(payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 80));
      assert.match(response.json().error, reason);
    }
    const accepted = await send({ backend: "db", identities: ["1"], eventUrl: "http://localhost:9/e?token=abc" });
    assert.equal(accepted.statusCode, 202);
    const detail = (await server.app.inject({ url: `/api/messages/${accepted.json().id}` })).json();
    assert.deepEqual(
      detail.forwards.map((f: Record<string, unknown>) => [f.kind, f.url, f.status, typeof f.attempts === "number"]),
      [["status", "http://localhost:9/e?…", detail.forwards[0].status, true]],
    );
    assert.equal(JSON.stringify(detail).includes("token=abc"), false);
  });

  test("without webhooks.allowedHosts, an eventUrl to a loopback, private or link-local address is a 400 naming eventUrl and saying to list the host", async () => {
    const server = await start({ secret: SECRET });
    started.push(server);
    for (const eventUrl of ["http://169.254.169.254/latest/meta-data", "http://10.0.0.5:8080/admin", "http://[::1]/e", "http://localhost:9/e"]) {
      const response = await server.app.inject({ method: "POST", url: "/api/messages", payload: { backend: "db", identities: ["1"], text: "hi", eventUrl } });
      assert.equal(response.statusCode, 400, eventUrl);
      assert.match(response.json().error, /^invalid request: eventUrl: has the host .+, a loopback, private or link-local address.*add ".+" there/);
      assert.deepEqual(
        response.json().issues.map((i: { path: string }) => i.path),
        ["eventUrl"],
      );
    }
    assert.equal((await server.system.store.listMessages({ direction: "O" })).length, 0);
    const open = await server.app.inject({
      method: "POST",
      url: "/api/messages",
      payload: { backend: "db", identities: ["1"], text: "hi", eventUrl: "https://hooks.example.org/e" },
    });
    assert.equal(open.statusCode, 202);
  });

  test("the OpenAPI document has both payloads, the signature headers and the replies answer under webhooks", async () => {
    const server = await start({});
    started.push(server);
    const document = (await server.app.inject({ url: "/api/openapi.json" })).json();
    assert.deepEqual(Object.keys(document.webhooks), ["message", "status"]);
    const message = document.webhooks.message.post;
    assert.deepEqual(message.requestBody.content["application/json"].schema.required.sort(), ["backend", "date", "event", "fields", "from", "id", "text"]);
    assert.deepEqual(
      message.parameters.map((p: { name: string }) => p.name),
      ["X-RapidSMS-Timestamp", "X-RapidSMS-Signature", "X-RapidSMS-Delivery"],
    );
    assert.match(message.parameters[1].description, /"<timestamp>\.<delivery>\.<raw body>"/);
    assert.equal(message.responses["2XX"].content["application/json"].schema.properties.replies.maxItems, 10);
    const status = document.webhooks.status.post.requestBody.content["application/json"].schema;
    assert.deepEqual(status.properties.status.enum, ["queued", "sent", "delivered", "failed"]);
    assert.ok(document.paths["/api/messages"].post.requestBody.content["application/json"].schema.properties.eventUrl);
    assert.ok(document.paths["/api/messages/{id}"].get.responses["200"].content["application/json"].schema.properties.forwards);
  });
});
