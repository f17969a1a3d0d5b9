import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import Fastify from "fastify";
import twilio from "twilio";
import { FakeGateway } from "../../../test/support/fake-gateway.ts";
import { EchoApp } from "../../apps/echo.ts";
import { createRapidSms, rapidsmsPlugin } from "../../embed/fastify.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import type { BackendView, ViewRequest } from "../view.ts";
import { TwilioBackend, twilioOptionsSchema } from "./index.ts";
import { EMPTY_TWIML } from "./inbound.ts";
import { twilioSignature, validTwilioSignature } from "./signature.ts";

const SID = `AC${"a1".repeat(16)}`;
const TOKEN = "twilio-auth-token-0123456789abcd";
const PUBLIC = "https://sms.example.org";
const INBOUND = `${PUBLIC}/backend/twilio/`;
const STATUS = `${PUBLIC}/backend/twilio/status/`;

/** Twilio's incoming-message webhook for a text, as its docs list the parameters. */
function incoming(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ToCountry: "US",
    SmsMessageSid: "SM11111111111111111111111111111111",
    NumMedia: "0",
    SmsSid: "SM11111111111111111111111111111111",
    SmsStatus: "received",
    Body: "echo hello",
    To: "+14155550199",
    NumSegments: "1",
    MessageSid: "SM11111111111111111111111111111111",
    AccountSid: SID,
    From: "+14155550100",
    ApiVersion: "2010-04-01",
    ...extra,
  };
}

/** A POST the way the server hands it to a view, signed by the Twilio SDK for the URL Twilio was given. */
function signedPost(view: BackendView, params: Record<string, string>, options: { signedFor?: string; token?: string; headers?: Record<string, string> } = {}) {
  const path = new URL(options.signedFor ?? `${PUBLIC}/backend/twilio/${view.path}`).pathname;
  const signature = twilio.getExpectedTwilioSignature(options.token ?? TOKEN, options.signedFor ?? `${PUBLIC}${path}`, params);
  const request: ViewRequest = {
    method: "POST",
    url: path,
    query: {},
    body: params,
    origin: "http://10.0.0.5:8000",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature, ...options.headers },
  };
  return view.handle(request);
}

