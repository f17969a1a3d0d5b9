import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import Sdk, { WebHookEventType, type HttpClient, type WebHookPayload } from "android-sms-gateway";
import { pino } from "pino";
import { FakeGateway, type GatewayRequest } from "../../../test/support/fake-gateway.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { ConfigError, MessageSendingError } from "../../errors.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import { buildBackend } from "../build.ts";
import { GatewayClient, GatewayError } from "../gateway-client.ts";
import type { BackendPort } from "../port.ts";
import type { BackendView, ViewRequest } from "../view.ts";
import { AndroidSmsGatewayWebhookView, receivedSmsId } from "./inbound.ts";
import { AndroidSmsGatewayBackend, androidSmsGatewayOptionsSchema, CLOUD_URL } from "./index.ts";
import { appMessageId, deliveryId, MAX_RECIPIENTS_PER_REQUEST, prepareSendRequest, readSendAnswer } from "./outbound.ts";
import { signatureRefusal, webhookSignature } from "./signature.ts";
import { REPORT_EVENTS } from "./status.ts";

/**
 * The SDK's class. Its package declares no module type, so TypeScript reads its typings as
 * CommonJS (the class under `.default`) while Node loads its ES module (the class itself).
 */
const SmsGatewayClient = ("default" in Sdk ? Sdk.default : Sdk) as typeof Sdk.default;

/** An sms:received as the SDK types it (WebHookPayload), which leaves out the messageId every app sends (MessageEventPayload.kt). */
const sdkReceived: WebHookPayload = {
  event: WebHookEventType.SmsReceived,
  payload: { message: "legacy", phoneNumber: "+255700000011", receivedAt: "2024-06-22T15:46:11.000+07:00" },
};

const KEY = "signing-key-0123";
const PASSWORD = "pa55:w0rd-secret";
const USERNAME = "JGVHRK";

/** The signature as the app's PayloadSingingPlugin.kt makes it, computed here with node:crypto (the test's own oracle). */
function oracleSignature(key: string, rawBody: string, timestamp: string): string {
  return createHmac("sha256", Buffer.from(key, "utf8"))
    .update(Buffer.from(rawBody + timestamp, "utf8"))
    .digest("hex");
}

/** The verification steps of the app's docs (docs/features/webhooks.md, its JavaScript tab), written out here. */
function docsVerify(secretKey: string, payload: string, timestamp: string, signature: string): boolean {
  const expected = createHmac("sha256", secretKey)
    .update(payload + timestamp)
    .digest("hex");
  const given = String(signature).trim().toLowerCase();
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected, "hex"), Buffer.from(given, "hex"));
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

/** A webhook as the app POSTs it: the JSON text, its X-Timestamp and X-Signature (unless `key` is null), parsed as the server parses it. */
function webhook(
  envelope: object | string,
  options: { key?: string | null; timestamp?: string; signature?: string; path?: string; headers?: Record<string, string> } = {},
): ViewRequest {
  const rawBody = typeof envelope === "string" ? envelope : JSON.stringify(envelope);
  const timestamp = options.timestamp ?? nowSeconds();
  const key = options.key === undefined ? KEY : options.key;
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "SMS Gateway/1.0" };
  if (key !== null) {
    headers["x-timestamp"] = timestamp;
    headers["x-signature"] = options.signature ?? oracleSignature(key, rawBody, timestamp);
  }
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    body = rawBody;
  }
  return { method: "POST", url: `/backend/asg/${options.path ?? ""}`, query: {}, body, headers: { ...headers, ...options.headers }, rawBody };
}

/** The docs' sms:received example (docs/features/webhooks.md). */
function received(payload: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) {
  return {
    deviceId: "ffffffffceb0b1db0000018e937c815b",
    event: "sms:received",
    id: "Ey6ECgOkVVFjz3CL48B8C",
    payload: {
      messageId: "abc123",
      message: "Android is always a sweet treat!",
      sender: "6505551212",
      recipient: "+1234567890",
      simNumber: 1,
      receivedAt: "2024-06-22T15:46:11.000+07:00",
      ...payload,
    },
    webhookId: "LreFUt-Z3sSq0JufY9uWB",
    ...envelope,
  };
}

/** An event about a message we sent, as the docs show sms:sent, sms:delivered and sms:failed. */
function report(event: string, payload: Record<string, unknown>) {
  return {
    deviceId: "ffffffffceb0b1db0000018e937c815b",
    event,
    id: "Ey6ECgOkVVFjz3CL48B8C",
    payload: { sender: "+1234567890", simNumber: 1, ...payload },
    webhookId: "LreFUt-Z3sSq0JufY9uWB",
  };
}

/** The app's 202: its message state, one recipient per number (as `numbers` says it holds them, else as sent), Pending unless `states` says otherwise. */
function accepted(request: GatewayRequest, options: { numbers?: Record<string, string>; states?: Record<string, [string, string | null]> } = {}) {
  const sent = JSON.parse(request.body) as { id: string; phoneNumbers: string[] };
  const recipients = sent.phoneNumbers.map((phone) => {
    const [state, error] = options.states?.[phone] ?? ["Pending", null];
    return { phoneNumber: options.numbers?.[phone] ?? phone, state, error };
  });
  return {
    status: 202,
    body: JSON.stringify({
      id: sent.id,
      deviceId: "ffffffffceb0b1db0000018e937c815b",
      state: "Pending",
      isHashed: false,
      isEncrypted: false,
      recipients,
      states: {},
    }),
    headers: { location: `/3rdparty/v1/messages/${sent.id}` },
  };
}

const backendOptions = (baseUrl: string, extra: object = {}) => ({ baseUrl, username: USERNAME, password: PASSWORD, webhookSigningKey: KEY, ...extra });

