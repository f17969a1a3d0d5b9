import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import sdk from "@infobip-api/sdk";
import { FakeGateway, type GatewayRequest } from "../../../test/support/fake-gateway.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { ConfigError, MessageSendingError } from "../../errors.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import { silentLogger } from "../../logger.ts";
import { buildBackend } from "../build.ts";
import { GatewayClient } from "../gateway-client.ts";
import type { BackendPort } from "../port.ts";
import type { BackendView, ViewRequest } from "../view.ts";
import { InfobipBackend, infobipOptionsSchema } from "./index.ts";
import { MAX_RESULTS } from "./json-body.ts";
import { destinationMessageId, infobipErrorText, prepareInfobipRequest } from "./outbound.ts";

const { Infobip, AuthType } = sdk;

const API_KEY = "ib-api-key-0123456789abcdef";
const TOKEN = "inbound-token-0123456789";
const ID = "0198c3d2a7f07c1e9b2a4d5e6f708192";

/** A POST as the server hands it to a view: `body` parsed (an object) or raw (a string). */
function post(view: BackendView, body: unknown, extra: Partial<ViewRequest> = {}) {
  return view.handle({ method: "POST", url: `/backend/infobip/${view.path}`, query: {}, body, headers: { "content-type": "application/json" }, ...extra });
}

/** An inbound message as Infobip's MO_JSON_2 has it (the example of its OpenAPI "receive inbound SMS messages"). */
function inbound(fields: Record<string, unknown> = {}) {
  return {
    messageId: "817790313235066447",
    from: "385916242493",
    to: "385921004026",
    text: "QUIZ Correct answer is Paris",
    cleanText: "Correct answer is Paris",
    keyword: "QUIZ",
    receivedAt: "2019-11-09T16:00:00.000+0000",
    smsCount: 1,
    price: { pricePerMessage: 0, currency: "EUR" },
    callbackData: "callbackData",
    ...fields,
  };
}

/**
 * Infobip's v3 answer to a send: one entry per destination, with the messageId we gave it, in the
 * PENDING group, and the SMS count (asked for with includeSmsCountInResponse). Shape from Infobip's
 * OpenAPI (`SmsResponseEnvelope`) and its Python client's `SmsResponse` models.
 */
function v3Answer(request: GatewayRequest, override: (destination: { to: string; messageId: string }, i: number) => object = () => ({})) {
  const sent = JSON.parse(request.body) as { messages: { destinations: { to: string; messageId: string }[] }[] };
  return JSON.stringify({
    bulkId: "2034072219640523072",
    messages: sent.messages[0].destinations.map((d, i) => ({
      messageId: d.messageId,
      status: { groupId: 1, groupName: "PENDING", id: 26, name: "PENDING_ACCEPTED", description: "Message sent to next instance" },
      destination: d.to,
      details: { messageCount: 1 },
      ...override(d, i),
    })),
  });
}

const rejected = (id: number, name: string, description: string) => ({ status: { groupId: 5, groupName: "REJECTED", id, name, description } });

describe("Infobip options", () => {
  const resolveInfobip = (options: object) => resolveConfig({ installedBackends: { infobip: { engine: "infobip", ...options } } });

  test("baseUrl is required, and the refusal says what to give", async () => {
    await assert.rejects(resolveInfobip({ apiKey: API_KEY }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /option "baseUrl": expected your account's base URL, such as https:\/\/xxxx\.api\.infobip\.com/);
      return true;
    });
  });

  test("apiKey is required, and a bad option never shows the key", async () => {
    await assert.rejects(resolveInfobip({ baseUrl: "https://x.api.infobip.com" }), /option "apiKey"/);
    await assert.rejects(resolveInfobip({ baseUrl: "https://x.api.infobip.com", apiKey: API_KEY, sendsmsUrl: "x" }), (error: unknown) => {
      assert.ok(error instanceof ConfigError && !error.message.includes(API_KEY));
      return true;
    });
  });

  const bases: [string, string][] = [
    ["xxxx.api.infobip.com", "https://xxxx.api.infobip.com"],
    ["https://xxxx.api.infobip.com/", "https://xxxx.api.infobip.com"],
    ["  http://127.0.0.1:8080/ib//  ", "http://127.0.0.1:8080/ib"],
  ];
  for (const [given, expected] of bases) {
    test(`baseUrl ${JSON.stringify(given)} is used as ${expected} (https added when there is no scheme, as Infobip's SDK does)`, () => {
      assert.equal(infobipOptionsSchema.parse({ baseUrl: given, apiKey: API_KEY }).baseUrl, expected);
    });
  }

  test("a short inboundToken is refused", () => {
    assert.throws(() => infobipOptionsSchema.parse({ baseUrl: "x.api.infobip.com", apiKey: API_KEY, inboundToken: "short" }), /at least 16 characters/);
  });

  test("the API key and the inbound token are secret options", () => {
    assert.deepEqual(InfobipBackend.secretOptions, ["apiKey", "inboundToken"]);
  });
});

