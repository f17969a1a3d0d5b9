import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import twilio from "twilio";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import { startGatewayE2E, type GatewayE2E } from "../../../test/support/gateway-e2e.ts";
import { EMPTY_TWIML } from "./inbound.ts";

const [guide] = docJsonBlocks(new URL("../../../docs/gateways/twilio.md", import.meta.url)) as [
  { installedBackends: { twilio: { authToken: string; accountSid: string; from: string } } },
];
const { authToken, accountSid, from } = guide.installedBackends.twilio;
let e2e: GatewayE2E;

before(async () => {
  e2e = await startGatewayE2E({ backends: (apiUrl) => ({ twilio: { ...guide.installedBackends.twilio, apiUrl } }) });
  e2e.gateway.respond = () => ({ status: 201, body: JSON.stringify({ sid: "SMe2e00000000000000000000000000001", status: "queued", num_segments: "1" }) });
});
after(() => e2e.close());

function post(path: string, params: Record<string, string>, token = authToken) {
  const url = `${e2e.url}${path}`;
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(token, url, params) },
    body: new URLSearchParams(params),
  });
}

test("the guide's config, through the running server: a signed SMS gets its echo through the Messages API, and Twilio's delivered callback makes it D", async () => {
  const inbound = await post("/backend/twilio/", {
    MessageSid: "SMin0000000000000000000000000000001",
    AccountSid: accountSid,
    From: "+14155550100",
    To: from,
    Body: "echo hello twilio",
    NumMedia: "0",
  });
  assert.equal(inbound.status, 200);
  assert.equal(await inbound.text(), EMPTY_TWIML);

  const [request] = await e2e.waitFor("the reply at Twilio", () => (e2e.gateway.requests.length > 0 ? e2e.gateway.requests : undefined));
  assert.equal(request.url, `/2010-04-01/Accounts/${accountSid}/Messages.json`);
  const form = Object.fromEntries(new URLSearchParams(request.body));
  assert.deepEqual(form, { To: "+14155550100", From: from, Body: "hello twilio", StatusCallback: `${e2e.url}/backend/twilio/status/` });

  const reply = await e2e.waitFor("the reply's S", async () => {
    const found = e2e.messages().find((m) => m.direction === "O");
    return found && (await e2e.status(found.id)).transmissions[0]?.status === "S" ? found : undefined;
  });
  const callback = await post("/backend/twilio/status/", {
    MessageSid: "SMe2e00000000000000000000000000001",
    MessageStatus: "delivered",
    AccountSid: accountSid,
    To: "+14155550100",
    From: from,
  });
  assert.equal(callback.status, 200);
  const final = await e2e.status(reply.id);
  assert.equal(final.transmissions[0].status, "D");
  assert.equal(final.transmissions[0].externalId, "SMe2e00000000000000000000000000001");
});

test("a webhook signed with another token is a 403 through the running server, and nothing is stored", async () => {
  const before = e2e.messages().length;
  const response = await post(
    "/backend/twilio/",
    { MessageSid: "SMforged00000000000000000000000001", From: "+14155550666", Body: "echo forged" },
    "not-the-auth-token-at-all-000000",
  );
  assert.equal(response.status, 403);
  assert.match(await response.text(), /X-Twilio-Signature does not match/);
  assert.equal(e2e.messages().length, before);
});