describe("android-sms-gateway signature (X-Signature, X-Timestamp)", () => {
  const body = JSON.stringify(received());

  test("a vector computed with openssl (HMAC-SHA256 over body + timestamp, lowercase hex) is ours and node:crypto's", () => {
    // printf '%s' "$body1719046000" | openssl dgst -sha256 -hmac 'signing-key-0123'
    const expected = "5f338a689aee4c3d16b1cb41be523fb0c6c4e8949339d58ecc4393f1cb0a2fd1";
    assert.equal(webhookSignature(KEY, body, "1719046000"), expected);
    assert.equal(oracleSignature(KEY, body, "1719046000"), expected);
  });

  test("the key and the body are taken as UTF-8 (an openssl vector with ñ and an emoji)", () => {
    const text = '{"event":"sms:received","payload":{"message":"Habari ñ 😀"}}';
    assert.equal(webhookSignature("kéy-ñ", text, "1719046000"), "def6a1dbc56a5463dd06f63c2b16ff14aaae0f4fc0d9c5f95f9d17d5d6df212d");
  });

  test("the docs' verification accepts our signature, and refuses it for another body, timestamp or key", () => {
    const signature = webhookSignature(KEY, body, "1719046000");
    assert.equal(docsVerify(KEY, body, "1719046000", signature), true);
    assert.equal(docsVerify(KEY, `${body} `, "1719046000", signature), false);
    assert.equal(docsVerify(KEY, body, "1719046001", signature), false);
    assert.equal(docsVerify("another-key-0123", body, "1719046000", signature), false);
  });

  const now = 1_719_046_000_000;
  const check = { key: KEY, freshnessSeconds: 300, now };
  const signed = (timestamp: string, signature = oracleSignature(KEY, body, timestamp)) => ({
    rawBody: body,
    headers: { "x-timestamp": timestamp, "x-signature": signature },
  });
  const cases: [string, Pick<ViewRequest, "headers" | "rawBody">, RegExp | undefined][] = [
    ["signed now: taken", signed("1719046000"), undefined],
    ["the signature in upper case (the docs lower-case it): taken", signed("1719046000", oracleSignature(KEY, body, "1719046000").toUpperCase()), undefined],
    ["300 s old, the edge of the window: taken", signed("1719045700"), undefined],
    ["300 s ahead (the phone's clock is fast): taken", signed("1719046300"), undefined],
    [
      "301 s old: refused",
      signed("1719045699"),
      /^forbidden: X-Timestamp 1719045699 is 301 s away from this server's clock, more than freshnessSeconds \(300\)/,
    ],
    ["301 s ahead: refused", signed("1719046301"), /is 301 s away/],
    ["no X-Signature", { rawBody: body, headers: { "x-timestamp": "1719046000" } }, /^forbidden: no X-Signature header/],
    [
      "no X-Timestamp",
      { rawBody: body, headers: { "x-signature": oracleSignature(KEY, body, "1719046000") } },
      /^forbidden: X-Timestamp is missing or not Unix seconds/,
    ],
    ["X-Timestamp in ms", signed("1719046000000"), /^forbidden: X-Timestamp is missing or not Unix seconds/],
    ["signed with another key", signed("1719046000", oracleSignature("another-key-0123", body, "1719046000")), /^forbidden: X-Signature does not match/],
    ["signed over the body alone (no timestamp)", signed("1719046000", createHmac("sha256", KEY).update(body).digest("hex")), /does not match/],
    ["a signature that is not hex", signed("1719046000", "zz".repeat(32)), /does not match/],
    ["a truncated signature", signed("1719046000", oracleSignature(KEY, body, "1719046000").slice(0, 63)), /does not match/],
    [
      "no raw body to check",
      { headers: { "x-timestamp": "1719046000", "x-signature": oracleSignature(KEY, body, "1719046000") } },
      /^forbidden: the body as received is not available/,
    ],
  ];
  for (const [name, request, refusal] of cases) {
    test(`verifier: ${name}`, () => {
      const reason = signatureRefusal(check, request);
      if (refusal === undefined) assert.equal(reason, undefined);
      else {
        assert.match(reason ?? "", refusal);
        assert.ok(!reason!.includes(KEY), "the key is never shown");
      }
    });
  }

  test("a signature that is valid for the body with one byte changed is refused", () => {
    const request = { rawBody: body.replace("sweet", "sweeT"), headers: signed("1719046000").headers };
    assert.match(signatureRefusal(check, request) ?? "", /does not match/);
  });
});

