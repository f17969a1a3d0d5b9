import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { createServer, createSystem, loadConfig, type System } from "../../src/index.ts";
import { JsonGatewayBackend } from "./custom-outbound-backend.ts";

let system: System;
let app: FastifyInstance;

before(async () => {
  process.env.GATEWAY_TOKEN = "test-token";
  const config = await loadConfig({
    configPath: fileURLToPath(new URL("./rapidsms.config.ts", import.meta.url)),
    env: {},
    overrides: { database: "sqlite::memory:" },
  });
  system = await createSystem(config);
  app = await createServer(system);
});
after(async () => {
  await app.close();
  await system.close();
});

function postForm(url: string, payload: string) {
  return app.inject({ method: "POST", url, payload, headers: { "content-type": "application/x-www-form-urlencoded" } });
}

for (const prefix of ["/backends", "/backend"]) {
  test(`httptester example: POST identity=1112223333&text=echo hello to ${prefix}/httptester/ answers 200 OK and the echo reply is stored`, async () => {
    await system.store.clearBackendMessages({ name: "httptester" });
    const response = await postForm(`${prefix}/httptester/`, "identity=1112223333&text=echo hello");
    assert.deepEqual([response.statusCode, response.body], [200, "OK"]);
    await system.pipeline.idle();
    const replies = await system.store.listBackendMessages({ name: "httptester", direction: "O" });
    assert.deepEqual(
      replies.map((row) => [row.identity, row.text]),
      [["1112223333", "hello"]],
    );
  });
}

test("custom-http (params phone/message, methods post) accepts a POST and answers a GET with 405", async () => {
  const posted = await postForm("/backend/custom-http/", "phone=2223334444&message=ping");
  assert.deepEqual([posted.statusCode, posted.body], [200, "OK"]);
  const [incoming] = await system.store.listMessages({ direction: "I", backend: "custom-http" });
  assert.equal(incoming.text, "ping");
  const got = await app.inject({ method: "GET", url: "/backend/custom-http/?phone=2223334444&message=ping" });
  assert.equal(got.statusCode, 405);
  assert.equal(got.headers.allow, "POST");
});

test("mybackend mounts PhoneMessageView through the view option: phone/message accepted, identity/text refused", async () => {
  const accepted = await postForm("/backends/mybackend/", "phone=1112223333&message=ping");
  assert.deepEqual([accepted.statusCode, accepted.body], [200, "OK"]);
  const refused = await postForm("/backends/mybackend/", "identity=1112223333&text=ping");
  assert.equal(refused.statusCode, 400);
  assert.match(refused.body, /^form failed to validate\nphone: This field is required\./);
});

test("extra-params over HTTP stores the extra field with the message, and refuses a request without it", async () => {
  const accepted = await postForm("/backend/extra-params/", "identity=5556667777&text=hi&extra=campaign-7");
  assert.equal(accepted.statusCode, 200);
  const [incoming] = await system.store.listMessages({ direction: "I", backend: "extra-params" });
  assert.deepEqual(incoming.fields, { extra: "campaign-7" });
  const refused = await postForm("/backend/extra-params/", "identity=5556667777&text=hi");
  assert.deepEqual([refused.statusCode, refused.body], [400, "form failed to validate\nextra: This field is required."]);
});

test("only-text-me over HTTP refuses another number with its reason", async () => {
  const refused = await app.inject({ method: "GET", url: "/backend/only-text-me/?identity=1112223333&text=hi" });
  assert.deepEqual([refused.statusCode, refused.body], [400, "form failed to validate\nidentity: SMS received from number other than 1231231234"]);
  const accepted = await app.inject({ method: "GET", url: "/backend/only-text-me/?identity=1231231234&text=hi" });
  assert.equal(accepted.statusCode, 200);
});

test("the gateway backend is installed from the class given as engine, with its token from the environment", () => {
  const gateway = system.backends.get("gateway");
  assert.ok(gateway instanceof JsonGatewayBackend);
  assert.deepEqual(gateway?.config, { url: "http://127.0.0.1:9000/messages", token: "test-token" });
});