describe("Twilio signatures, with the twilio SDK as the oracle", () => {
  const cases: [string, string, Record<string, string | string[]>][] = [
    ["the research note's vector's request", "https://ex.com/sms?x=1", { Body: "hi", From: "+1555", To: "+1666", MessageSid: "SM1" }],
    ["a full incoming webhook", INBOUND, incoming()],
    ["non-ASCII text and emoji", INBOUND, incoming({ Body: "Habari 😀 Ωμέγα — €5" })],
    ["parameters whose sort order differs by case", `${INBOUND}?a=1&b=2`, { b: "1", B: "2", a: "x", MediaUrl0: "https://api.twilio.com/m/1" }],
    ["a repeated parameter", INBOUND, { Tag: ["b", "a", "b"], Body: "x" }],
    ["no parameters", INBOUND, {}],
  ];

  for (const [name, url, params] of cases) {
    test(`HMAC-SHA1, ${name}: ours equals the SDK's, and each side validates the other's`, () => {
      const ours = twilioSignature(TOKEN, url, params);
      assert.equal(ours, twilio.getExpectedTwilioSignature(TOKEN, url, params));
      assert.equal(twilio.validateRequest(TOKEN, ours, url, params), true);
      assert.equal(validTwilioSignature(TOKEN, twilio.getExpectedTwilioSignature(TOKEN, url, params), { url, params, algorithm: "HMAC_SHA1" }), true);
    });
    test(`HMAC-SHA256 (webhook SharedKey), ${name}: ours equals the SDK's, and each side validates the other's`, () => {
      const ours = twilioSignature(TOKEN, url, params, "HMAC_SHA256");
      assert.equal(ours, twilio.getExpectedTwilioSignature(TOKEN, url, params, "HMAC_SHA256"));
      assert.equal(twilio.validateRequest(TOKEN, ours, url, params, "HMAC_SHA256"), true);
      assert.equal(validTwilioSignature(TOKEN, ours, { url, params, algorithm: "HMAC_SHA1" }), false, "an SHA-256 signature is not an SHA-1 one");
    });
  }

  test("the research note's fixed vector (token tok), independent of both implementations", () => {
    assert.equal(
      twilioSignature("tok", "https://ex.com/sms?x=1", { Body: "hi", From: "+1555", To: "+1666", MessageSid: "SM1" }),
      "T69jl+X3fcb9EPqcsBC2Gv93pWQ=",
    );
  });

  test("a URL signed with its default port validates without it, and the other way round, as the SDK allows", () => {
    const params = incoming();
    const withPort = "https://sms.example.org:443/backend/twilio/";
    assert.equal(validTwilioSignature(TOKEN, twilioSignature(TOKEN, withPort, params), { url: INBOUND, params, algorithm: "HMAC_SHA1" }), true);
    assert.equal(validTwilioSignature(TOKEN, twilioSignature(TOKEN, INBOUND, params), { url: withPort, params, algorithm: "HMAC_SHA1" }), true);
    assert.equal(twilio.validateRequest(TOKEN, twilioSignature(TOKEN, withPort, params), INBOUND, params), true);
    const otherPort = "https://sms.example.org:8443/backend/twilio/";
    assert.equal(validTwilioSignature(TOKEN, twilioSignature(TOKEN, otherPort, params), { url: INBOUND, params, algorithm: "HMAC_SHA1" }), false);
  });

  test("a JSON body is signed through bodySHA256 in the URL: the SDK's signature validates, a changed body does not", () => {
    const body = JSON.stringify({ MessageSid: "SM1", Body: "hi" });
    const url = `${INBOUND}?bodySHA256=${twilio.getExpectedBodyHash(body)}`;
    const signature = twilio.getExpectedTwilioSignature(TOKEN, url, {});
    assert.equal(validTwilioSignature(TOKEN, signature, { url, params: {}, rawBody: body, algorithm: "HMAC_SHA1" }), true);
    assert.equal(validTwilioSignature(TOKEN, signature, { url, params: {}, rawBody: body.replace("hi", "ho"), algorithm: "HMAC_SHA1" }), false);
    assert.equal(twilio.validateRequestWithBody(TOKEN, twilioSignature(TOKEN, url, {}), url, body), true);
  });
});