describe("android-sms-gateway webhooks: sms:received (POST /backend/<name>/ and /status/)", () => {
  let t: TestRouter;
  let inbound: BackendView;
  let status: BackendView;
  before(async () => {
    t = await createTestRouter({ backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions(CLOUD_URL) } }, stopped: true });
    [inbound, status] = t.backends.get("asg")!.views();
  });
  after(() => t.close());

  const newest = async () => (await t.store.listMessages({ direction: "I", limit: 1 }))[0];
  const count = async () => (await t.store.listMessages({ direction: "I", limit: 1000 })).length;

  test("the views are /backend/<name>/ and /backend/<name>/status/", () => {
    assert.deepEqual([inbound.path, status.path], ["", "status/"]);
  });

  test("200 with an empty body: the docs' example is a message from sender, every field kept, externalId the dedupe id", async () => {
    const response = await inbound.handle(webhook(received()));
    assert.deepEqual([response.status, response.body], [200, ""]);
    const message = await newest();
    assert.equal(message.transmissions[0].identity, "6505551212");
    assert.equal(message.text, "Android is always a sweet treat!");
    assert.deepEqual(message.fields, {
      messageId: "abc123",
      message: "Android is always a sweet treat!",
      sender: "6505551212",
      recipient: "+1234567890",
      simNumber: 1,
      receivedAt: "2024-06-22T15:46:11.000+07:00",
      deviceId: "ffffffffceb0b1db0000018e937c815b",
      event: "sms:received",
      id: "Ey6ECgOkVVFjz3CL48B8C",
      webhookId: "LreFUt-Z3sSq0JufY9uWB",
      externalId: receivedSmsId({
        deviceId: "ffffffffceb0b1db0000018e937c815b",
        messageId: "abc123",
        sender: "6505551212",
        receivedAt: "2024-06-22T15:46:11.000+07:00",
        message: "Android is always a sweet treat!",
      }),
    });
  });

  const accepted: [string, () => BackendView, object, { identity: string; text: string; fields?: Record<string, unknown> }][] = [
    [
      "at /status/ too (one URL may be registered for every event)",
      () => status,
      received({ messageId: "st-1", sender: "+255700000010", message: "at status" }),
      { identity: "+255700000010", text: "at status" },
    ],
    [
      "an older app's payload (the SDK's WebHookPayload: phoneNumber, no sender) is from phoneNumber",
      () => inbound,
      { ...sdkReceived, deviceId: "dev-old", id: "ev-old", webhookId: "wh-old", payload: { messageId: "old-1", ...sdkReceived.payload } },
      {
        identity: "+255700000011",
        text: "legacy",
        fields: {
          messageId: "old-1",
          message: "legacy",
          phoneNumber: "+255700000011",
          sender: "+255700000011",
          receivedAt: "2024-06-22T15:46:11.000+07:00",
          deviceId: "dev-old",
          event: "sms:received",
          id: "ev-old",
          webhookId: "wh-old",
          externalId: receivedSmsId({
            deviceId: "dev-old",
            messageId: "old-1",
            sender: "+255700000011",
            receivedAt: "2024-06-22T15:46:11.000+07:00",
            message: "legacy",
          }),
        },
      },
    ],
    [
      "a null recipient and simNumber (the app lacks READ_PHONE_STATE) are kept as null",
      () => inbound,
      received({ messageId: "nulls-1", recipient: null, simNumber: null, message: "n" }),
      { identity: "6505551212", text: "n" },
    ],
    [
      "the text is kept exactly: whitespace, emoji",
      () => inbound,
      received({ messageId: "exact-1", message: "  two  spaces 😀\n" }),
      { identity: "6505551212", text: "  two  spaces 😀\n" },
    ],
    ["an empty text is a message", () => inbound, received({ messageId: "empty-1", message: "" }), { identity: "6505551212", text: "" }],
  ];
  for (const [name, view, envelope, expected] of accepted) {
    test(`200: ${name}`, async () => {
      const response = await view().handle(webhook(envelope));
      assert.deepEqual([response.status, response.body], [200, ""]);
      const message = await newest();
      assert.equal(message.transmissions[0].identity, expected.identity);
      assert.equal(message.text, expected.text);
      if (expected.fields) assert.deepEqual(message.fields, expected.fields);
    });
  }

  test("the app's retry of a webhook (signed afresh, the same body) is answered 200 and stored once", async () => {
    const envelope = received({ messageId: "retry-1", message: "once" });
    const before = await count();
    assert.equal((await inbound.handle(webhook(envelope, { timestamp: String(Number(nowSeconds()) - 20) }))).status, 200);
    assert.equal((await inbound.handle(webhook(envelope))).status, 200);
    assert.equal(
      (await status.handle(webhook({ ...envelope, id: "another-webhook-event", webhookId: "another-webhook" }))).status,
      200,
      "a second webhook on this URL",
    );
    assert.equal((await count()) - before, 1);
  });

  test("the same app messageId from another phone, at another time or with another text is another SMS", async () => {
    const before = await count();
    const base = { messageId: "7f3a9c21", sender: "+255700000012", receivedAt: "2024-06-22T15:46:11.000+07:00", message: "same hash" };
    for (const [payload, envelope] of [
      [base, {}],
      [base, { deviceId: "another-phone" }],
      [{ ...base, receivedAt: "2024-06-23T09:00:00.000+07:00" }, {}],
      [{ ...base, message: "another text" }, {}],
    ] as const) {
      assert.equal((await inbound.handle(webhook(received(payload, envelope)))).status, 200);
    }
    assert.equal((await count()) - before, 4);
  });

  const refused: [string, object | string, RegExp][] = [
    ["no messageId", received({ messageId: undefined }), /^form failed to validate\npayload\.messageId: This field is required\.$/],
    ["no sender nor phoneNumber", received({ sender: undefined }), /^form failed to validate\npayload\.sender: This field is required\.$/],
    ["no message", received({ message: undefined }), /^form failed to validate\npayload\.message: This field is required\.$/],
    ["a message that is not text", received({ message: { text: "hi" } }), /^form failed to validate\npayload\.message: Expected text\.$/],
    ["a NUL in the message", received({ message: "h\u0000i" }), /^form failed to validate\npayload\.message: Null characters are not allowed\.$/],
    ["a sender with a control character", received({ sender: "+2557\n00" }), /^form failed to validate\npayload\.sender: /],
    ["no payload", { event: "sms:received", deviceId: "d" }, /^form failed to validate\npayload: This field is required\.$/],
    ["a payload that is not an object", { event: "sms:received", payload: "hi" }, /^form failed to validate\npayload: Expected a JSON object\.$/],
    ["no event", { payload: received().payload }, /^form failed to validate\nevent: This field is required\.$/],
    ["a body that is not JSON", "messageId=abc", /^form failed to validate\nthe body is not valid JSON \(.+\): the app POSTs each event as a JSON object$/],
    ["an empty body", "", /^form failed to validate\nthe body is empty/],
    ["a JSON array", "[1,2]", /^form failed to validate\nthe body is a JSON array, not an object/],
  ];
  for (const [name, envelope, reason] of refused) {
    test(`400 with the reason, nothing stored: ${name}`, async () => {
      const before = await count();
      const response = await inbound.handle(webhook(envelope));
      assert.equal(response.status, 400);
      assert.match(response.body, reason);
      assert.equal(await count(), before);
    });
  }

  const forbidden: [string, ViewRequest, RegExp][] = [
    ["unsigned", webhook(received({ messageId: "f1" }), { key: null }), /^forbidden: no X-Signature header/],
    [
      "signed with another key",
      webhook(received({ messageId: "f2" }), { key: "another-key-0123" }),
      /^forbidden: X-Signature does not match the body and X-Timestamp: set the backend's webhookSigningKey/,
    ],
    ["an hour old", webhook(received({ messageId: "f3" }), { timestamp: String(Number(nowSeconds()) - 3600) }), /more than freshnessSeconds \(300\)/],
    [
      "its body changed after signing",
      (() => {
        const request = webhook(received({ messageId: "f4", message: "pay 10" }));
        return { ...request, rawBody: request.rawBody!.replace("pay 10", "pay 99"), body: JSON.parse(request.rawBody!.replace("pay 10", "pay 99")) };
      })(),
      /does not match/,
    ],
  ];
  for (const [name, request, reason] of forbidden) {
    for (const which of ["inbound", "status"] as const) {
      test(`403 at ${which === "inbound" ? "/" : "/status/"}, nothing stored: ${name}`, async () => {
        const before = await count();
        const response = await (which === "inbound" ? inbound : status).handle(request);
        assert.equal(response.status, 403);
        assert.match(response.body, reason);
        assert.ok(!response.body.includes(KEY));
        assert.equal(await count(), before);
      });
    }
  }

  test("405 for GET, naming POST", async () => {
    const response = await inbound.handle({ method: "GET", url: "/backend/asg/", query: {} });
    assert.deepEqual([response.status, response.headers], [405, { allow: "POST" }]);
  });

  const ignored: [string, object][] = [
    ["system:ping", { event: WebHookEventType.SystemPing, deviceId: "d", id: "e1", webhookId: "w1", payload: { health: { status: "pass" } } }],
    ["app:started", { event: "app:started", deviceId: "d", id: "e2", webhookId: "w2", payload: { simCards: [] } }],
    ["sms:data-received", { event: "sms:data-received", deviceId: "d", id: "e3", webhookId: "w3", payload: { messageId: "x", data: "SGk=", sender: "1" } }],
    ["mms:received", { event: "mms:received", deviceId: "d", id: "e4", webhookId: "w4", payload: { messageId: "m", sender: "1" } }],
    ["an event this backend does not know yet", { event: "sms:something-new", payload: null }],
  ];
  for (const [name, envelope] of ignored) {
    test(`200 and nothing stored: ${name} is ignored`, async () => {
      const before = await count();
      for (const view of [inbound, status]) assert.deepEqual(await view.handle(webhook(envelope)).then((r) => [r.status, r.body]), [200, ""]);
      assert.equal(await count(), before);
    });
  }
});