describe("Infobip start-up warning", () => {
  function start(options: object): string[] {
    const warnings: string[] = [];
    const logger = Object.assign(Object.create(silentLogger), { warn: (_context: unknown, message: string) => warnings.push(message) });
    const port = {
      name: "infobip",
      publicUrl: null,
      logger,
      gatewayClient: (o: object) => new GatewayClient({ timeoutMs: 1000, ...o }),
    } as unknown as BackendPort;
    const backend = buildBackend(InfobipBackend, port, infobipOptionsSchema.parse({ baseUrl: "x.api.infobip.com", apiKey: API_KEY, ...options }));
    void backend.close();
    return warnings;
  }

  test("without an inboundToken the backend warns that its webhooks are open, and says what to set", () => {
    const [warning, ...more] = start({});
    assert.equal(more.length, 0);
    assert.match(warning, /has no inboundToken: Infobip does not sign its webhooks.*set inboundToken and give Infobip the URLs with \?token=/);
  });

  test("with an inboundToken it says nothing", () => {
    assert.deepEqual(start({ inboundToken: TOKEN }), []);
  });
});

describe("Infobip outbound: the request sent", () => {
  const options = (extra: object = {}) => infobipOptionsSchema.parse({ baseUrl: "https://xxxx.api.infobip.com", apiKey: API_KEY, ...extra });
  const headers = { authorization: `App ${API_KEY}`, "content-type": "application/json", accept: "application/json" };

  const cases: [string, object, string[], string | undefined, string, object][] = [
    [
      "one recipient, a sender and a delivery URL: the documented v3 body",
      { from: "InfoSMS" },
      ["41793026727"],
      "https://sms.example.org/backend/infobip/status/?token=t",
      "https://xxxx.api.infobip.com/sms/3/messages",
      {
        messages: [
          {
            sender: "InfoSMS",
            destinations: [{ to: "41793026727", messageId: `${ID}-41793026727` }],
            content: { text: "hello" },
            webhooks: { delivery: { url: "https://sms.example.org/backend/infobip/status/?token=t" }, contentType: "application/json" },
          },
        ],
        options: { includeSmsCountInResponse: true },
      },
    ],
    [
      "three recipients in one request, each its own messageId; no sender and no webhook when neither is known",
      {},
      ["41793026727", "+41793026834", "41793026700"],
      undefined,
      "https://xxxx.api.infobip.com/sms/3/messages",
      {
        messages: [
          {
            destinations: [
              { to: "41793026727", messageId: `${ID}-41793026727` },
              { to: "+41793026834", messageId: `${ID}-+41793026834` },
              { to: "41793026700", messageId: `${ID}-41793026700` },
            ],
            content: { text: "hello" },
          },
        ],
        options: { includeSmsCountInResponse: true },
      },
    ],
    [
      "a base URL with a path keeps it",
      { baseUrl: "http://127.0.0.1:9999/infobip/" },
      ["1"],
      undefined,
      "http://127.0.0.1:9999/infobip/sms/3/messages",
      { messages: [{ destinations: [{ to: "1", messageId: `${ID}-1` }], content: { text: "hello" } }], options: { includeSmsCountInResponse: true } },
    ],
  ];
  for (const [name, extra, identities, deliveryUrl, url, body] of cases) {
    test(name, () => {
      const call = prepareInfobipRequest(options(extra), { id: ID, text: "hello", identities, context: {} }, deliveryUrl);
      assert.deepEqual({ method: call.method, url: call.url, headers: call.headers }, { method: "POST", url, headers });
      assert.deepEqual(JSON.parse(String(call.body)), body);
    });
  }

  test("the messageId of a destination fits Infobip's 200 characters for the longest identity we take", () => {
    assert.ok(destinationMessageId(ID, "9".repeat(100)).length <= 200);
    assert.notEqual(destinationMessageId(ID, "41793026727"), destinationMessageId(ID, "+41793026727"));
  });

  test("identities longer than Infobip's 64 characters for a destination are refused before sending", () => {
    assert.ok(InfobipBackend.identityPattern.test("9".repeat(64)));
    assert.ok(!InfobipBackend.identityPattern.test("9".repeat(65)));
  });

  describe("through the running pipeline, with publicUrl and inboundToken", () => {
    const gateway = new FakeGateway();
    let t: TestRouter;
    before(async () => {
      await gateway.listen();
      gateway.respond = (request) => ({ body: v3Answer(request) });
      t = await createTestRouter({
        backends: { infobip: { engine: InfobipBackend, options: { baseUrl: `${gateway.url}/`, apiKey: API_KEY, from: "InfoSMS", inboundToken: TOKEN } } },
        publicUrl: "https://sms.example.org/",
      });
    });
    after(async () => {
      await t.close();
      await gateway.close();
    });

    test("the delivery webhook is the backend's status URL with its token; the key goes as Authorization: App", async () => {
      const message = await t.router.send("hi there", await t.connections(["41793026727"], "infobip"));
      await t.idle();
      const [request] = gateway.requests;
      assert.deepEqual([request.method, request.url, request.headers.authorization], ["POST", "/sms/3/messages", `App ${API_KEY}`]);
      const body = JSON.parse(request.body);
      assert.deepEqual(body.messages[0].webhooks, {
        delivery: { url: `https://sms.example.org/backend/infobip/status/?token=${TOKEN}` },
        contentType: "application/json",
      });
      assert.deepEqual(body.messages[0].destinations, [{ to: "41793026727", messageId: `${message.id}-41793026727` }]);
    });
  });
});

