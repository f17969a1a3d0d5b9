import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTestRouter, MockBackend, type TestRouter } from "../../src/testing/harness.ts";
import { MY_NUMBER, OnlyTextMeHttpBackendView } from "./one-number-form.ts";

let t: TestRouter;
let view: OnlyTextMeHttpBackendView;

before(async () => {
  t = await createTestRouter({ backends: { "only-text-me": MockBackend } });
  view = new OnlyTextMeHttpBackendView({ port: t.backends.get("only-text-me")!.port });
});
after(() => t.close());

test("only-text-me view accepts a message from its one number", async () => {
  const response = await view.handle({ method: "GET", url: "/", query: { identity: MY_NUMBER, text: "hello" } });
  assert.deepEqual([response.status, response.body], [200, "OK"]);
  const [incoming] = await t.store.listMessages({ direction: "I", identity: MY_NUMBER });
  assert.equal(incoming.text, "hello");
});

test("only-text-me view refuses another number with 400 and the reason, and stores nothing", async () => {
  const response = await view.handle({ method: "GET", url: "/", query: { identity: "1112223333", text: "hello" } });
  assert.equal(response.status, 400);
  assert.equal(response.body, "form failed to validate\nidentity: SMS received from number other than 1231231234");
  assert.deepEqual(await t.store.listMessages({ identity: "1112223333" }), []);
});

test("only-text-me view still requires the text", async () => {
  const response = await view.handle({ method: "GET", url: "/", query: { identity: MY_NUMBER } });
  assert.equal(response.status, 400);
  assert.equal(response.body, "form failed to validate\ntext: This field is required.");
});