describe("android-sms-gateway webhooks: the freshness window", () => {
  test("freshnessSeconds sets the window", async () => {
    const t = await createTestRouter({
      backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions(CLOUD_URL, { freshnessSeconds: 30 }) } },
      stopped: true,
    });
    const now = 1_719_046_000_000;
    const view = new AndroidSmsGatewayWebhookView({ port: portOf(t), path: "", signingKey: KEY, freshnessSeconds: 30, now: () => now });
    assert.equal((await view.handle(webhook(received({ messageId: "w1" }), { timestamp: "1719045970" }))).status, 200);
    assert.equal((await view.handle(webhook(received({ messageId: "w2" }), { timestamp: "1719045969" }))).status, 403);
    await t.close();
  });

  test("without a webhookSigningKey, unsigned webhooks are taken", async () => {
    const t = await createTestRouter({
      backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions(CLOUD_URL, { webhookSigningKey: null }) } },
      stopped: true,
    });
    const [view] = t.backends.get("asg")!.views();
    assert.equal((await view.handle(webhook(received({ messageId: "u1" }), { key: null }))).status, 200);
    await t.close();
  });
});

function portOf(t: TestRouter): BackendPort {
  return t.backends.get("asg")!.port;
}

describe("android-sms-gateway outbound: the request sent", () => {
  const options = { baseUrl: "https://api.sms-gate.app/3rdparty/v1", username: USERNAME, password: PASSWORD };
  const basic = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`;

  test("POST {baseUrl}/messages, HTTP Basic, JSON with our id, textMessage, every recipient and a delivery report", () => {
    const request = prepareSendRequest(options, "a1b2", "hello", ["+255700000001", "+255700000002"]);
    assert.deepEqual(request, {
      method: "POST",
      url: "https://api.sms-gate.app/3rdparty/v1/messages",
      headers: { "content-type": "application/json", authorization: basic },
      body: '{"id":"a1b2","textMessage":{"text":"hello"},"phoneNumbers":["+255700000001","+255700000002"],"withDeliveryReport":true}',
    });
  });

  test("the phone's local server: http://<phone-ip>:8080/messages", () => {
    assert.equal(prepareSendRequest({ ...options, baseUrl: "http://192.168.1.10:8080" }, "x", "hi", ["1"]).url, "http://192.168.1.10:8080/messages");
  });

  test("text outside GSM-7 goes as it is, JSON being UTF-8", () => {
    assert.equal(JSON.parse(String(prepareSendRequest(options, "x", "Habari ç 😀", ["1"]).body)).textMessage.text, "Habari ç 😀");
  });

  test("the app's id: 32 hex characters (the app takes 36), the same for the same batch, another for another batch of the message", () => {
    const id = appMessageId("0190c9a8e6f27a3b8c1d2e3f4a5b6c7d", ["+2", "+1"]);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(appMessageId("0190c9a8e6f27a3b8c1d2e3f4a5b6c7d", ["+1", "+2"]), id, "the recipients' order does not matter");
    assert.notEqual(appMessageId("0190c9a8e6f27a3b8c1d2e3f4a5b6c7d", ["+1"]), id);
    assert.notEqual(appMessageId("0190c9a8e6f27a3b8c1d2e3f4a5b6c8e", ["+1", "+2"]), id);
  });

  test("a trailing slash on baseUrl is dropped; the default is the cloud relay", () => {
    const parse = (extra: object) => androidSmsGatewayOptionsSchema.parse({ username: "u", password: "p", ...extra }).baseUrl;
    assert.equal(parse({ baseUrl: "http://192.168.1.10:8080/" }), "http://192.168.1.10:8080");
    assert.equal(parse({}), "https://api.sms-gate.app/3rdparty/v1");
  });
});

describe("android-sms-gateway outbound: the app's answer", () => {
  const ids: [string, string, string[], { externalIds: Record<string, string>; failed: Record<string, string> }][] = [
    [
      "each recipient's external id is the app's id and its number",
      JSON.stringify({
        id: "A1",
        state: "Pending",
        recipients: [
          { phoneNumber: "+255700000001", state: "Pending", error: null },
          { phoneNumber: "+255700000002", state: "Pending", error: null },
        ],
      }),
      ["+255700000001", "+255700000002"],
      { externalIds: { "+255700000001": "A1/255700000001", "+255700000002": "A1/255700000002" }, failed: {} },
    ],
    [
      "the cloud's E.164 number for a national one, found by its place",
      JSON.stringify({ id: "A2", state: "Pending", recipients: [{ phoneNumber: "+79990001234", state: "Pending" }] }),
      ["89990001234"],
      { externalIds: { "89990001234": "A2/79990001234" }, failed: {} },
    ],
    [
      "numbers are matched by their digits, whatever the order",
      JSON.stringify({
        id: "A3",
        recipients: [
          { phoneNumber: "+255700000002", state: "Pending" },
          { phoneNumber: "+255700000001", state: "Pending" },
        ],
      }),
      ["255 700 000001", "255700000002"],
      { externalIds: { "255 700 000001": "A3/255700000001", "255700000002": "A3/255700000002" }, failed: {} },
    ],
    [
      "a recipient Failed at once is failed with the app's reason",
      JSON.stringify({
        id: "A4",
        recipients: [
          { phoneNumber: "+1", state: "Pending" },
          { phoneNumber: "+2", state: "Failed", error: "sendSMS: Invalid phone number" },
        ],
      }),
      ["+1", "+2"],
      { externalIds: { "+1": "A4/1" }, failed: { "+2": "Failed: sendSMS: Invalid phone number" } },
    ],
    ["an answer that is not JSON: our own id and the numbers we sent", "Accepted", ["+1"], { externalIds: { "+1": "OURS/1" }, failed: {} }],
  ];
  for (const [name, answer, identities, expected] of ids) {
    test(`answer: ${name}`, () => {
      assert.deepEqual(readSendAnswer(answer, "OURS", identities), expected);
    });
  }

  const gateway = new FakeGateway();
  before(() => gateway.listen());
  after(() => gateway.close());

  async function sendWith(respond: FakeGateway["respond"], identities = ["+255700000001"], text = "hi") {
    gateway.respond = respond;
    const t = await createTestRouter({ backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions(`${gateway.url}/3rdparty/v1`) } } });
    try {
      return await t.backends.get("asg")!.send({ id: "0190c9a8e6f27a3b8c1d2e3f4a5b6c7d", text, identities, context: {} });
    } finally {
      await t.close();
    }
  }

  test("202 is sent: the request on the wire, each recipient's external id, the answer, segments from the text", async () => {
    const result = await sendWith((r) => accepted(r), ["+255700000001", "+255700000002"], "x".repeat(161));
    const request = gateway.requests.at(-1)!;
    const appId = appMessageId("0190c9a8e6f27a3b8c1d2e3f4a5b6c7d", ["+255700000001", "+255700000002"]);
    assert.deepEqual(
      { method: request.method, url: request.url, type: request.headers["content-type"], auth: request.headers.authorization, body: JSON.parse(request.body) },
      {
        method: "POST",
        url: "/3rdparty/v1/messages",
        type: "application/json",
        auth: `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`,
        body: { id: appId, textMessage: { text: "x".repeat(161) }, phoneNumbers: ["+255700000001", "+255700000002"], withDeliveryReport: true },
      },
    );
    assert.deepEqual(result?.externalIds, { "+255700000001": deliveryId(appId, "+255700000001"), "+255700000002": deliveryId(appId, "+255700000002") });
    assert.equal(result?.segments, 2);
    assert.match(result?.answer ?? "", /"state":"Pending"/);
  });

  test(`more than ${MAX_RECIPIENTS_PER_REQUEST} recipients go in requests of ${MAX_RECIPIENTS_PER_REQUEST}, each with its own id`, async () => {
    const identities = Array.from({ length: 150 }, (_, i) => `+2557${String(i).padStart(8, "0")}`);
    const before = gateway.requests.length;
    const result = await sendWith((r) => accepted(r), identities);
    const bodies = gateway.requests.slice(before).map((r) => JSON.parse(r.body) as { id: string; phoneNumbers: string[] });
    assert.deepEqual(
      bodies.map((b) => b.phoneNumbers.length),
      [100, 50],
    );
    assert.notEqual(bodies[0].id, bodies[1].id);
    assert.equal(result?.externalIds?.[identities[149]], deliveryId(bodies[1].id, identities[149]));
  });

  test("409 (the app has this very request: our earlier answer was lost) is sent, not sent twice", async () => {
    const result = await sendWith(() => ({ status: 409, body: '{"message":"Message with the same ID already exists"}' }));
    const appId = appMessageId("0190c9a8e6f27a3b8c1d2e3f4a5b6c7d", ["+255700000001"]);
    assert.deepEqual(result?.externalIds, { "+255700000001": deliveryId(appId, "+255700000001") });
    assert.match(result?.answer ?? "", /^409 \(the app has message [0-9a-f]{32} already: taken as sent\)/);
  });

  test("a recipient the app marks Failed at once fails permanently with its reason; the others are sent", async () => {
    await assert.rejects(
      sendWith(
        (r) => accepted(r, { states: { "+255700000002": ["Failed", "failed to use phone: invalid phone number"] } }),
        ["+255700000001", "+255700000002"],
      ),
      (error: unknown) => {
        assert.ok(error instanceof MessageSendingError);
        assert.deepEqual(error.failedIdentities, ["+255700000002"]);
        assert.equal(error.retryable, false);
        assert.deepEqual(error.identityErrors, { "+255700000002": "Failed: failed to use phone: invalid phone number" });
        assert.deepEqual(Object.keys(error.externalIds), ["+255700000001"]);
        return true;
      },
    );
  });

  const failures: [string, number, string, boolean, string, RegExp][] = [
    [
      "a number the cloud cannot parse",
      400,
      '{"code":400,"message":"failed to use phone in row 1: invalid phone number"}',
      false,
      "GATEWAY_REJECTED",
      /answered 400 .*invalid phone number.*; check the backend's options and the message$/,
    ],
    ["no device on the account", 400, '{"message":"failed to select device: not found"}', false, "GATEWAY_REJECTED", /failed to select device/],
    [
      "wrong credentials, echoing the password",
      401,
      `{"message":"Unauthorized ${PASSWORD}"}`,
      false,
      "GATEWAY_AUTH_FAILED",
      /answered 401 .*Unauthorized \*\*\*.*; check username and password/,
    ],
    ["too many requests", 429, '{"message":"Too Many Requests"}', true, "GATEWAY_RATE_LIMITED", /; will retry$/],
    [
      "the device's queue is full or it is offline",
      503,
      '{"message":"queue limit exceeded"}',
      true,
      "GATEWAY_UNAVAILABLE",
      /answered 503 .*queue limit exceeded.*; will retry$/,
    ],
    ["a server error", 500, '{"message":"failed to handle request"}', true, "GATEWAY_UNAVAILABLE", /; will retry$/],
  ];
  for (const [name, status, body, retryable, code, reason] of failures) {
    test(`${status} (${name}): ${retryable ? "retried" : "permanent"}, the app's text in the error, no secret in it`, async () => {
      await assert.rejects(
        sendWith(() => ({ status, body })),
        (error: unknown) => {
          assert.ok(error instanceof GatewayError);
          assert.equal(error.retryable, retryable);
          assert.equal(error.code, code);
          assert.match(error.message, reason);
          assert.ok(!error.message.includes(PASSWORD) && !error.message.includes(Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")), error.message);
          return true;
        },
      );
    });
  }

  test("one request of two refused: its recipients failed (retryable), the other request's sent with their ids", async () => {
    const identities = Array.from({ length: 101 }, (_, i) => `+2557${String(i).padStart(8, "0")}`);
    let n = 0;
    await assert.rejects(
      sendWith((r) => (++n === 2 ? { status: 503, body: '{"message":"queue limit exceeded"}' } : accepted(r)), identities),
      (error: unknown) => {
        assert.ok(error instanceof MessageSendingError && !(error instanceof GatewayError));
        assert.deepEqual(error.failedIdentities, [identities[100]]);
        assert.equal(error.retryable, true);
        assert.equal(Object.keys(error.externalIds).length, 100);
        assert.match(error.message, /1 recipient\(s\) not sent: gateway answered 503 .*queue limit exceeded/);
        return true;
      },
    );
  });

  test("a refused connection is retried, the password never shown", async () => {
    const t = await createTestRouter({ backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions("http://127.0.0.1:9/3rdparty/v1") } } });
    await assert.rejects(t.backends.get("asg")!.send({ id: "1", text: "hi", identities: ["+1"], context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError && error.retryable);
      assert.ok(!error.message.includes(PASSWORD));
      return true;
    });
    await t.close();
  });

  test("the app has no opt-out: a refusal is never recorded as RECIPIENT_OPTED_OUT", async () => {
    await assert.rejects(
      sendWith((r) => accepted(r, { states: { "+255700000001": ["Failed", "RESULT_ERROR_SHORT_CODE_NEVER_ALLOWED"] } })),
      (error: unknown) => error instanceof MessageSendingError && error.optedOutIdentities.length === 0,
    );
  });
});