describe("Infobip outbound: the SDK as an oracle", () => {
  // @infobip-api/sdk 0.3.2 (the newest on npm) still posts the older v2 /sms/2/text/advanced shape
  // ({ messages: [{ destinations: [{ to, messageId }], from, text, notifyUrl, notifyContentType }] }).
  // What the two versions share is compared: the method, the base URL handling, the auth header, the
  // content type, the destination list with each messageId, the text, the sender and the report URL.
  // The v3 shape itself is checked above against Infobip's OpenAPI examples and its Python client's
  // models (SmsRequest, SmsMessage, SmsDestination, SmsWebhooks, SmsMessageRequestOptions).
  const gateway = new FakeGateway();
  before(async () => {
    await gateway.listen();
    gateway.respond = (request) => ({ body: request.url === "/sms/3/messages" ? v3Answer(request) : '{"messages":[]}' });
  });
  after(() => gateway.close());

  test("the SDK's request and ours agree on everything both API versions have", async () => {
    const identities = ["41793026727", "41793026834"];
    const deliveryUrl = `https://sms.example.org/backend/infobip/status/?token=${TOKEN}`;
    const infobip = new Infobip({ baseUrl: gateway.url, apiKey: API_KEY, authType: AuthType.ApiKey });
    const answer = await infobip.channels.sms.send({
      messages: [
        {
          destinations: identities.map((to) => ({ to, messageId: destinationMessageId(ID, to) })),
          from: "InfoSMS",
          text: "Habari 😀",
          notifyUrl: deliveryUrl,
          notifyContentType: "application/json",
        },
      ],
    });
    assert.equal(answer.status, 200, String(answer));
    const call = prepareInfobipRequest(
      infobipOptionsSchema.parse({ baseUrl: gateway.url, apiKey: API_KEY, from: "InfoSMS" }),
      { id: ID, text: "Habari 😀", identities, context: {} },
      deliveryUrl,
    );
    const client = new GatewayClient({ timeoutMs: 5000 });
    await client.call(call);
    await client.close();

    const [theirs, ours] = gateway.requests.slice(-2);
    assert.deepEqual([theirs.method, theirs.url], ["POST", "/sms/2/text/advanced"]);
    assert.deepEqual([ours.method, ours.url], ["POST", "/sms/3/messages"]);
    assert.equal(ours.headers.host, theirs.headers.host);
    assert.equal(ours.headers.authorization, theirs.headers.authorization);
    assert.equal(ours.headers.authorization, `App ${API_KEY}`);
    assert.match(String(theirs.headers["content-type"]), /^application\/json/);
    assert.equal(ours.headers["content-type"], "application/json");
    const v2 = JSON.parse(theirs.body).messages[0];
    const v3 = JSON.parse(ours.body).messages[0];
    assert.deepEqual(v3.destinations, v2.destinations);
    assert.equal(v3.content.text, v2.text);
    assert.equal(v3.sender, v2.from);
    assert.equal(v3.webhooks.delivery.url, v2.notifyUrl);
    assert.equal(v3.webhooks.contentType, v2.notifyContentType);
  });
});

