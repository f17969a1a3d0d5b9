import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import { startGatewayE2E, type GatewayE2E } from "../../../test/support/gateway-e2e.ts";

/** The guide's own configuration: the test runs what the guide shows. */
const [guide] = docJsonBlocks(new URL("../../../docs/gateways/android-sms-gateway.md", import.meta.url)) as [
  { installedBackends: Record<string, { webhookSigningKey: string; username: string; password: string }> },
];
const [name, options] = Object.entries(guide.installedBackends)[0];

/** POSTs an event to the server as the app does: the JSON text signed over itself and X-Timestamp. */
async function postEvent(e2e: GatewayE2E, path: string, envelope: object, key = options.webhookSigningKey) {
  const body = JSON.stringify(envelope);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", key)
    .update(body + timestamp)
    .digest("hex");
  const response = await fetch(`${e2e.url}/backend/${name}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-timestamp": timestamp, "x-signature": signature },
    body,
  });
  return { status: response.status, body: await response.text() };
}

describe("android-sms-gateway end to end: the guide's config in the running server", () => {
  let e2e: GatewayE2E;
  before(async () => {
    e2e = await startGatewayE2E({
      backends: (gatewayUrl) => ({ [name]: { ...guide.installedBackends[name], baseUrl: `${gatewayUrl}/3rdparty/v1` } }),
    });
    // The app's 202: its message state, every recipient Pending.
    e2e.gateway.respond = (request) => {
      const sent = JSON.parse(request.body) as { id: string; phoneNumbers: string[] };
      return {
        status: 202,
        body: JSON.stringify({
          id: sent.id,
          deviceId: "dev-1",
          state: "Pending",
          recipients: sent.phoneNumbers.map((phoneNumber) => ({ phoneNumber, state: "Pending", error: null })),
        }),
      };
    };
  });
  after(() => e2e.close());

  test("an SMS to the phone → echo → the reply through the app's API → sms:delivered at /status/ → the reply is D", async () => {
    const sender = "+255700000100";
    const inbound = await postEvent(e2e, "", {
      deviceId: "dev-1",
      event: "sms:received",
      id: "ev-1",
      payload: { messageId: "1a2b3c4d", message: "echo hello", sender, recipient: "+255700000999", simNumber: 1, receivedAt: "2026-02-18T02:05:00.000+03:00" },
      webhookId: "wh-1",
    });
    assert.deepEqual(inbound, { status: 200, body: "" });

    const request = await e2e.waitFor("the reply at the app's API", () => e2e.gateway.requests[0]);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/3rdparty/v1/messages");
    assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`);
    const sent = JSON.parse(request.body);
    assert.deepEqual(
      { text: sent.textMessage.text, phoneNumbers: sent.phoneNumbers, withDeliveryReport: sent.withDeliveryReport },
      {
        text: "hello",
        phoneNumbers: [sender],
        withDeliveryReport: true,
      },
    );

    const reply = await e2e.waitFor("the reply stored", () => e2e.messages().find((m) => m.direction === "O"));
    await e2e.waitFor("the reply S", async () => (await e2e.status(reply.id)).transmissions[0]?.status === "S");
    const report = await postEvent(e2e, "status/", {
      deviceId: "dev-1",
      event: "sms:delivered",
      id: "ev-2",
      payload: { messageId: sent.id, sender: "+255700000999", recipient: sender, simNumber: 1, deliveredAt: "2026-02-18T02:05:09.000+03:00" },
      webhookId: "wh-2",
    });
    assert.deepEqual(report, { status: 200, body: "" });
    const status = await e2e.waitFor("the reply D", async () => {
      const current = await e2e.status(reply.id);
      return current.transmissions[0]?.status === "D" ? current : undefined;
    });
    assert.equal(status.transmissions[0].identity, sender);
    assert.equal(status.transmissions[0].externalId, `${sent.id}/255700000100`);
  });

  test("a webhook signed with another key is 403 and nothing is stored", async () => {
    const before = e2e.messages();
    const response = await postEvent(
      e2e,
      "",
      {
        deviceId: "dev-1",
        event: "sms:received",
        id: "ev-3",
        payload: { messageId: "5e6f", message: "echo forged", sender: "+255700000101" },
        webhookId: "wh-1",
      },
      "not-the-signing-key",
    );
    assert.equal(response.status, 403);
    assert.match(response.body, /^forbidden: X-Signature does not match/);
    assert.deepEqual(e2e.messages(), before);
  });
});