describe("android-sms-gateway outbound through the pipeline: the transmissions' statuses", () => {
  const gateway = new FakeGateway();
  before(() => gateway.listen());
  after(() => gateway.close());

  /** Sends `text` to `identities` through a running pipeline (retries a minute apart) and waits until every attempt made so far is recorded. */
  async function outcome(respond: FakeGateway["respond"], identities: string[]) {
    gateway.respond = respond;
    const t = await createTestRouter({
      backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions(`${gateway.url}/3rdparty/v1`) } },
      pipeline: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    try {
      const msg = await t.router.send("hello", await t.connections(identities, "asg"));
      for (;;) {
        const record = await t.store.getMessage(msg.id);
        if (record?.transmissions.every((tr) => tr.attempts > 0 && tr.status !== "P")) return record.transmissions;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await t.pipeline.stop();
      await t.close();
    }
  }

  test("202 with one recipient Failed: that one E with the app's reason, the other S with its external id", async () => {
    const transmissions = await outcome(
      (r) => accepted(r, { states: { "+255700000002": ["Failed", "sendSMS: Invalid phone number"] } }),
      ["+255700000001", "+255700000002"],
    );
    const byIdentity = Object.fromEntries(transmissions.map((tr) => [tr.identity, tr]));
    assert.equal(byIdentity["+255700000001"].status, "S");
    assert.match(byIdentity["+255700000001"].externalId ?? "", /^[0-9a-f]{32}\/255700000001$/);
    assert.equal(byIdentity["+255700000002"].status, "E");
    assert.match(byIdentity["+255700000002"].error ?? "", /Failed: sendSMS: Invalid phone number/);
  });

  test("503: Q, to be tried again", async () => {
    const [tr] = await outcome(() => ({ status: 503, body: '{"message":"queue limit exceeded"}' }), ["+255700000003"]);
    assert.equal(tr.status, "Q");
    assert.match(tr.error ?? "", /answered 503 .*queue limit exceeded.*; will retry$/);
  });

  test("400: E at once, with the app's words", async () => {
    const [tr] = await outcome(() => ({ status: 400, body: '{"message":"failed to use phone in row 1: invalid phone number"}' }), ["12"]);
    assert.equal(tr.status, "E");
    assert.match(tr.error ?? "", /failed to use phone in row 1: invalid phone number/);
  });
});

describe("android-sms-gateway: the SDK (npm android-sms-gateway 3.0.0) as the oracle of the send request", () => {
  const ours = new FakeGateway();
  const sdk = new FakeGateway();
  before(async () => {
    await ours.listen();
    await sdk.listen();
    for (const gateway of [ours, sdk]) gateway.respond = (r) => accepted(r);
  });
  after(async () => {
    await ours.close();
    await sdk.close();
  });

  /** The SDK takes its HTTP client injected: this one sends over fetch, so the SDK's request reaches a FakeGateway as it would the app. */
  const fetchClient: HttpClient = {
    async post<T>(url: string, body: unknown, headers?: Record<string, string>) {
      const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
      return (await response.json()) as T;
    },
    get: () => Promise.reject(new Error("not used")),
    put: () => Promise.reject(new Error("not used")),
    patch: () => Promise.reject(new Error("not used")),
    delete: () => Promise.reject(new Error("not used")),
  };

  test("the same message through the SDK and through the backend: same method, auth, content type and fields; the SDK's older path and text field", async () => {
    const identities = ["+255700000001", "+255700000002"];
    const t = await createTestRouter({ backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions(`${ours.url}/3rdparty/v1`) } } });
    const result = await t.backends.get("asg")!.send({ id: "0190c9a8e6f27a3b8c1d2e3f4a5b6c7d", text: "Habari 😀", identities, context: {} });
    await t.close();
    const ourRequest = ours.requests.at(-1)!;
    const ourBody = JSON.parse(ourRequest.body);

    const client = new SmsGatewayClient(USERNAME, PASSWORD, fetchClient, `${sdk.url}/3rdparty/v1`);
    const state = await client.send({ id: ourBody.id, message: "Habari 😀", phoneNumbers: identities, withDeliveryReport: true });
    const sdkRequest = sdk.requests.at(-1)!;
    const sdkBody = JSON.parse(sdkRequest.body);

    assert.equal(ourRequest.method, sdkRequest.method);
    assert.equal(ourRequest.headers.authorization, sdkRequest.headers.authorization);
    assert.equal(ourRequest.headers["content-type"], sdkRequest.headers["content-type"]);
    // The SDK 3.0.0 posts to the legacy /message (the cloud keeps it for old clients) with the deprecated top-level `message`;
    // we post to the documented /messages with `textMessage.text`.
    assert.deepEqual([sdkRequest.url, ourRequest.url], ["/3rdparty/v1/message", "/3rdparty/v1/messages"]);
    assert.equal(ourBody.textMessage.text, sdkBody.message);
    assert.deepEqual(
      { id: ourBody.id, phoneNumbers: ourBody.phoneNumbers, withDeliveryReport: ourBody.withDeliveryReport },
      { id: sdkBody.id, phoneNumbers: sdkBody.phoneNumbers, withDeliveryReport: sdkBody.withDeliveryReport },
    );
    // What the SDK reads from the app's answer (its MessageState) is what our external ids are built on.
    assert.deepEqual(
      Object.values(result?.externalIds ?? {}),
      state.recipients.map((r) => deliveryId(state.id, r.phoneNumber)),
    );
  });

  test("the SDK's event names are the ones this backend routes", () => {
    assert.deepEqual(
      [WebHookEventType.SmsSent, WebHookEventType.SmsDelivered, WebHookEventType.SmsFailed].map((event) => REPORT_EVENTS[event]),
      ["S", "D", "E"],
    );
  });
});