describe("Infobip outbound: the answer and what it means", () => {
  const gateway = new FakeGateway();
  before(() => gateway.listen());
  after(() => gateway.close());

  /** Sends `text` to `identities` through the pipeline with the gateway answering `respond`; the transmissions by identity, and the calls made. */
  async function sendThrough(respond: FakeGateway["respond"], identities: string[], text = "hello", maxAttempts = 2) {
    gateway.requests.length = 0;
    gateway.respond = respond;
    const t = await createTestRouter({
      backends: { infobip: { engine: InfobipBackend, options: { baseUrl: gateway.url, apiKey: API_KEY, inboundToken: TOKEN } } },
      pipeline: { maxAttempts },
    });
    const message = await t.router.send(text, await t.connections(identities, "infobip"));
    await t.idle();
    const record = await t.store.getMessage(message.id);
    const transmissions = Object.fromEntries(
      await Promise.all(record!.transmissions.map(async (tr) => [tr.identity, (await t.store.getTransmission(tr.id))!] as const)),
    );
    await t.close();
    return { id: message.id, transmissions, calls: gateway.requests.map((r) => JSON.parse(r.body).messages[0].destinations.map((d: { to: string }) => d.to)) };
  }

  test("PENDING for each destination: S, our messageId as the gateway id, details.messageCount as the segments", async () => {
    const { id, transmissions, calls } = await sendThrough((r) => ({ body: v3Answer(r, (_d, i) => ({ details: { messageCount: i + 2 } })) }), ["111", "222"]);
    assert.deepEqual(calls, [["111", "222"]], "one request for both recipients");
    assert.deepEqual(
      Object.values(transmissions).map((tr) => [tr.identity, tr.status, tr.externalId, tr.segments]),
      [
        ["111", "S", `${id}-111`, 2],
        ["222", "S", `${id}-222`, 3],
      ],
    );
    assert.match(transmissions["111"].attemptLog.at(-1)!.answer!, /PENDING_ACCEPTED/);
  });

  test("an answer without details: the segments come from the text (a 161-character GSM text is 2)", async () => {
    const { transmissions } = await sendThrough((r) => ({ body: v3Answer(r, () => ({ details: undefined })) }), ["111"], "x".repeat(161));
    assert.equal(transmissions["111"].segments, 2);
  });

  test("Infobip's own messageId, matched by destination, is kept as the gateway id", async () => {
    const { transmissions } = await sendThrough(
      (r) => ({ body: v3Answer(r, (d) => ({ messageId: `ib-${d.to.replace("+", "")}`, destination: d.to.replace("+", "") })) }),
      ["+41793026727", "41793026834"],
    );
    assert.deepEqual(
      Object.values(transmissions).map((tr) => tr.externalId),
      ["ib-41793026727", "ib-41793026834"],
    );
  });

  test("a 2xx answer that is not JSON: sent, under the ids we gave (Infobip's reports carry them)", async () => {
    const { id, transmissions } = await sendThrough(() => ({ body: "OK", contentType: "text/plain" }), ["111"]);
    assert.deepEqual([transmissions["111"].status, transmissions["111"].externalId], ["S", `${id}-111`]);
  });

  test("REJECTED_DND for one of two: that one E at once with RECIPIENT_OPTED_OUT, the other S", async () => {
    const { id, transmissions, calls } = await sendThrough(
      (r) => ({ body: v3Answer(r, (d) => (d.to === "222" ? rejected(10, "REJECTED_DND", "Destination is on the do-not-disturb list") : {})) }),
      ["111", "222"],
    );
    assert.deepEqual(calls, [["111", "222"]], "not retried");
    assert.deepEqual([transmissions["111"].status, transmissions["111"].externalId], ["S", `${id}-111`]);
    assert.equal(transmissions["222"].status, "E");
    assert.match(transmissions["222"].error!, /could not send to 222: REJECTED_DND \(10\): Destination is on the do-not-disturb list.*RECIPIENT_OPTED_OUT/);
  });

  test("REJECTED_DESTINATION_BLOCKLISTED (by id alone) is an opt-out too", async () => {
    const { transmissions, calls } = await sendThrough(
      (r) => ({ body: v3Answer(r, () => ({ status: { groupId: 5, groupName: "REJECTED", id: 14 } })) }),
      ["111"],
    );
    assert.equal(calls.length, 1);
    assert.match(transmissions["111"].error!, /RECIPIENT_OPTED_OUT/);
  });

  const permanent: [string, object][] = [
    ["REJECTED_DESTINATION (an invalid number)", rejected(52, "REJECTED_DESTINATION", "Invalid destination address")],
    ["REJECTED_PREFIX_MISSING", rejected(8, "REJECTED_PREFIX_MISSING", "Number prefix missing")],
    ["REJECTED_NOT_ENOUGH_CREDITS", rejected(12, "REJECTED_NOT_ENOUGH_CREDITS", "Not enough credits")],
    ["an UNDELIVERABLE status in the answer", { status: { groupId: 2, groupName: "UNDELIVERABLE", id: 9, name: "UNDELIVERABLE_NOT_DELIVERED" } }],
  ];
  for (const [name, status] of permanent) {
    test(`${name}: E at once, with Infobip's words, not retried`, async () => {
      const { transmissions, calls } = await sendThrough((r) => ({ body: v3Answer(r, () => status) }), ["111"]);
      assert.equal(calls.length, 1);
      assert.equal(transmissions["111"].status, "E");
      const { name: statusName } = (status as { status: { name: string } }).status;
      assert.match(transmissions["111"].error!, new RegExp(`could not send to 111: ${statusName}`));
      assert.doesNotMatch(transmissions["111"].error!, /RECIPIENT_OPTED_OUT|gave up/);
    });
  }

  test("REJECTED_SYSTEM_ERROR for one of two: only that one is tried again, then E", async () => {
    const { transmissions, calls } = await sendThrough(
      (r) => ({ body: v3Answer(r, (d) => (d.to === "222" ? rejected(21, "REJECTED_SYSTEM_ERROR", "System error") : {})) }),
      ["111", "222"],
    );
    assert.deepEqual(calls, [["111", "222"], ["222"]]);
    assert.equal(transmissions["111"].status, "S");
    assert.equal(transmissions["222"].status, "E");
    assert.match(transmissions["222"].error!, /REJECTED_SYSTEM_ERROR \(21\): System error \(gave up after 2 attempts\)$/);
  });

  test("REJECTED_DUPLICATE_MESSAGE_ID (a retry of a message Infobip already took) is sent, under our id", async () => {
    const { id, transmissions, calls } = await sendThrough(
      (r) => ({ body: v3Answer(r, () => rejected(23, "REJECTED_DUPLICATE_MESSAGE_ID", "Duplicate message id")) }),
      ["111"],
    );
    assert.equal(calls.length, 1);
    assert.deepEqual([transmissions["111"].status, transmissions["111"].externalId], ["S", `${id}-111`]);
  });

  const refusals: [string, number, object, boolean, RegExp][] = [
    [
      "400 E400 (v3): E at once, with the code, description and violations",
      400,
      {
        errorCode: "E400",
        description: "Request cannot be processed.",
        action: "Check the syntax, violations and adjust the request.",
        violations: [{ property: "messages[0].destinations[0].to", violation: "size must be between 1 and 64" }],
        resources: [],
      },
      false,
      /: Infobip answered 400 to POST http:\/\/127\.0\.0\.1:\d+\/sms\/3\/messages: E400: Request cannot be processed\. \(messages\[0\]\.destinations\[0\]\.to: size must be between 1 and 64\) - Check the syntax, violations and adjust the request\.; check the backend's options and the message$/,
    ],
    [
      "400 in the older shape (requestError.serviceException) with validationErrors",
      400,
      {
        requestError: {
          serviceException: { messageId: "BAD_REQUEST", text: "Bad Request", validationErrors: { "messages[0].destinations": ["must not be empty"] } },
        },
      },
      false,
      /: BAD_REQUEST: Bad Request \(messages\[0\]\.destinations: must not be empty\); check the backend's options and the message$/,
    ],
    [
      "401: E at once; check apiKey and baseUrl",
      401,
      { errorCode: "E401", description: "The request lacks valid authentication credentials for the requested resource.", violations: [], resources: [] },
      false,
      /: E401: The request lacks valid authentication credentials for the requested resource\.; check apiKey and baseUrl/,
    ],
    [
      "429 E429: tried again",
      429,
      { errorCode: "E429", description: "Too many requests sent.", violations: [], resources: [] },
      true,
      /E429: Too many requests sent\.; will retry/,
    ],
    [
      "500 E500: tried again",
      500,
      { errorCode: "E500", description: "Something went wrong.", action: "Contact the support." },
      true,
      /E500: Something went wrong\..*; will retry/,
    ],
  ];
  for (const [name, status, body, retried, reason] of refusals) {
    test(name, async () => {
      const { transmissions, calls } = await sendThrough(() => ({ status, body: JSON.stringify(body) }), ["111"]);
      assert.equal(calls.length, retried ? 2 : 1);
      assert.equal(transmissions["111"].status, "E");
      const attempt = transmissions["111"].attemptLog[0];
      assert.match(attempt.error!, reason);
    });
  }

  test("the API key and the inbound token never appear, even when Infobip echoes them", async () => {
    const echo = `{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details: App ${API_KEY} token ${TOKEN}"}}}`;
    const { transmissions } = await sendThrough(() => ({ status: 401, body: echo }), ["111"]);
    const texts = [transmissions["111"].error, ...transmissions["111"].attemptLog.flatMap((a) => [a.error, a.answer])].join("\n");
    assert.match(texts, /UNAUTHORIZED: Invalid login details: App \*\*\* token \*\*\*/);
    assert.ok(!texts.includes(API_KEY) && !texts.includes(TOKEN), texts);

    const accepted = await sendThrough(
      (r) => ({ body: v3Answer(r, () => rejected(52, "REJECTED_DESTINATION", `bad destination for key ${API_KEY}`)) }),
      ["111"],
    );
    const rejectedTexts = [accepted.transmissions["111"].error, ...accepted.transmissions["111"].attemptLog.flatMap((a) => [a.error, a.answer])].join("\n");
    assert.ok(!rejectedTexts.includes(API_KEY), rejectedTexts);
  });

  test("a refused connection is retryable and names no secret", async () => {
    const t = await createTestRouter({
      backends: { infobip: { engine: InfobipBackend, options: { baseUrl: "http://127.0.0.1:9", apiKey: API_KEY } } },
      stopped: true,
    });
    await assert.rejects(t.backends.get("infobip")!.send({ id: ID, text: "hi", identities: ["1"], context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError && error.retryable);
      assert.ok(!error.message.includes(API_KEY));
      return true;
    });
    await t.close();
  });

  test("infobipErrorText reads nothing from a body of another shape", () => {
    assert.equal(infobipErrorText("<html>Bad gateway</html>"), undefined);
    assert.equal(infobipErrorText('{"error":"x"}'), undefined);
  });
});

