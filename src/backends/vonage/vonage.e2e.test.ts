import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AlgorithmTypes } from "@vonage/auth";
import { SMS } from "@vonage/sms";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import { startGatewayE2E, type GatewayE2E } from "../../../test/support/gateway-e2e.ts";
import { vonageSignature } from "./signature.ts";

const [guide] = docJsonBlocks(new URL("../../../docs/gateways/vonage.md", import.meta.url)) as [
  { installedBackends: { vonage: { apiKey: string; apiSecret: string; signatureSecret: string; signatureMethod: "sha256"; from: string } } },
];
const { apiKey, apiSecret, signatureSecret, signatureMethod, from } = guide.installedBackends.vonage;
let e2e: GatewayE2E;
let sent = 0;

before(async () => {
  e2e = await startGatewayE2E({ backends: (apiUrl) => ({ vonage: { ...guide.installedBackends.vonage, apiUrl } }) });
  e2e.gateway.respond = (request) => {
    const to = new URLSearchParams(request.body).get("to");
    const messages = [
      { to, "message-id": `0C00000000000${String(++sent).padStart(3, "0")}`, status: "0", "remaining-balance": "9.5", "message-price": "0.03" },
    ];
    return { body: JSON.stringify({ "message-count": "1", messages }) };
  };
});
after(() => e2e.close());

/** Vonage's webhook as a signed GET, its signature checked with the official SDK before it is sent. */
function call(path: string, params: Record<string, string>, secret = signatureSecret) {
  const withMeta = { ...params, timestamp: String(Math.floor(Date.now() / 1000)), nonce: `n-${Math.random()}` };
  const sig = vonageSignature(withMeta, secret, signatureMethod);
  assert.equal(
    new SMS({ apiKey, apiSecret }).verifySignature(sig, { ...withMeta, sig }, signatureSecret, AlgorithmTypes.sha256hmac),
    secret === signatureSecret,
  );
  return fetch(`${e2e.url}${path}?${new URLSearchParams({ ...withMeta, sig })}`);
}

const sms = (messageId: string, text: string, extra: Record<string, string> = {}) => ({
  msisdn: "447700900001",
  to: from,
  messageId,
  text,
  type: "text",
  keyword: text.split(" ")[0].toUpperCase(),
  "message-timestamp": "2026-01-05 10:00:00",
  "api-key": apiKey,
  ...extra,
});

test("the guide's config, through the running server: a signed SMS gets its echo through /sms/json, and Vonage's delivered receipt makes it D", async () => {
  const inbound = await call("/backend/vonage/", sms("0A00000000E2E001", "echo hello vonage"));
  assert.deepEqual([inbound.status, await inbound.text()], [200, ""]);

  const [request] = await e2e.waitFor("the reply at Vonage", () => (e2e.gateway.requests.length > 0 ? e2e.gateway.requests : undefined));
  assert.deepEqual([request.method, request.url, request.headers["content-type"]], ["POST", "/sms/json", "application/x-www-form-urlencoded"]);
  const form = Object.fromEntries(new URLSearchParams(request.body));
  const reply = e2e.messages().find((m) => m.direction === "O")!;
  assert.deepEqual(form, {
    api_key: apiKey,
    api_secret: apiSecret,
    from,
    to: "447700900001",
    text: "hello vonage",
    "status-report-req": "true",
    callback: `${e2e.url}/backend/vonage/status/`,
    "client-ref": reply.id,
  });

  await e2e.waitFor("the reply's S", async () => (await e2e.status(reply.id)).transmissions[0]?.status === "S");
  const receipt = await call("/backend/vonage/status/", {
    msisdn: "447700900001",
    to: from,
    "network-code": "23410",
    messageId: "0C00000000000001",
    price: "0.03330000",
    status: "delivered",
    scts: "2601051000",
    "err-code": "0",
    "api-key": apiKey,
    "client-ref": reply.id,
    "message-timestamp": "2026-01-05 10:00:05",
  });
  assert.deepEqual([receipt.status, await receipt.text()], [200, ""]);
  const final = await e2e.status(reply.id);
  assert.deepEqual([final.transmissions[0].status, final.transmissions[0].externalId, final.transmissions[0].segments], ["D", "0C00000000000001", 1]);
});

test("a long SMS in two signed parts is one message through the running server", async () => {
  const before = e2e.messages().length;
  const part = (n: number, text: string) =>
    sms(`0A00000000E2E10${n}`, text, { concat: "true", "concat-ref": "77", "concat-total": "2", "concat-part": String(n) });
  assert.equal((await call("/backend/vonage/", part(2, " two"))).status, 200);
  assert.equal(e2e.messages().length, before);
  assert.equal((await call("/backend/vonage/", part(1, "part one,"))).status, 200);
  const stored = e2e.messages().filter((m) => m.direction === "I");
  assert.equal(stored.at(-1)?.text, "part one, two");
  assert.equal(stored.at(-1)?.externalId, "0A00000000E2E101");
  await e2e.waitFor("the default app's reply to it", () => e2e.messages().length === before + 2);
});

test("a webhook signed with another secret is a 403 through the running server, and nothing is stored", async () => {
  const before = e2e.messages().length;
  const response = await call("/backend/vonage/", sms("0A00000000E2E666", "echo forged"), "not-the-signature-secret");
  assert.equal(response.status, 403);
  assert.match(await response.text(), /sig parameter is not the sha256 signature/);
  const receipt = await call("/backend/vonage/status/", { messageId: "0C00000000000001", status: "failed", "err-code": "2" }, "not-the-signature-secret");
  assert.equal(receipt.status, 403);
  assert.equal(e2e.messages().length, before);
  assert.equal((await e2e.status(e2e.messages().find((m) => m.direction === "O")!.id)).transmissions[0].status, "D");
});
