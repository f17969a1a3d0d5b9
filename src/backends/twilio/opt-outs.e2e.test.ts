import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import twilio from "twilio";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import { startGatewayE2E, type GatewayE2E } from "../../../test/support/gateway-e2e.ts";

/** Opt-outs end to end: `rapidsms start` as a process, Twilio played by a mock on loopback. */
const [guide] = docJsonBlocks(new URL("../../../docs/gateways/twilio.md", import.meta.url)) as [
  { installedBackends: { twilio: { authToken: string; accountSid: string; from: string } } },
];
const { authToken, accountSid, from } = guide.installedBackends.twilio;
const CONFIRMATION = "You have been unsubscribed and will receive no more messages. Reply START to subscribe again.";
const START_CONFIRMATION = "You have been subscribed again. Reply STOP to unsubscribe.";
const API = { authorization: "Bearer e2e-api-token-0123456789", "content-type": "application/json" };

let inbound = 0;
/** A text from `phone`, as Twilio posts it (signed). */
async function texts(e2e: GatewayE2E, phone: string, body: string): Promise<void> {
  const url = `${e2e.url}/backend/twilio/`;
  const params = { MessageSid: `SMin${String(++inbound).padStart(30, "0")}`, AccountSid: accountSid, From: phone, To: from, Body: body, NumMedia: "0" };
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, url, params) },
    body: new URLSearchParams(params),
  });
  assert.equal(response.status, 200);
  // Processed, and its replies (if any) final: what reached Twilio has reached it.
  await e2e.waitFor(`"${body}" processed`, async () => {
    const stored = e2e.messages().find((m) => m.direction === "I" && m.text === body && m.externalId === params.MessageSid);
    if (!stored || stored.status === "Q") return undefined;
    const replies = e2e.messages().filter((m) => m.direction === "O" && m.status !== "S" && m.status !== "E" && m.status !== "D");
    return replies.length === 0;
  });
}

/** The texts Twilio was asked to send to `phone`. */
function sentTo(e2e: GatewayE2E, phone: string): string[] {
  return e2e.gateway.requests.map((r) => Object.fromEntries(new URLSearchParams(r.body))).flatMap((form) => (form.To === phone ? [form.Body] : []));
}

async function apiSend(e2e: GatewayE2E, phone: string, text: string) {
  const response = await fetch(`${e2e.url}/api/messages`, {
    method: "POST",
    headers: API,
    body: JSON.stringify({ backend: "twilio", identities: [phone], text }),
  });
  assert.equal(response.status, 202);
  const { id } = (await response.json()) as { id: string };
  return e2e.waitFor(`${text} final`, async () => {
    const status = await e2e.status(id);
    return ["S", "E", "D"].includes(status.transmissions[0]?.status) ? status.transmissions[0] : undefined;
  });
}

async function optOutOf(e2e: GatewayE2E, phone: string) {
  const response = await fetch(`${e2e.url}/api/opt-outs/twilio/${encodeURIComponent(phone)}`, { headers: API });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("opt-outs through the running server", () => {
  let e2e: GatewayE2E;
  before(async () => {
    e2e = await startGatewayE2E({ backends: (apiUrl) => ({ twilio: { ...guide.installedBackends.twilio, apiUrl } }) });
    let sids = 0;
    e2e.gateway.respond = (request) => {
      const form = Object.fromEntries(new URLSearchParams(request.body));
      // This number texted STOP to Twilio itself, long ago: Twilio refuses it.
      if (form.To === "+14155550199") return { status: 400, body: '{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}' };
      return { status: 201, body: JSON.stringify({ sid: `SMout${String(++sids).padStart(29, "0")}`, status: "queued", num_segments: "1" }) };
    };
  });
  after(() => e2e?.close());

  test("STOP gets the confirmation once, sends then end E 'opted out' unsent; START gets its confirmation and sends go again", async () => {
    const phone = "+14155550100";
    await texts(e2e, phone, "Stop");
    assert.deepEqual(sentTo(e2e, phone), [CONFIRMATION]);
    const record = await optOutOf(e2e, phone);
    assert.equal(record.status, 200);
    assert.deepEqual([record.body.source, record.body.detail, record.body.optedOut], ["keyword", "STOP", true]);

    const blocked = await apiSend(e2e, phone, "this week's news");
    assert.deepEqual([blocked.status, blocked.error], ["E", "opted out"]);
    await texts(e2e, phone, "STOP");
    await texts(e2e, phone, "echo are you there");
    assert.deepEqual(sentTo(e2e, phone), [CONFIRMATION], "nothing but the one confirmation reached Twilio");

    await texts(e2e, phone, "START");
    assert.deepEqual(sentTo(e2e, phone), [CONFIRMATION, START_CONFIRMATION]);
    assert.equal((await optOutOf(e2e, phone)).status, 404);
    assert.equal((await apiSend(e2e, phone, "next week's news")).status, "S");
    assert.deepEqual(sentTo(e2e, phone).at(-1), "next week's news");
  });

  test("Twilio's 21610 records a provider opt-out; the next send is not tried", async () => {
    const phone = "+14155550199";
    const refused = await apiSend(e2e, phone, "hello");
    assert.equal(refused.status, "E");
    assert.match(refused.error ?? "", /21610.*RECIPIENT_OPTED_OUT/);
    const record = await optOutOf(e2e, phone);
    assert.equal(record.body.source, "provider");
    assert.match(String(record.body.detail), /^twilio: .*21610/);
    const next = await apiSend(e2e, phone, "hello again");
    assert.deepEqual([next.status, next.error], ["E", "opted out"]);
    assert.deepEqual(sentTo(e2e, phone), ["hello"], "Twilio was asked once");
  });
});

describe("with optOut: false in the config", () => {
  let e2e: GatewayE2E;
  before(async () => {
    e2e = await startGatewayE2E({ backends: (apiUrl) => ({ twilio: { ...guide.installedBackends.twilio, apiUrl } }), extra: { optOut: false } });
    e2e.gateway.respond = () => ({ status: 201, body: JSON.stringify({ sid: "SMoff0000000000000000000000000001", status: "queued", num_segments: "1" }) });
  });
  after(() => e2e?.close());

  test("STOP goes to the apps like any text (the default response answers it), and nobody is opted out", async () => {
    await texts(e2e, "+14155550123", "STOP");
    assert.deepEqual(sentTo(e2e, "+14155550123"), ["Sorry, RapidSMS could not understand your message."]);
    assert.equal((await optOutOf(e2e, "+14155550123")).status, 404);
  });
});
