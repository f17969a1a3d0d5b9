import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EchoApp } from "../../src/index.ts";
import { createTestRouter, MockBackend, type TestRouter } from "../../src/testing/harness.ts";
import { PhoneMessageView } from "./phone-message-view.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };
let t: TestRouter;
let view: PhoneMessageView;

before(async () => {
  t = await createTestRouter({ apps: [EchoApp], backends: { mybackend: MockBackend } });
  view = new PhoneMessageView({ port: t.backends.get("mybackend")!.port });
});
after(() => t.close());

test("phone/message view accepts phone and message and routes the text to the router", async () => {
  const response = await view.handle({
    method: "POST",
    url: "/backends/mybackend/",
    query: {},
    body: { phone: "1112223333", message: "echo hello" },
    headers: FORM,
  });
  assert.deepEqual([response.status, response.body], [200, "OK"]);
  await t.idle();
  const [incoming] = await t.store.listMessages({ direction: "I", identity: "1112223333" });
  assert.equal(incoming.text, "echo hello");
  assert.equal(incoming.status, "R");
  const reply = t.sent("mybackend").find((sent) => sent.context.inResponseTo === incoming.id);
  assert.deepEqual([reply?.text, reply?.identities], ["hello", ["1112223333"]]);
});

test("phone/message view reads the query string of a GET", async () => {
  const response = await view.handle({ method: "GET", url: "/", query: { phone: "4445556666", message: "ping" } });
  assert.deepEqual([response.status, response.body], [200, "OK"]);
  const [incoming] = await t.store.listMessages({ direction: "I", identity: "4445556666" });
  assert.equal(incoming.text, "ping");
});

test("phone/message view refuses identity/text with 400 naming the phone and message fields", async () => {
  const response = await view.handle({
    method: "POST",
    url: "/",
    query: {},
    body: { identity: "1112223333", text: "echo hello" },
    headers: FORM,
  });
  assert.equal(response.status, 400);
  assert.equal(response.body, "form failed to validate\nphone: This field is required.\nmessage: This field is required.");
});

test("phone/message view ignores the query string of a POST: 400", async () => {
  const response = await view.handle({ method: "POST", url: "/?phone=1&message=x", query: { phone: "1", message: "x" }, body: {}, headers: FORM });
  assert.equal(response.status, 400);
  assert.match(response.body, /^form failed to validate\n/);
});

test("phone/message view answers other methods with 405 and the allowed ones", async () => {
  const response = await view.handle({ method: "PUT", url: "/", query: {}, body: { phone: "1", message: "x" }, headers: FORM });
  assert.equal(response.status, 405);
  assert.equal(response.headers?.allow, "GET, POST");
});