describe("Twilio inbound (POST /backend/<name>/)", () => {
  let t: TestRouter;
  let view: BackendView;
  before(async () => {
    t = await createTestRouter({
      backends: { twilio: { engine: TwilioBackend, options: { accountSid: SID, authToken: TOKEN, from: "+14155550199" } } },
      publicUrl: PUBLIC,
      stopped: true,
    });
    [view] = t.backends.get("twilio")!.views();
  });
  after(() => t.close());
  const stored = async () => t.store.listMessages({ direction: "I", limit: 100 });

  test("a signed text is answered with empty TwiML and received with every Twilio parameter as a field, MessageSid as its gateway id", async () => {
    const response = await signedPost(view, incoming({ FromCountry: "US" }));
    assert.deepEqual(response, { status: 200, body: EMPTY_TWIML, contentType: "text/xml; charset=utf-8" });
    const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(message.text, "echo hello");
    assert.equal(message.transmissions[0]?.identity, "+14155550100");
    assert.equal(message.fields.externalId, "SM11111111111111111111111111111111");
    assert.equal(message.fields.To, "+14155550199");
    assert.equal(message.fields.FromCountry, "US");
    assert.equal(message.fields.NumSegments, "1");
  });

  test("the same MessageSid again (Twilio retries) is answered 200 and stored once", async () => {
    const before = (await stored()).length;
    assert.equal((await signedPost(view, incoming())).status, 200);
    assert.equal((await stored()).length, before);
  });

  test("an MMS without words is received with an empty text and its media URLs as fields", async () => {
    const response = await signedPost(
      view,
      incoming({ MessageSid: "MM2", SmsSid: "MM2", Body: "", NumMedia: "1", MediaUrl0: "https://api.twilio.com/media/ME1", MediaContentType0: "image/jpeg" }),
    );
    assert.equal(response.status, 200);
    const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(message.text, "");
    assert.equal(message.fields.MediaUrl0, "https://api.twilio.com/media/ME1");
    assert.equal(message.fields.MediaContentType0, "image/jpeg");
  });

  const refused: [string, () => Promise<{ status: number; body: string }>, RegExp][] = [
    [
      "no X-Twilio-Signature",
      () => view.handle({ method: "POST", url: "/backend/twilio/", query: {}, body: incoming({ MessageSid: "SMr1" }) }),
      /no X-Twilio-Signature/,
    ],
    [
      "a signature made with another auth token",
      () => signedPost(view, incoming({ MessageSid: "SMr2" }), { token: "someone-elses-token-000000000000" }),
      /does not match.*authToken/,
    ],
    [
      "a signature for the URL the server sees rather than publicUrl's",
      () => signedPost(view, incoming({ MessageSid: "SMr3" }), { signedFor: "http://10.0.0.5:8000/backend/twilio/" }),
      /signed for https:\/\/sms\.example\.org\/backend\/twilio\//,
    ],
    [
      "a signed request whose Body was changed on the way",
      async () => {
        const params = incoming({ MessageSid: "SMr4" });
        const signature = twilio.getExpectedTwilioSignature(TOKEN, INBOUND, params);
        return view.handle({
          method: "POST",
          url: "/backend/twilio/",
          query: {},
          body: { ...params, Body: "echo pay me" },
          headers: { "x-twilio-signature": signature },
        });
      },
      /does not match/,
    ],
    [
      "an algorithm Twilio does not have",
      () => signedPost(view, incoming({ MessageSid: "SMr5" }), { headers: { "x-twilio-webhooks-signature-settings": "key=k,algorithm=HMAC_MD5" } }),
      /algorithm/,
    ],
    [
      "a signature over the bare URL (a GET's) replayed as a POST whose body is JSON",
      () =>
        view.handle({
          method: "POST",
          url: "/backend/twilio/",
          query: {},
          body: { MessageSid: "SMr6", From: "+14155550666", Body: "echo forged" },
          headers: { "content-type": "application/json", "x-twilio-signature": twilio.getExpectedTwilioSignature(TOKEN, INBOUND, {}) },
        }),
      /does not match/,
    ],
    [
      "a signature over the bare URL with a form body labelled as JSON",
      () =>
        view.handle({
          method: "POST",
          url: "/backend/twilio/",
          query: {},
          body: { MessageSid: "SMr7", From: "+14155550666", Body: "echo forged" },
          headers: {
            "content-type": "application/x-www-form-urlencoded; profile=json",
            "x-twilio-signature": twilio.getExpectedTwilioSignature(TOKEN, INBOUND, {}),
          },
        }),
      /does not match/,
    ],
  ];
  for (const [name, request, reason] of refused) {
    test(`${name}: 403 with the reason, and nothing stored`, async () => {
      const before = (await stored()).length;
      const response = await request();
      assert.equal(response.status, 403);
      assert.match(response.body, reason);
      assert.equal((await stored()).length, before);
    });
  }

  test("without publicUrl, a Host header no URL can be made of is a 403, not a 500", async () => {
    const bare = await createTestRouter({
      backends: { twilio: { engine: TwilioBackend, options: { accountSid: SID, authToken: TOKEN, from: "+14155550199" } } },
      stopped: true,
    });
    try {
      const [inbound] = bare.backends.get("twilio")!.views();
      const response = await inbound.handle({
        method: "POST",
        url: "/backend/twilio/",
        query: {},
        body: incoming(),
        origin: "http://exa mple",
        headers: { "x-twilio-signature": "x" },
      });
      assert.equal(response.status, 403);
      assert.match(response.body, /set publicUrl/);
    } finally {
      await bare.close();
    }
  });

  test("a signed webhook without From is a 400 naming the field", async () => {
    const { From: _from, ...params } = incoming({ MessageSid: "SMbad" });
    const response = await signedPost(view, params);
    assert.equal(response.status, 400);
    assert.match(response.body, /^form failed to validate\nFrom: This field is required\./);
  });

  test("a webhook set to HTTP GET is signed over its URL alone and read from the query", async () => {
    const query = incoming({ MessageSid: "SMget", Body: "by get" });
    const path = `/backend/twilio/?${new URLSearchParams(query)}`;
    const signature = twilio.getExpectedTwilioSignature(TOKEN, `${PUBLIC}${path}`, {});
    const response = await view.handle({ method: "GET", url: path, query, headers: { "x-twilio-signature": signature } });
    assert.equal(response.status, 200);
    const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(message.text, "by get");
  });
});

