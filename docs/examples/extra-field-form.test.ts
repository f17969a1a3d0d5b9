import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AppBase, type Fields, type IncomingMessage } from "../../src/index.ts";
import { createTestRouter, MockBackend, type TestRouter } from "../../src/testing/harness.ts";
import { ExtraParamsHttpBackendView } from "./extra-field-form.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const fieldsSeen: Fields[] = [];

class RecordFieldsApp extends AppBase {
  override handle(msg: IncomingMessage) {
    fieldsSeen.push(msg.fields);
  }
}

let t: TestRouter;
let view: ExtraParamsHttpBackendView;

before(async () => {
  t = await createTestRouter({ apps: [RecordFieldsApp], backends: { "extra-params": MockBackend } });
  view = new ExtraParamsHttpBackendView({ port: t.backends.get("extra-params")!.port });
});
after(() => t.close());

test("extra-params view passes the extra parameter on to the apps in msg.fields", async () => {
  const response = await view.handle({
    method: "POST",
    url: "/backend/extra-params/",
    query: {},
    body: { identity: "1112223333", text: "hello", extra: "campaign-7" },
    headers: FORM,
  });
  assert.deepEqual([response.status, response.body], [200, "OK"]);
  await t.idle();
  assert.deepEqual(fieldsSeen, [{ extra: "campaign-7" }]);
  const [incoming] = await t.store.listMessages({ direction: "I" });
  assert.deepEqual((await t.store.getMessage(incoming.id))?.fields, { extra: "campaign-7" });
});

test("extra-params view refuses a request without extra: 400 naming the extra field", async () => {
  const response = await view.handle({ method: "GET", url: "/", query: { identity: "1112223333", text: "hello" } });
  assert.equal(response.status, 400);
  assert.equal(response.body, "form failed to validate\nextra: This field is required.");
});