describe("Infobip inbound (POST /backend/<name>/)", () => {
  let t: TestRouter;
  let view: BackendView;
  before(async () => {
    t = await createTestRouter({
      backends: { infobip: { engine: InfobipBackend, options: { baseUrl: "x.api.infobip.com", apiKey: API_KEY } } },
      stopped: true,
    });
    [view] = t.backends.get("infobip")!.views();
  });
  after(() => t.close());

  const received = (identity: string) => t.store.listMessages({ direction: "I", identity });

  test("200 with an empty body: Infobip's example, every field kept, externalId = messageId, text with its keyword", async () => {
    const response = await post(view, { results: [inbound()], messageCount: 1, pendingMessageCount: 0 });
    assert.deepEqual([response.status, response.body], [200, ""]);
    const [message] = await received("385916242493");
    assert.equal(message.text, "QUIZ Correct answer is Paris");
    assert.deepEqual(message.fields, { ...inbound(), externalId: "817790313235066447" });
  });

  test("several results in one request: each stored, in order", async () => {
    const results = ["one", "two", "three"].map((text, i) => inbound({ messageId: `multi-${i}`, from: "385910000001", text }));
    assert.equal((await post(view, { results, messageCount: 3, pendingMessageCount: 0 })).status, 200);
    const stored = await received("385910000001");
    assert.deepEqual(stored.map((m) => m.text).reverse(), ["one", "two", "three"]);
  });

  test("Infobip's redelivery of a messageId is answered 200 and stored once", async () => {
    const body = { results: [inbound({ messageId: "again-1", from: "385910000002" })] };
    assert.equal((await post(view, body)).status, 200);
    assert.equal((await post(view, body)).status, 200);
    assert.equal((await received("385910000002")).length, 1);
  });

  const accepted: [string, unknown, string, string][] = [
    [
      "a body left unparsed (another content type) is read as JSON",
      JSON.stringify({ results: [inbound({ messageId: "raw-1", from: "385910000003" })] }),
      "385910000003",
      "QUIZ Correct answer is Paris",
    ],
    [
      "numbers in messageId and from are taken as their digits",
      { results: [inbound({ messageId: 4242, from: 385910000004 })] },
      "385910000004",
      "QUIZ Correct answer is Paris",
    ],
    ["a null text is an empty message", { results: [inbound({ messageId: "null-1", from: "385910000005", text: null })] }, "385910000005", ""],
    [
      "emoji and whitespace are kept exactly",
      { results: [inbound({ messageId: "emoji-1", from: "385910000006", text: " Habari 😀\n" })] },
      "385910000006",
      " Habari 😀\n",
    ],
  ];
  for (const [name, body, identity, text] of accepted) {
    test(`200: ${name}`, async () => {
      assert.equal((await post(view, body)).status, 200);
      const [message] = await received(identity);
      assert.equal(message.text, text);
    });
  }

  const refused: [string, unknown, RegExp][] = [
    ["no results", { messageCount: 0 }, /^form failed to validate\nresults: This field is required\.$/],
    ["an empty results list", { results: [] }, /^form failed to validate\nresults: expected at least one result$/],
    ["results that is not a list", { results: { messageId: "x" } }, /^form failed to validate\nresults: expected a list of results$/],
    ["a result that is not an object", { results: ["x"] }, /^form failed to validate\nresults\[0\]: expected an object$/],
    [
      "a result without messageId",
      { results: [inbound({ messageId: undefined })] },
      /^form failed to validate\nresults\[0\]\.messageId: This field is required\.$/,
    ],
    ["a result without from", { results: [inbound({ from: "" })] }, /^form failed to validate\nresults\[0\]\.from: This field is required\.$/],
    ["a text that is not text", { results: [inbound({ text: { t: 1 } })] }, /^form failed to validate\nresults\[0\]\.text: Expected text\.$/],
    ["a lone surrogate in the text", { results: [inbound({ text: "bad \ud800" })] }, /^form failed to validate\nresults\[0\]\.text: Not valid text/],
    ["a JSON array", "[1]", /^form failed to validate\nexpected Infobip's JSON object/],
    ["a body that is not JSON", "{results", /^form failed to validate\nthe body is not valid JSON/],
    ["an XML body", "<MoReport><results/></MoReport>", /^form failed to validate\nthe body is XML: have Infobip send JSON/],
    ["an empty body", "", /^form failed to validate\nthe body is empty/],
    [
      `more than ${MAX_RESULTS} results`,
      { results: Array.from({ length: MAX_RESULTS + 1 }, (_, i) => inbound({ messageId: `many-${i}` })) },
      new RegExp(`^form failed to validate\nresults: more than ${MAX_RESULTS} results in one request$`),
    ],
  ];
  for (const [name, body, reason] of refused) {
    test(`400 with the reason, nothing stored: ${name}`, async () => {
      const before = (await t.store.listMessages({ direction: "I" })).length;
      const response = await post(view, body);
      assert.equal(response.status, 400);
      assert.match(response.body, reason);
      assert.equal((await t.store.listMessages({ direction: "I" })).length, before);
    });
  }

  test("one bad result refuses the whole request: the good one before it is not stored either", async () => {
    const response = await post(view, { results: [inbound({ messageId: "good-1", from: "385910000007" }), inbound({ messageId: "bad-1", from: "" })] });
    assert.equal(response.status, 400);
    assert.match(response.body, /^form failed to validate\nresults\[1\]\.from: This field is required\.$/);
    assert.equal((await received("385910000007")).length, 0);
  });

  test("405 for GET, naming POST", async () => {
    const response = await view.handle({ method: "GET", url: "/backend/infobip/", query: {} });
    assert.deepEqual([response.status, response.headers], [405, { allow: "POST" }]);
  });
});

describe("Infobip delivery reports (POST /backend/<name>/status/)", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let view: BackendView;
  let otherView: BackendView;
  /** Our message id per letter. */
  const sent: Record<string, string> = {};

  before(async () => {
    await gateway.listen();
    gateway.respond = (request) => ({ body: v3Answer(request) });
    const options = { baseUrl: gateway.url, apiKey: API_KEY };
    t = await createTestRouter({ backends: { infobip: { engine: InfobipBackend, options }, other: { engine: InfobipBackend, options } } });
    [, view] = t.backends.get("infobip")!.views();
    [, otherView] = t.backends.get("other")!.views();
    for (const [letter, identities] of [
      ["A", ["111"]],
      ["B", ["222", "333"]],
      ["C", ["444"]],
    ] as const) {
      const message = await t.router.send(`message ${letter}`, await t.connections(identities, "infobip"));
      await t.idle();
      sent[letter] = message.id;
    }
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  const transmission = async (letter: string, identity: string) => {
    const record = await t.store.getMessage(sent[letter]);
    return t.store.getTransmission(record!.transmissions.find((tr) => tr.identity === identity)!.id);
  };
  /** A report as Infobip's OpenAPI example "Delivery report" has it, for our message `letter` to `identity`. */
  const report = (letter: string, identity: string, status: object, error?: object) => ({
    bulkId: "BULK-ID-123-xyz",
    price: { pricePerMessage: 0.01, currency: "EUR" },
    status,
    error: error ?? { groupId: 0, groupName: "OK", id: 0, name: "NO_ERROR", description: "No Error", permanent: false },
    messageId: destinationMessageId(sent[letter], identity),
    to: identity,
    sender: "InfoSMS",
    sentAt: "2019-11-09T16:00:00.000+0100",
    doneAt: "2019-11-09T16:00:00.000+0100",
    messageCount: 1,
    callbackData: "callbackData",
  });
  const PENDING = { groupId: 1, groupName: "PENDING", id: 3, name: "PENDING_WAITING_DELIVERY", description: "Message sent, waiting for delivery report" };
  const DELIVERED = { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET", description: "Message delivered to handset" };
  const UNDELIVERABLE = { groupId: 2, groupName: "UNDELIVERABLE", id: 9, name: "UNDELIVERABLE_NOT_DELIVERED", description: "Message sent not delivered" };
  const EXPIRED = { groupId: 4, groupName: "EXPIRED", id: 15, name: "EXPIRED_EXPIRED", description: "Message expired" };
  const UNKNOWN_SUBSCRIBER = {
    groupId: 1,
    groupName: "HANDSET_ERRORS",
    id: 1,
    name: "EC_UNKNOWN_SUBSCRIBER",
    description: "Unknown Subscriber",
    permanent: true,
  };

  const cases: [string, () => object, [string, string], string, string][] = [
    ["PENDING is recorded; the transmission stays S", () => report("A", "111", PENDING), ["A", "111"], "S", "PENDING_WAITING_DELIVERY (PENDING)"],
    ["DELIVERED marks it D", () => report("A", "111", DELIVERED), ["A", "111"], "D", "DELIVERED_TO_HANDSET (DELIVERED)"],
    [
      "UNDELIVERABLE marks it E, with Infobip's error and whether it is permanent",
      () => report("B", "222", UNDELIVERABLE, UNKNOWN_SUBSCRIBER),
      ["B", "222"],
      "E",
      "UNDELIVERABLE_NOT_DELIVERED (UNDELIVERABLE); error 1 EC_UNKNOWN_SUBSCRIBER: Unknown Subscriber (permanent)",
    ],
    [
      "EXPIRED marks it E",
      () => report("B", "333", EXPIRED, { id: 27, name: "EC_ABSENT_SUBSCRIBER", permanent: false }),
      ["B", "333"],
      "E",
      "EXPIRED_EXPIRED (EXPIRED); error 27 EC_ABSENT_SUBSCRIBER (temporary)",
    ],
    ["REJECTED (group only, no name) marks it E", () => report("C", "444", { groupName: "REJECTED" }), ["C", "444"], "E", "REJECTED"],
  ];
  for (const [name, body, [letter, identity], status, detail] of cases) {
    test(`200: ${name}`, async () => {
      const response = await post(view, { results: [body()] });
      assert.deepEqual([response.status, response.body], [200, ""]);
      const tr = await transmission(letter, identity);
      assert.equal(tr?.status, status);
      assert.equal(tr!.deliveryReports.at(-1)!.detail, detail);
    });
  }

  test("several reports in one request are each matched to their recipient", async () => {
    const response = await post(view, { results: [report("B", "222", DELIVERED), report("B", "333", DELIVERED)] });
    assert.equal(response.status, 200);
    const details = await Promise.all(["222", "333"].map(async (identity) => (await transmission("B", identity))!.deliveryReports.at(-1)!.detail));
    assert.deepEqual(details, ["DELIVERED_TO_HANDSET (DELIVERED)", "DELIVERED_TO_HANDSET (DELIVERED)"]);
  });

  test("a report naming an id no send has brought yet is kept (200); another backend's report does not touch this one's", async () => {
    const before = await transmission("A", "111");
    const unknown = { ...report("A", "111", UNDELIVERABLE), messageId: "not-yet-known" };
    assert.equal((await post(view, { results: [unknown] })).status, 200);
    assert.equal((await post(otherView, { results: [report("A", "111", UNDELIVERABLE)] })).status, 200);
    assert.equal((await transmission("A", "111"))?.status, before?.status);
  });

  test("a report whose messageId is longer than any gateway id is a 400 that says why", async () => {
    const response = await post(view, { results: [{ ...report("A", "111", DELIVERED), messageId: "x".repeat(300) }] });
    assert.equal(response.status, 400);
    assert.match(response.body, /^form failed to validate\n.*Longer than 255 characters/);
  });

  const refused: [string, unknown, RegExp][] = [
    ["no status", { results: [{ messageId: "x" }] }, /^form failed to validate\nresults\[0\]\.status: This field is required\.$/],
    [
      "no groupName",
      { results: [{ messageId: "x", status: { id: 5 } }] },
      /^form failed to validate\nresults\[0\]\.status\.groupName: This field is required\.$/,
    ],
    [
      "an unknown status group",
      { results: [{ messageId: "x", status: { groupName: "LOST" } }] },
      /^form failed to validate\nresults\[0\]\.status\.groupName: unknown status group "LOST": expected one of PENDING, ACCEPTED, DELIVERED, UNDELIVERABLE, REJECTED, EXPIRED$/,
    ],
    ["no messageId", { results: [{ status: DELIVERED }] }, /^form failed to validate\nresults\[0\]\.messageId: This field is required\.$/],
    ["no results", {}, /^form failed to validate\nresults: This field is required\.$/],
    ["an XML report", "<DeliveryReports><results/></DeliveryReports>", /the body is XML: have Infobip send JSON/],
  ];
  for (const [name, body, reason] of refused) {
    test(`400, never 500: ${name}`, async () => {
      const response = await post(view, body);
      assert.equal(response.status, 400);
      assert.match(response.body, reason);
    });
  }

  test("one malformed report refuses the request before any is recorded", async () => {
    const before = (await transmission("C", "444"))!.deliveryReports.length;
    const response = await post(view, { results: [report("C", "444", DELIVERED), { messageId: "x", status: { groupName: "LOST" } }] });
    assert.equal(response.status, 400);
    assert.equal((await transmission("C", "444"))!.deliveryReports.length, before);
  });

  test("405 for GET", async () => {
    const response = await view.handle({ method: "GET", url: "/backend/infobip/status/", query: {} });
    assert.deepEqual([response.status, response.headers], [405, { allow: "POST" }]);
  });
});

describe("Infobip inboundToken", () => {
  let t: TestRouter;
  let inboundView: BackendView;
  let statusView: BackendView;
  before(async () => {
    t = await createTestRouter({
      backends: { infobip: { engine: InfobipBackend, options: { baseUrl: "x.api.infobip.com", apiKey: API_KEY, inboundToken: TOKEN } } },
      stopped: true,
    });
    [inboundView, statusView] = t.backends.get("infobip")!.views();
  });
  after(() => t.close());

  let n = 0;
  const cases: [string, Partial<ViewRequest>, number][] = [
    ["no token", {}, 403],
    ["a wrong ?token=", { url: "/backend/infobip/?token=wrong-token-0123456789" }, 403],
    ["a wrong X-RapidSMS-Token", { headers: { "content-type": "application/json", "x-rapidsms-token": "nope" } }, 403],
    ["the token as ?token= (the URL Infobip is given)", { url: `/backend/infobip/?token=${TOKEN}`, query: { token: TOKEN } }, 200],
    ["the token as X-RapidSMS-Token", { headers: { "content-type": "application/json", "x-rapidsms-token": TOKEN } }, 200],
  ];
  for (const [name, request, status] of cases) {
    test(`inbound, ${status}: ${name}`, async () => {
      n += 1;
      const before = (await t.store.listMessages({ direction: "I" })).length;
      const response = await post(inboundView, { results: [inbound({ messageId: `token-${n}` })] }, request);
      assert.equal(response.status, status, response.body);
      assert.equal((await t.store.listMessages({ direction: "I" })).length, before + (status === 200 ? 1 : 0));
      if (status === 403) {
        assert.match(response.body, /^forbidden: this endpoint needs the backend's inboundToken/);
        assert.ok(!response.body.includes(TOKEN));
      }
    });
  }

  test("the token is no field of the stored message", async () => {
    await post(
      inboundView,
      { results: [inbound({ messageId: "token-fields", from: "385919999999" })] },
      { url: `/backend/infobip/?token=${TOKEN}`, query: { token: TOKEN } },
    );
    const [message] = await t.store.listMessages({ direction: "I", identity: "385919999999" });
    assert.ok(!JSON.stringify(message.fields).includes(TOKEN));
  });

  test("delivery reports need the token too", async () => {
    const body = { results: [{ messageId: "not-yet-known", status: { groupName: "DELIVERED" } }] };
    assert.equal((await post(statusView, body)).status, 403);
    assert.equal((await post(statusView, body, { url: `/backend/infobip/status/?token=${TOKEN}`, query: { token: TOKEN } })).status, 200);
  });
});