describe("Twilio outbound (the Messages API) and status callbacks", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let status: BackendView;
  let sid = 0;
  before(async () => {
    await gateway.listen();
    t = await createTestRouter({
      apps: [EchoApp],
      backends: {
        twilio: {
          engine: TwilioBackend,
          options: { accountSid: SID, authToken: TOKEN, from: "+14155550199", apiUrl: gateway.url, timeoutMs: 2_000 },
        },
      },
      publicUrl: PUBLIC,
      pipeline: { maxAttempts: 2 },
    });
    [, status] = t.backends.get("twilio")!.views();
  });
  beforeEach(() => {
    gateway.requests.length = 0;
    gateway.respond = (request) => {
      const to = new URLSearchParams(request.body).get("To");
      return { status: 201, body: JSON.stringify({ sid: `SM${String(++sid).padStart(32, "0")}`, to, status: "queued", num_segments: "1" }) };
    };
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  async function send(text: string, identities: string[]) {
    const msg = await t.router.send(text, await t.connections(identities, "twilio"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    return Promise.all(record!.transmissions.map((tr) => t.store.getTransmission(tr.id)));
  }

  test("one POST per recipient to Messages.json: Basic auth with the account SID and auth token, To, From, Body and StatusCallback on publicUrl", async () => {
    const [sent] = await send("hello there", ["+14155550100"]);
    assert.equal(gateway.requests.length, 1);
    const [request] = gateway.requests;
    assert.equal(request.method, "POST");
    assert.equal(request.url, `/2010-04-01/Accounts/${SID}/Messages.json`);
    assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`);
    assert.equal(request.headers["content-type"], "application/x-www-form-urlencoded");
    assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
      To: "+14155550100",
      From: "+14155550199",
      Body: "hello there",
      StatusCallback: STATUS,
    });
    assert.equal(sent?.status, "S");
    assert.match(sent?.externalId ?? "", /^SM0+\d+$/);
  });

  test("the request is the one the twilio SDK sends for the same message (same path, auth and form fields)", async () => {
    const sdk = twilio(SID, TOKEN);
    sdk.api.baseUrl = gateway.url;
    await sdk.messages.create({ to: "+14155550100", from: "+14155550199", body: "same 😀 text", statusCallback: STATUS });
    await send("same 😀 text", ["+14155550100"]);
    const [theirs, ours] = gateway.requests;
    assert.equal(ours.url, theirs.url);
    assert.equal(ours.method, theirs.method);
    assert.equal(ours.headers.authorization, theirs.headers.authorization);
    const fields = (body: string) => [...new URLSearchParams(body)].sort();
    assert.deepEqual(fields(ours.body), fields(theirs.body));
  });

  test("Twilio's num_segments is each recipient's segment count", async () => {
    gateway.respond = () => ({ status: 201, body: JSON.stringify({ sid: "SMlong", status: "queued", num_segments: "3" }) });
    const [sent] = await send("x".repeat(400), ["+14155550101"]);
    assert.equal(sent?.segments, 3);
  });

  const outcomes: [string, { status: number; body: string }, { status: string; error: RegExp | null }][] = [
    [
      "21610 (the recipient texted STOP)",
      { status: 400, body: '{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}' },
      { status: "E", error: /21610.*unsubscribed.*RECIPIENT_OPTED_OUT/ },
    ],
    [
      "21211 (an invalid To number)",
      { status: 400, body: '{"code":21211,"message":"The \'To\' number is not a valid phone number.","status":400}' },
      { status: "E", error: /21211.*not a valid phone number/ },
    ],
    [
      "20003 (the credentials)",
      { status: 401, body: '{"code":20003,"message":"Authenticate","status":401}' },
      { status: "E", error: /20003.*check accountSid and authToken/ },
    ],
    [
      "20429 (too many requests), twice",
      { status: 429, body: '{"code":20429,"message":"Too Many Requests","status":429}' },
      { status: "E", error: /20429.*gave up after 2 attempts/ },
    ],
    ["a 503 without a Twilio body, twice", { status: 503, body: "upstream unavailable" }, { status: "E", error: /503.*gave up after 2 attempts/ }],
  ];
  // A recipient each: after the 21610 one, RapidSMS has its recipient opted out and sends it nothing more.
  for (const [i, [name, answer, expected]] of outcomes.entries()) {
    test(`Twilio answers ${name}: ${expected.status}, with Twilio's own words in the error`, async () => {
      gateway.respond = () => answer;
      const [sent] = await send("hello", [`+1415555020${i}`]);
      assert.equal(sent?.status, expected.status);
      if (expected.error) assert.match(sent?.error ?? "", expected.error);
      assert.equal(gateway.requests.length, /twice/.test(name) ? 2 : 1, "permanent failures are not tried again");
    });
  }

  test("to two recipients, one of them unsubscribed: the other is S with its sid, the unsubscribed one E as opted out, and only it", async () => {
    gateway.respond = (request) => {
      const to = new URLSearchParams(request.body).get("To");
      return to === "+14155550104"
        ? { status: 400, body: '{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}' }
        : { status: 201, body: JSON.stringify({ sid: "SMpartial", status: "queued", num_segments: "1" }) };
    };
    const sent = await send("news", ["+14155550103", "+14155550104"]);
    const byIdentity = Object.fromEntries(sent.map((tr) => [tr?.identity, tr]));
    assert.equal(byIdentity["+14155550103"]?.status, "S");
    assert.equal(byIdentity["+14155550103"]?.externalId, "SMpartial");
    assert.equal(byIdentity["+14155550104"]?.status, "E");
    assert.match(byIdentity["+14155550104"]?.error ?? "", /RECIPIENT_OPTED_OUT/);
    assert.equal(gateway.requests.length, 2);
  });

  test("an error body that echoes the auth token is stored without it", async () => {
    gateway.respond = () => ({ status: 400, body: JSON.stringify({ code: 21211, message: `bad To for token ${TOKEN}`, status: 400 }) });
    const [sent] = await send("hello", ["+14155550105"]);
    assert.equal(sent?.status, "E");
    assert.doesNotMatch(sent?.error ?? "", new RegExp(TOKEN));
    assert.match(sent?.error ?? "", /\*\*\*/);
  });

  function signedStatus(params: Record<string, string>) {
    const signature = twilio.getExpectedTwilioSignature(TOKEN, STATUS, params);
    return status.handle({ method: "POST", url: "/backend/twilio/status/", query: {}, body: params, headers: { "x-twilio-signature": signature } });
  }

  const reports: [string, Record<string, string>, { status: string; delivered: boolean }][] = [
    ["sent", { MessageStatus: "sent" }, { status: "S", delivered: false }],
    ["delivered", { MessageStatus: "delivered" }, { status: "D", delivered: true }],
    ["undelivered with ErrorCode 30003", { MessageStatus: "undelivered", ErrorCode: "30003" }, { status: "E", delivered: false }],
    ["failed with ErrorCode 21610", { MessageStatus: "failed", ErrorCode: "21610" }, { status: "E", delivered: false }],
  ];
  for (const [name, params, expected] of reports) {
    test(`a signed status callback "${name}" marks the transmission ${expected.status}`, async () => {
      const [sent] = await send("report me", ["+14155550106"]);
      const response = await signedStatus({ MessageSid: sent!.externalId!, AccountSid: SID, From: "+14155550199", To: "+14155550106", ...params });
      assert.equal(response.status, 200);
      const after = await t.store.getTransmission(sent!.id);
      assert.equal(after?.status, expected.status);
      assert.equal(after?.deliveredAt !== null, expected.delivered);
    });
  }

  test("status callbacks are checked like inbound: unsigned is a 403 and changes nothing", async () => {
    const [sent] = await send("report me", ["+14155550107"]);
    const response = await status.handle({
      method: "POST",
      url: "/backend/twilio/status/",
      query: {},
      body: { MessageSid: sent!.externalId!, MessageStatus: "delivered" },
    });
    assert.equal(response.status, 403);
    assert.equal((await t.store.getTransmission(sent!.id))?.status, "S");
  });

  test("an unknown MessageStatus is a 400 that lists the known ones", async () => {
    const response = await signedStatus({ MessageSid: "SMx", MessageStatus: "teleported" });
    assert.equal(response.status, 400);
    assert.match(response.body, /MessageStatus: unknown status "teleported": expected one of accepted, .*delivered/);
  });
});

describe("Twilio options", () => {
  test("a sender is required: from or messagingServiceSid", () => {
    const result = twilioOptionsSchema.safeParse({ accountSid: SID, authToken: TOKEN });
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result.error?.issues), /set from .* or messagingServiceSid/);
  });

  test("with an API key, the API is called with the key and its secret, and MessagingServiceSid replaces From", async () => {
    const gateway = new FakeGateway();
    await gateway.listen();
    gateway.respond = () => ({ status: 201, body: '{"sid":"SMkey","num_segments":"1"}' });
    const apiKey = `SK${"b2".repeat(16)}`;
    const service = `MG${"c3".repeat(16)}`;
    const t = await createTestRouter({
      backends: {
        twilio: {
          engine: TwilioBackend,
          options: { accountSid: SID, authToken: TOKEN, apiKey, apiSecret: "key-secret-0123456789", messagingServiceSid: service, apiUrl: gateway.url },
        },
      },
    });
    try {
      await t.router.send("hi", await t.connections(["+14155550108"], "twilio"));
      await t.idle();
      const [request] = gateway.requests;
      assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${apiKey}:key-secret-0123456789`).toString("base64")}`);
      const form = Object.fromEntries(new URLSearchParams(request.body));
      assert.equal(form.MessagingServiceSid, service);
      assert.equal(form.From, undefined);
      assert.equal(form.StatusCallback, undefined, "no publicUrl, so no status callback");
    } finally {
      await t.close();
      await gateway.close();
    }
  });
});