describe("android-sms-gateway reports (sms:sent, sms:delivered, sms:failed)", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let inbound: BackendView;
  let status: BackendView;
  /** Per message letter: our message id and the app's id of its request. */
  const sent: Record<string, { id: string; appId: string }> = {};

  before(async () => {
    await gateway.listen();
    gateway.respond = (r) => accepted(r, { numbers: { "89990001234": "+79990001234" } });
    t = await createTestRouter({ backends: { asg: { engine: AndroidSmsGatewayBackend, options: backendOptions(`${gateway.url}/3rdparty/v1`) } } });
    [inbound, status] = t.backends.get("asg")!.views();
    const sends: [string, string[]][] = [
      ["A", ["+255700000001", "+255700000002"]],
      ["B", ["+255700000003"]],
      ["C", ["255700000004"]],
      ["D", ["89990001234"]],
      ["E", ["+255700000005"]],
    ];
    for (const [letter, identities] of sends) {
      const msg = await t.router.send(`message ${letter}`, await t.connections(identities, "asg"));
      await t.idle();
      sent[letter] = { id: msg.id, appId: JSON.parse(gateway.requests.at(-1)!.body).id };
    }
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  const transmission = async (letter: string, identity: string) => {
    const record = await t.store.getMessage(sent[letter].id);
    return t.store.getTransmission(record!.transmissions.find((tr) => tr.identity === identity)!.id);
  };

  test("each recipient's transmission is S with its own external id after the send", async () => {
    const tr = await transmission("A", "+255700000002");
    assert.equal(tr?.status, "S");
    assert.equal(tr?.externalId, `${sent.A.appId}/255700000002`);
  });

  const cases: [string, () => BackendView, string, Record<string, unknown>, [string, string], string, string][] = [
    [
      "sms:sent is recorded with its parts; the transmission stays S",
      () => status,
      "sms:sent",
      { partsCount: 2, sentAt: "2026-02-18T02:05:00.000+07:00" },
      ["A", "+255700000001"],
      "S",
      "sms:sent (2 parts)",
    ],
    ["sms:delivered marks it D", () => status, "sms:delivered", { deliveredAt: "2026-02-18T02:10:00.000+07:00" }, ["A", "+255700000001"], "D", "sms:delivered"],
    [
      "sms:failed for the other recipient of the same request marks only that one E, with the reason",
      () => status,
      "sms:failed",
      { reason: "RESULT_ERROR_GENERIC_FAILURE (Generic failure cause)", failedAt: "2026-02-18T02:15:00.000+07:00" },
      ["A", "+255700000002"],
      "E",
      "sms:failed: RESULT_ERROR_GENERIC_FAILURE (Generic failure cause)",
    ],
    ["a report at / (one URL for every event) is taken too", () => inbound, "sms:delivered", {}, ["B", "+255700000003"], "D", "sms:delivered"],
    ["a recipient written with + matches the number sent without", () => status, "sms:delivered", {}, ["C", "255700000004"], "D", "sms:delivered"],
    [
      "the cloud's E.164 form of a national number matches its transmission",
      () => status,
      "sms:sent",
      { partsCount: 1 },
      ["D", "89990001234"],
      "S",
      "sms:sent (1 part)",
    ],
    ["sms:cancelled marks it E", () => status, "sms:cancelled", { cancelledAt: "2026-06-22T10:00:00.000+07:00" }, ["E", "+255700000005"], "E", "sms:cancelled"],
  ];
  const recipients: Record<string, string> = { "89990001234": "+79990001234", "255700000004": "+255700000004" };
  for (const [name, view, event, payload, [letter, identity], expected, detail] of cases) {
    test(`200: ${name}`, async () => {
      const response = await view().handle(webhook(report(event, { messageId: sent[letter].appId, recipient: recipients[identity] ?? identity, ...payload })));
      assert.deepEqual([response.status, response.body], [200, ""]);
      const tr = await transmission(letter, identity);
      assert.equal(tr?.status, expected);
      assert.equal(tr!.deliveryReports.at(-1)!.detail, detail);
    });
  }

  test("after one recipient's failure the other stays D, and the message is E", async () => {
    assert.equal((await transmission("A", "+255700000001"))?.status, "D");
    assert.equal((await transmission("A", "+255700000002"))?.error, "sms:failed: RESULT_ERROR_GENERIC_FAILURE (Generic failure cause)");
    assert.equal((await t.store.getMessage(sent.A.id))?.status, "E");
  });

  test("sms:delivered once per part: the second is answered 200 and recorded once", async () => {
    const request = () => status.handle(webhook(report("sms:delivered", { messageId: sent.B.appId, recipient: "+255700000003" })));
    assert.equal((await request()).status, 200);
    assert.equal((await transmission("B", "+255700000003"))?.deliveryReports.filter((r) => r.status === "D").length, 1);
  });

  test("an older app's report names the recipient as phoneNumber", async () => {
    const msg = await t.router.send("legacy", await t.connections(["+255700000006"], "asg"));
    await t.idle();
    const appId = JSON.parse(gateway.requests.at(-1)!.body).id;
    const response = await status.handle(
      webhook({ event: "sms:delivered", payload: { messageId: appId, phoneNumber: "+255700000006", deliveredAt: "2026-02-18T02:10:00.000+07:00" } }),
    );
    assert.equal(response.status, 200);
    assert.equal((await t.store.getMessage(msg.id))?.status, "D");
  });

  test("a report that overtakes the send's answer is kept (200) and applied when the answer is recorded", async () => {
    gateway.hold = async (request) => {
      const appId = JSON.parse(request.body).id;
      const response = await status.handle(webhook(report("sms:failed", { messageId: appId, recipient: "+255700000007", reason: "RESULT_ERROR_RADIO_OFF" })));
      assert.deepEqual([response.status, response.body], [200, ""]);
    };
    try {
      const msg = await t.router.send("overtaken", await t.connections(["+255700000007"], "asg"));
      await t.idle();
      const record = await t.store.getMessage(msg.id);
      assert.equal(record?.transmissions[0].status, "E");
      assert.equal(record?.transmissions[0].error, "sms:failed: RESULT_ERROR_RADIO_OFF");
    } finally {
      gateway.hold = undefined;
    }
  });

  test("a report for a message this backend never sent is kept and answered 200, changing nothing", async () => {
    const before = await transmission("A", "+255700000001");
    const response = await status.handle(webhook(report("sms:failed", { messageId: "sent-from-the-phone-itself", recipient: "+255700000001", reason: "x" })));
    assert.deepEqual([response.status, response.body], [200, ""]);
    assert.equal((await transmission("A", "+255700000001"))?.status, before?.status);
  });

  const refused: [string, object, RegExp][] = [
    [
      "a report naming no recipient (it cannot say which transmission)",
      { event: "sms:delivered", payload: { messageId: "m1" } },
      /^form failed to validate\npayload\.recipient: This field is required: the app reports each recipient/,
    ],
    [
      "a report without messageId",
      { event: "sms:sent", payload: { recipient: "+1" } },
      /^form failed to validate\npayload\.messageId: This field is required\.$/,
    ],
    [
      "a partsCount that is not a number",
      { event: "sms:sent", payload: { messageId: "m", recipient: "+1", partsCount: "two" } },
      /^form failed to validate\npayload\.partsCount: Expected a number\.$/,
    ],
    ["a report without payload", { event: "sms:failed" }, /^form failed to validate\npayload: This field is required\.$/],
  ];
  for (const [name, envelope, reason] of refused) {
    test(`400, never 500: ${name}`, async () => {
      const response = await status.handle(webhook(envelope));
      assert.equal(response.status, 400);
      assert.match(response.body, reason);
    });
  }

  test("an unsigned report is 403 and records nothing", async () => {
    const before = await transmission("E", "+255700000005");
    const response = await status.handle(webhook(report("sms:delivered", { messageId: sent.E.appId, recipient: "+255700000005" }), { key: null }));
    assert.equal(response.status, 403);
    assert.equal((await transmission("E", "+255700000005"))?.deliveryReports.length, before?.deliveryReports.length);
  });
});

describe("android-sms-gateway options", () => {
  const resolve = (options: object) => resolveConfig({ installedBackends: { phone: { engine: "android-sms-gateway", ...options } } });

  test("the engine is installed by name with the cloud relay as its default baseUrl", async () => {
    const config = await resolve({ username: "u", password: "secret-value" });
    assert.equal(config.backends.phone.engine, AndroidSmsGatewayBackend);
    assert.equal((config.backends.phone.options as { baseUrl: string }).baseUrl, CLOUD_URL);
  });

  const refused: [string, object, RegExp][] = [
    ["no password", { username: "u" }, /option "password"/],
    ["no username", { password: "secret-value" }, /option "username": expected the username the app shows/],
    [
      "a baseUrl that is not http(s)",
      { username: "u", password: "secret-value", baseUrl: "ftp://x" },
      /option "baseUrl": expected the http\(s\) base URL of the app's API/,
    ],
    ["an unknown option", { username: "u", password: "secret-value", apiKey: "x" }, /apiKey/],
    ["freshnessSeconds of 0", { username: "u", password: "secret-value", freshnessSeconds: 0 }, /option "freshnessSeconds"/],
  ];
  for (const [name, options, reason] of refused) {
    test(`${name} stops the start, never showing a secret`, async () => {
      await assert.rejects(resolve(options), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, reason);
        assert.ok(!error.message.includes("secret-value"), error.message);
        return true;
      });
    });
  }

  test("the password and the signing key are secret options", () => {
    assert.deepEqual(AndroidSmsGatewayBackend.secretOptions, ["password", "webhookSigningKey"]);
  });

  /** The backend built the framework's way on a port whose logger is captured. */
  function warnings(options: object): string[] {
    const lines: string[] = [];
    const logger = pino(
      { level: "warn" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)).msg);
          done();
        },
      }),
    );
    const port = {
      name: "phone",
      publicUrl: null,
      logger,
      gatewayClient: (o: ConstructorParameters<typeof GatewayClient>[0]) => new GatewayClient(o),
    } as unknown as BackendPort;
    void buildBackend(AndroidSmsGatewayBackend, port, androidSmsGatewayOptionsSchema.parse({ username: "u", password: "p", ...options })).close();
    return lines;
  }

  test("without webhookSigningKey the start warns that webhooks are taken unsigned", async () => {
    const [warning, ...rest] = warnings({});
    assert.equal(rest.length, 0);
    assert.match(
      warning,
      /^backend "phone" \(android-sms-gateway\) has no webhookSigningKey: its webhooks at \/backend\/phone\/ and \/backend\/phone\/status\/ are taken unsigned/,
    );
    assert.match(warning, /set webhookSigningKey to the key in the app's Settings → Webhooks → Signing Key$/);
  });

  test("with a webhookSigningKey the start is quiet", () => {
    assert.deepEqual(warnings({ webhookSigningKey: KEY }), []);
  });
});
