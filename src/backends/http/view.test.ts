import assert from "node:assert/strict";
import { test } from "node:test";
import { createTestRouter } from "../../testing/harness.ts";
import { GenericHttpBackendView } from "./view.ts";

class PhoneView extends GenericHttpBackendView {
  override params = { identityName: "phone", textName: "message" };
  override httpMethodNames = ["get"];
}

test("a view subclass's params and methods apply when the backend's options do not set them", async () => {
  const t = await createTestRouter();
  const view = new PhoneView({ port: t.backends.get("mockbackend")!.port });
  assert.equal((await view.handle({ method: "GET", url: "/", query: { phone: "1", message: "hi" } })).status, 200);
  assert.equal((await view.handle({ method: "POST", url: "/", query: {}, body: { phone: "1", message: "hi" } })).status, 405);
  await t.close();
});

test("the backend's params and methods options win over a view subclass's own", async () => {
  const t = await createTestRouter();
  const view = new PhoneView({ port: t.backends.get("mockbackend")!.port, params: { textName: "body" }, methods: ["POST"] });
  const post = (body: object) => view.handle({ method: "POST", url: "/", query: {}, body });
  assert.equal((await post({ phone: "1", body: "hi" })).status, 200);
  assert.equal((await post({ phone: "1", message: "hi" })).body, "form failed to validate\nbody: This field is required.");
  const get = await view.handle({ method: "GET", url: "/", query: { phone: "1", body: "hi" } });
  assert.equal(get.status, 405);
  assert.deepEqual(get.headers, { allow: "POST" });
  await t.close();
});
