import assert from "node:assert/strict";
import { test } from "node:test";
import { EchoApp } from "../../apps/echo.ts";
import { createTestRouter, MockBackend } from "../../testing/harness.ts";
import { GenericHttpBackendView } from "./view.ts";

test("with externalIdName, the gateway's id becomes fields.externalId and a redelivery is answered 200 but processed once", async () => {
  const t = await createTestRouter({ apps: [EchoApp], backends: { gw: MockBackend } });
  const view = new GenericHttpBackendView({ port: t.backends.get("gw")!.port, params: { externalIdName: "id" } });
  const request = { method: "GET", url: "/backend/gw/", query: { identity: "111", text: "echo hi", id: "gw-1" } };
  assert.equal((await view.handle(request)).status, 200);
  assert.equal((await view.handle(request)).status, 200);
  await t.idle();
  const inbound = await t.store.listMessages({ direction: "I" });
  assert.equal(inbound.length, 1);
  assert.equal(inbound[0].externalId, "gw-1");
  assert.deepEqual(inbound[0].fields, { externalId: "gw-1" });
  assert.deepEqual(
    t.sent("gw").map((s) => [s.text, s.context.externalId]),
    [["hi", "gw-1"]],
  );
  await t.close();
});

test("with externalIdName, a message without the id is still accepted", async () => {
  const t = await createTestRouter({ backends: { gw: MockBackend } });
  const view = new GenericHttpBackendView({ port: t.backends.get("gw")!.port, params: { externalIdName: "id" } });
  const response = await view.handle({ method: "GET", url: "/", query: { identity: "111", text: "x" } });
  assert.equal(response.status, 200);
  const [message] = await t.store.listMessages({ direction: "I" });
  assert.deepEqual(message.fields, {});
  await t.close();
});
