import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import type { GatewayRequest } from "../../../test/support/fake-gateway.ts";
import { startGatewayE2E, type GatewayE2E } from "../../../test/support/gateway-e2e.ts";

const [guide] = docJsonBlocks(new URL("../../../docs/gateways/infobip.md", import.meta.url)) as [
  { installedBackends: { infobip: { apiKey: string; from: string; inboundToken: string } } },
];
const { apiKey, from, inboundToken } = guide.installedBackends.infobip;
let e2e: GatewayE2E;

/** Infobip's v3 answer: each destination PENDING under the messageId we gave it, in one part. */
function answer(request: GatewayRequest): string {
  const { messages } = JSON.parse(request.body) as { messages: { destinations: { to: string; messageId: string }[] }[] };
  return JSON.stringify({
    bulkId: "e2e-bulk-1",
    messages: messages[0].destinations.map((d) => ({
      messageId: d.messageId,
      status: { groupId: 1, groupName: "PENDING", id: 26, name: "PENDING_ACCEPTED", description: "Message sent to next instance" },
      destination: d.to,
      details: { messageCount: 1 },
    })),
  });
}

before(async () => {
  e2e = await startGatewayE2E({ backends: (baseUrl) => ({ infobip: { ...guide.installedBackends.infobip, baseUrl } }) });
  e2e.gateway.respond = (request) => ({ body: answer(request) });
});
after(() => e2e.close());

function post(url: string, body: unknown) {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** Inbound SMS as Infobip forwards them (MO_JSON_2). */
const inbound = (messageId: string, text: string) => ({
  results: [
    {
      messageId,
      from: "41793026727",
      to: "41793026700",
      text,
      cleanText: text.replace(/^echo /, ""),
      keyword: "ECHO",
      receivedAt: "2026-01-05T10:00:00.000+0000",
      smsCount: 1,
      price: { pricePerMessage: 0, currency: "EUR" },
    },
  ],
  messageCount: 1,
  pendingMessageCount: 0,
});

test("the guide's config, through the running server: an SMS gets its echo through /sms/3/messages, and Infobip's DELIVERED report makes it D", async () => {
  const received = await post(`${e2e.url}/backend/infobip/?token=${inboundToken}`, inbound("ib-in-1", "echo hello infobip"));
  assert.equal(received.status, 200, await received.text());

  const [request] = await e2e.waitFor("the reply at Infobip", () => (e2e.gateway.requests.length > 0 ? e2e.gateway.requests : undefined));
  const stored = e2e.messages().find((m) => m.direction === "I");
  assert.deepEqual([stored?.text, stored?.externalId, stored?.fields.keyword], ["echo hello infobip", "ib-in-1", "ECHO"]);
  const reply = e2e.messages().find((m) => m.direction === "O");
  assert.ok(reply);
  assert.deepEqual([request.method, request.url, request.headers.authorization], ["POST", "/sms/3/messages", `App ${apiKey}`]);
  const deliveryUrl = `${e2e.url}/backend/infobip/status/?token=${inboundToken}`;
  assert.deepEqual(JSON.parse(request.body), {
    messages: [
      {
        sender: from,
        destinations: [{ to: "41793026727", messageId: `${reply.id}-41793026727` }],
        content: { text: "hello infobip" },
        webhooks: { delivery: { url: deliveryUrl }, contentType: "application/json" },
      },
    ],
    options: { includeSmsCountInResponse: true },
  });

  const sent = await e2e.waitFor("the reply's S", async () => {
    const status = await e2e.status(reply.id);
    return status.transmissions[0]?.status === "S" ? status.transmissions[0] : undefined;
  });
  assert.deepEqual([sent.externalId, sent.segments], [`${reply.id}-41793026727`, 1]);

  // The report goes where the request told Infobip to send it.
  const report = await post(deliveryUrl, {
    results: [
      {
        bulkId: "e2e-bulk-1",
        messageId: sent.externalId,
        to: "41793026727",
        sender: from,
        sentAt: "2026-01-05T10:00:01.000+0000",
        doneAt: "2026-01-05T10:00:03.000+0000",
        messageCount: 1,
        status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET", description: "Message delivered to handset" },
        error: { groupId: 0, groupName: "OK", id: 0, name: "NO_ERROR", description: "No Error", permanent: false },
      },
    ],
  });
  assert.equal(report.status, 200, await report.text());
  const final = await e2e.status(reply.id);
  assert.equal(final.transmissions[0].status, "D");
});

test("without the inboundToken, or with a wrong one: 403, and nothing is stored", async () => {
  const before = e2e.messages();
  const attempts = [
    post(`${e2e.url}/backend/infobip/`, inbound("ib-in-forged-1", "echo forged")),
    post(`${e2e.url}/backend/infobip/?token=not-the-token-0123456789`, inbound("ib-in-forged-2", "echo forged")),
    post(`${e2e.url}/backend/infobip/status/`, { results: [{ messageId: before.at(-1)?.id ?? "x", status: { groupName: "UNDELIVERABLE" } }] }),
  ];
  for (const response of await Promise.all(attempts)) {
    assert.equal(response.status, 403);
    assert.match(await response.text(), /inboundToken/);
  }
  assert.deepEqual(e2e.messages(), before);
});
