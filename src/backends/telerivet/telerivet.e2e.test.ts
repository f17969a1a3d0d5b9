import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import { startGatewayE2E, type GatewayE2E } from "../../../test/support/gateway-e2e.ts";

const GUIDE = new URL("../../../docs/gateways/telerivet.md", import.meta.url);

/** The guide's one configuration, as written: only the API's URL is pointed at the mock Telerivet. */
function guideBackends(): Record<string, Record<string, unknown>> {
  const blocks = docJsonBlocks(GUIDE) as { installedBackends: Record<string, Record<string, unknown>> }[];
  assert.equal(blocks.length, 1, "the guide shows one configuration");
  return blocks[0].installedBackends;
}

describe("Telerivet end to end (rapidsms start with the guide's configuration)", () => {
  const entry = guideBackends().telerivet;
  let e2e: GatewayE2E;
  before(async () => {
    e2e = await startGatewayE2E({ backends: (gatewayUrl) => ({ telerivet: { ...entry, apiUrl: gatewayUrl } }) });
    let next = 0;
    e2e.gateway.respond = (request) => {
      const { to_number } = JSON.parse(request.body) as { to_number: string };
      return { body: JSON.stringify({ id: `SMe2e${String(++next).padStart(12, "0")}`, status: "queued", direction: "outgoing", to_number, num_parts: 1 }) };
    };
  });
  after(() => e2e.close());

  function webhook(path: string, fields: Record<string, string>) {
    return fetch(`${e2e.url}/backend/telerivet/${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
  }

  test("incoming message → echo → reply at Telerivet's API → its id → status callback → D", async () => {
    const response = await webhook("", {
      event: "incoming_message",
      id: "SMin000000000001",
      message_type: "sms",
      content: "echo hello from the phone",
      from_number: "+16505550123",
      from_number_e164: "+16505550123",
      to_number: "+16505550199",
      time_created: "1767607200",
      phone_id: "PN0123456789abcdef",
      contact_id: "CT0123456789abcdef",
      project_id: String(entry.projectId),
      secret: String(entry.webhookSecret),
    });
    assert.deepEqual([response.status, await response.text()], [200, ""]);

    const request = await e2e.waitFor("the reply at Telerivet", () => e2e.gateway.requests[0]);
    assert.equal(request.method, "POST");
    assert.equal(request.url, `/v1/projects/${entry.projectId}/messages/send`);
    assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${entry.apiKey}:`).toString("base64")}`);
    assert.equal(request.headers["content-type"], "application/json");
    const body = JSON.parse(request.body) as Record<string, string>;
    assert.deepEqual(
      { to: body.to_number, content: body.content, statusUrl: body.status_url },
      { to: "+16505550123", content: "hello from the phone", statusUrl: `${e2e.url}/backend/telerivet/status/` },
    );
    assert.match(body.status_secret, /^[0-9a-f]{64}$/, "a status secret of our own, derived from the API key");
    assert.ok(body.status_secret !== entry.apiKey && body.status_secret !== entry.webhookSecret);

    const [incoming] = e2e.messages();
    assert.deepEqual([incoming.direction, incoming.externalId, incoming.fields.secret], ["I", "SMin000000000001", undefined]);
    const reply = await e2e.waitFor("the reply sent", () => e2e.messages().find((m) => m.direction === "O" && m.status === "S"));
    const sent = await e2e.status(reply.id);
    assert.deepEqual(
      sent.transmissions.map((t) => [t.identity, t.status, t.externalId, t.segments]),
      [["+16505550123", "S", "SMe2e000000000001", 1]],
    );

    // Telerivet posts the status change to status_url with the status_secret it was given.
    const report = await webhook("status/", { event: "send_status", id: "SMe2e000000000001", status: "delivered", secret: body.status_secret });
    assert.deepEqual([report.status, await report.text()], [200, ""]);
    const delivered = await e2e.waitFor("the reply delivered", async () => {
      const now = await e2e.status(reply.id);
      return now.transmissions[0].status === "D" ? now : undefined;
    });
    assert.equal(delivered.status, "D");
  });

  test("a wrong secret: 403 and nothing stored, inbound and on the status URL", async () => {
    const before = e2e.messages();
    const forged = await webhook("", {
      event: "incoming_message",
      id: "SMforged00000001",
      content: "echo forged",
      from_number: "+16505550100",
      secret: "not-the-webhook-secret",
    });
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /secret/);
    const reply = before.find((m) => m.direction === "O")!;
    const report = await webhook("status/", { event: "send_status", id: "SMe2e000000000001", status: "failed", secret: String(entry.webhookSecret).slice(1) });
    assert.equal(report.status, 403);
    assert.deepEqual(e2e.messages(), before);
    assert.equal((await e2e.status(reply.id)).transmissions[0].status, "D");
  });
});
