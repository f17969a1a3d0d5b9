import assert from "node:assert/strict";
import { test } from "node:test";
import { EchoApp } from "../../apps/echo.ts";
import { createTestRouter } from "../../testing/harness.ts";
import { HttpTesterBackend } from "./index.ts";

test("the message tester records what was typed before the router sees it, and stores the replies", async () => {
  const t = await createTestRouter({ apps: [EchoApp], backends: { httptester: HttpTesterBackend } });
  const [view] = t.backends.get("httptester")!.views();
  const response = await view.handle({
    method: "POST",
    url: "/backend/httptester/",
    query: {},
    body: { identity: "1112223333", text: "echo hello" },
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  assert.equal(response.status, 200);
  assert.equal(response.body, "OK");
  await t.idle();
  const rows = await t.store.listBackendMessages({ name: "httptester", identity: "1112223333" });
  assert.deepEqual(
    rows.map((r) => [r.direction, r.text]),
    [
      ["O", "hello"],
      ["I", "echo hello"],
    ],
  );
  const [incoming] = await t.store.listMessages({ direction: "I" });
  assert.equal(rows[1].messageId, incoming.id);
  assert.equal(incoming.status, "R");
  await t.close();
});

test("the message tester refuses an empty identity with the generic form's reason", async () => {
  const t = await createTestRouter({ backends: { httptester: HttpTesterBackend } });
  const [view] = t.backends.get("httptester")!.views();
  const response = await view.handle({ method: "GET", url: "/", query: { identity: " ", text: "x" } });
  assert.equal(response.status, 400);
  assert.equal(response.body, "form failed to validate\nidentity: This field is required.");
  assert.equal(await t.store.countBackendMessages({ name: "httptester" }), 0);
  await t.close();
});