describe("Twilio with RapidSMS's routes mounted under a prefix of a host's Fastify app", () => {
  test("publicUrl names the mount: a webhook signed for https://host/sms/backend/twilio/ is taken at /sms/backend/twilio/, and StatusCallback points there", async () => {
    const gateway = new FakeGateway();
    await gateway.listen();
    gateway.respond = () => ({ status: 201, body: '{"sid":"SMmounted","num_segments":"1"}' });
    const sms = await createRapidSms(
      {
        installedBackends: { twilio: { engine: "twilio", accountSid: SID, authToken: TOKEN, from: "+14155550199", apiUrl: gateway.url } },
        apps: ["echo"],
        database: "sqlite::memory:",
        publicUrl: "https://host.example/sms",
        apiToken: "mounted-api-token-0123456789",
      },
      { env: {} },
    );
    const host = Fastify();
    await host.register(rapidsmsPlugin, { rapidsms: sms, prefix: "/sms" });
    await sms.start();
    try {
      const params = incoming({ MessageSid: "SMmount1", Body: "echo mounted" });
      const response = await host.inject({
        method: "POST",
        url: "/sms/backend/twilio/",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": twilio.getExpectedTwilioSignature(TOKEN, "https://host.example/sms/backend/twilio/", params),
        },
        payload: new URLSearchParams(params).toString(),
      });
      assert.equal(response.statusCode, 200, response.body);
      await sms.system.pipeline.idle();
      assert.equal(new URLSearchParams(gateway.requests[0].body).get("StatusCallback"), "https://host.example/sms/backend/twilio/status/");
    } finally {
      await host.close();
      await sms.close();
      await gateway.close();
    }
  });
});
