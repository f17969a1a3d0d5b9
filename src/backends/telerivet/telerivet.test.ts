import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import { after, before, beforeEach, describe, test } from "node:test";
import pino from "pino";
import { FakeGateway } from "../../../test/support/fake-gateway.ts";
import { EchoApp } from "../../apps/echo.ts";
import { MessageSendingError } from "../../errors.ts";
import { parseUrlencoded } from "../../http/urlencoded.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import { buildBackend } from "../build.ts";
import { GatewayClient, type GatewayClientOptions } from "../gateway-client.ts";
import type { BackendPort } from "../port.ts";
import type { BackendView, ViewRequest } from "../view.ts";
import { TelerivetBackend, telerivetOptionsSchema } from "./index.ts";
import { createTelerivetSender, prepareTelerivetRequest, type TelerivetSendOptions } from "./outbound.ts";
import { derivedStatusSecret } from "./webhook.ts";

const API_KEY = "TRkey-0123456789abcdefABCDEFghij";
const PROJECT = "PJ0123456789abcdef";
const ROUTE = "PN0123456789abcdef";
const WEBHOOK_SECRET = "WHsecret-0123456789ABCDEFGHIJ";
const PUBLIC = "https://sms.example.org";
const STATUS_URL = `${PUBLIC}/backend/telerivet/status/`;

/** The npm `telerivet` SDK (CommonJS, untyped): the parts the tests use. */
interface TelerivetSdk {
  API: new (
    apiKey: string,
    apiUrl?: string,
  ) => {
    initProjectById(id: string): {
      sendMessage(
        options: Record<string, unknown>,
        callback: (error: (Error & { code?: string; param?: string }) | null, message: { get(name: string): unknown } | null) => void,
      ): void;
    };
  };
}
const telerivet = createRequire(import.meta.url)("telerivet") as TelerivetSdk;

/** A form POST as Telerivet makes it and the server hands it to a view: the body parsed from its raw text. */
function postForm(view: BackendView, raw: string, extra: Partial<ViewRequest> = {}) {
  return view.handle({
    method: "POST",
    url: `/backend/telerivet/${view.path}`,
    query: {},
    body: parseUrlencoded(raw),
    rawBody: raw,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    ...extra,
  });
}

function post(view: BackendView, fields: Record<string, string>) {
  return postForm(view, new URLSearchParams(fields).toString());
}

/** An incoming_message webhook with every field Telerivet documents. */
function incoming(fields: Record<string, string> = {}): Record<string, string> {
  return {
    event: "incoming_message",
    id: "SMa1b2c3d4e5f60001",
    message_type: "sms",
    content: "Hello world",
    from_number: "+16505550123",
    from_number_e164: "+16505550123",
    to_number: "+16505550199",
    time_created: "1767607200",
    phone_id: ROUTE,
    contact_id: "CTa1b2c3d4e5f60001",
    project_id: PROJECT,
    secret: WEBHOOK_SECRET,
    ...fields,
  };
}

describe("Telerivet options", () => {
  test("defaults: the API at https://api.telerivet.com, no route, secrets unset, 10 s, 16 at once", () => {
    assert.deepEqual(telerivetOptionsSchema.parse({ apiKey: API_KEY, projectId: PROJECT }), {
      apiKey: API_KEY,
      projectId: PROJECT,
      routeId: null,
      webhookSecret: null,
      statusSecret: null,
      apiUrl: "https://api.telerivet.com",
      publicUrl: null,
      timeoutMs: 10_000,
      maxConcurrency: 16,
    });
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ["no apiKey", { projectId: PROJECT }, /apiKey/],
    ["no projectId", { apiKey: API_KEY }, /projectId/],
    ["a projectId with a slash (it goes into the API's path)", { apiKey: API_KEY, projectId: "PJ1/../x" }, /projectId[\s\S]*letters and digits/],
    ["an apiUrl ending in /v1, as the SDK takes it", { apiKey: API_KEY, projectId: PROJECT, apiUrl: "https://api.telerivet.com/v1" }, /without \/v1/],
    ["an unknown option (a typo)", { apiKey: API_KEY, projectId: PROJECT, webhookSecrte: "x" }, /webhookSecrte/],
    ["an empty webhookSecret", { apiKey: API_KEY, projectId: PROJECT, webhookSecret: "" }, /webhookSecret[\s\S]*non-empty/],
  ];
  for (const [name, options, reason] of refused) {
    test(`refused: ${name}`, () => {
      const result = telerivetOptionsSchema.safeParse(options);
      assert.equal(result.success, false);
      assert.match(JSON.stringify(result.error?.issues), reason);
    });
  }

  test("apiKey, webhookSecret and statusSecret are the secret options", () => {
    assert.deepEqual(TelerivetBackend.secretOptions, ["apiKey", "webhookSecret", "statusSecret"]);
  });
});

describe("Telerivet start-up warnings", () => {
  function warningsOf(options: Record<string, unknown>, publicUrl: string | null): string[] {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const port = {
      name: "telerivet",
      publicUrl,
      logger: pino({ level: "warn" }, stream),
      gatewayClient: (options: GatewayClientOptions) => new GatewayClient(options),
    } as unknown as BackendPort;
    buildBackend(TelerivetBackend, port, telerivetOptionsSchema.parse({ apiKey: API_KEY, projectId: PROJECT, ...options }));
    return lines.map((line) => JSON.parse(line).msg as string);
  }

  test("without webhookSecret: a warning that anyone can post messages, naming the option to set", () => {
    const warnings = warningsOf({}, PUBLIC);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /no webhookSecret: anyone who reaches \/backend\/telerivet\/ can post messages.*set webhookSecret/);
  });

  test("without publicUrl: a warning that Telerivet gets no status_url", () => {
    const warnings = warningsOf({ webhookSecret: WEBHOOK_SECRET }, null);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /no publicUrl: Telerivet is given no status_url/);
  });

  test("with webhookSecret and publicUrl: no warning", () => {
    assert.deepEqual(warningsOf({ webhookSecret: WEBHOOK_SECRET }, PUBLIC), []);
  });
});

describe("Telerivet inbound (POST /backend/<name>/, form-encoded)", () => {
  let t: TestRouter;
  let view: BackendView;
  let open: BackendView;
  before(async () => {
    t = await createTestRouter({
      backends: {
        telerivet: { engine: TelerivetBackend, options: { apiKey: API_KEY, projectId: PROJECT, webhookSecret: WEBHOOK_SECRET } },
        open: { engine: TelerivetBackend, options: { apiKey: API_KEY, projectId: PROJECT } },
      },
      stopped: true,
    });
    [view] = t.backends.get("telerivet")!.views();
    [open] = t.backends.get("open")!.views();
  });
  after(() => t.close());

  const stored = async () => (await t.store.listMessages({ direction: "I", limit: 1_000 })).length;

  test("Telerivet's documented example (raw form): 200 with an empty body; every field but the secret kept, externalId = id", async () => {
    const raw = `event=incoming_message&id=SMdoc0001&from_number=%2B16505550123&content=Hello+world&to_number=%2B16505550199&secret=${WEBHOOK_SECRET}`;
    const response = await postForm(view, raw);
    assert.deepEqual([response.status, response.body], [200, ""]);
    const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(message.transmissions[0].identity, "+16505550123");
    assert.equal(message.text, "Hello world");
    assert.deepEqual(message.fields, {
      event: "incoming_message",
      id: "SMdoc0001",
      from_number: "+16505550123",
      content: "Hello world",
      to_number: "+16505550199",
      externalId: "SMdoc0001",
    });
  });

  const accepted: [string, Record<string, string>, { identity: string; text: string; fields?: Record<string, unknown> }][] = [
    [
      "every documented field: all kept but the secret",
      incoming({ id: "SMall0001" }),
      {
        identity: "+16505550123",
        text: "Hello world",
        fields: {
          event: "incoming_message",
          id: "SMall0001",
          message_type: "sms",
          content: "Hello world",
          from_number: "+16505550123",
          from_number_e164: "+16505550123",
          to_number: "+16505550199",
          time_created: "1767607200",
          phone_id: ROUTE,
          contact_id: "CTa1b2c3d4e5f60001",
          project_id: PROJECT,
          externalId: "SMall0001",
        },
      },
    ],
    [
      "the sender is from_number as Telerivet wrote it (a local number), from_number_e164 kept beside it",
      incoming({ id: "SMlocal01", from_number: "0712345678", from_number_e164: "+254712345678" }),
      { identity: "0712345678", text: "Hello world" },
    ],
    [
      "the content kept exactly: whitespace and emoji",
      incoming({ id: "SMexact01", content: "  two  spaces 😀\n" }),
      { identity: "+16505550123", text: "  two  spaces 😀\n" },
    ],
    [
      "no content (a call, an MMS of media only) is an empty text",
      (() => {
        const { content: _content, ...rest } = incoming({ id: "SMcall001", message_type: "call" });
        return rest;
      })(),
      { identity: "+16505550123", text: "" },
    ],
    [
      "fields Telerivet may add later are kept too",
      incoming({ id: "SMextra01", time_sent: "1767607201", service_id: "SVa1b2", "vars[tag]": "x" }),
      { identity: "+16505550123", text: "Hello world", fields: { time_sent: "1767607201", service_id: "SVa1b2", "vars[tag]": "x" } },
    ],
  ];
  for (const [name, fields, expected] of accepted) {
    test(`200 with an empty body: ${name}`, async () => {
      const response = await post(view, fields);
      assert.deepEqual([response.status, response.body], [200, ""]);
      const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
      assert.equal(message.transmissions[0].identity, expected.identity);
      assert.equal(message.text, expected.text);
      assert.equal(message.fields.secret, undefined, "the secret is no field of the message");
      if (expected.fields) {
        for (const [key, value] of Object.entries(expected.fields)) assert.deepEqual(message.fields[key], value, key);
        if (name.startsWith("every")) assert.deepEqual(message.fields, expected.fields);
      }
    });
  }

  test("a repeated field counts once, the last value winning", async () => {
    const raw = `${new URLSearchParams(incoming({ id: "SMrepeat1" }))}&content=second`;
    assert.equal((await postForm(view, raw)).status, 200);
    const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(message.text, "second");
  });

  const refused: [string, Record<string, string> | string, number, RegExp][] = [
    ["a wrong secret", incoming({ id: "SMbad0001", secret: "not-the-secret" }), 403, /^forbidden: the POST field "secret" is wrong: .*webhookSecret/],
    [
      "no secret",
      (() => {
        const { secret: _secret, ...rest } = incoming({ id: "SMbad0002" });
        return rest;
      })(),
      403,
      /^forbidden: the POST field "secret" is missing/,
    ],
    ["a secret that differs only in case", incoming({ id: "SMbad0003", secret: WEBHOOK_SECRET.toLowerCase() }), 403, /^forbidden/],
    [
      "no id",
      (() => {
        const { id: _id, ...rest } = incoming();
        return rest;
      })(),
      400,
      /^form failed to validate\nid: This field is required\.$/,
    ],
    ["an empty from_number", incoming({ id: "SMbad0004", from_number: " " }), 400, /^form failed to validate\nfrom_number: This field is required\.$/],
    ["a NUL in the content", incoming({ id: "SMbad0005", content: "h\u0000i" }), 400, /^form failed to validate\ncontent: Null characters are not allowed\.$/],
    [
      "no event",
      (() => {
        const { event: _event, ...rest } = incoming({ id: "SMbad0006" });
        return rest;
      })(),
      400,
      /^form failed to validate\nevent: This field is required\.$/,
    ],
    ["an event of another kind, with a wrong secret", incoming({ id: "SMbad0007", event: "contact_update", secret: "nope" }), 403, /^forbidden/],
  ];
  for (const [name, fields, status, reason] of refused) {
    test(`${status} and nothing stored: ${name}`, async () => {
      const before = await stored();
      const response = typeof fields === "string" ? await postForm(view, fields) : await post(view, fields);
      assert.equal(response.status, status);
      assert.match(response.body, reason);
      assert.equal(await stored(), before);
    });
  }

  test("a body that is no form: 403 when a secret is expected, else 400 saying Telerivet posts forms", async () => {
    const json = { method: "POST", url: "/backend/telerivet/", query: {}, body: JSON.stringify(incoming()), headers: { "content-type": "text/plain" } };
    assert.equal((await view.handle(json)).status, 403);
    const response = await open.handle({ ...json, url: "/backend/open/" });
    assert.equal(response.status, 400);
    assert.match(response.body, /^form failed to validate\nthe body is not a form: Telerivet POSTs its webhooks as application\/x-www-form-urlencoded$/);
  });

  test("405 for GET, naming POST, and nothing stored", async () => {
    const before = await stored();
    const query = incoming({ id: "SMget0001" });
    const response = await view.handle({ method: "GET", url: `/backend/telerivet/?${new URLSearchParams(query)}`, query });
    assert.equal(response.status, 405);
    assert.deepEqual(response.headers, { allow: "POST" });
    assert.equal(await stored(), before);
  });

  test("other events (a contact or message update) are answered 200 and ignored, so that Telerivet does not retry them", async () => {
    const before = await stored();
    for (const event of ["contact_update", "message_update", "default"]) {
      const response = await post(view, incoming({ id: `SMother-${event}`, event }));
      assert.deepEqual([response.status, response.body], [200, ""], event);
    }
    assert.equal(await stored(), before);
  });

  test("Telerivet's retry of the same id is answered 200 and stored once", async () => {
    const message = incoming({ id: "SMretried1", from_number: "+16505550177" });
    assert.equal((await post(view, message)).status, 200);
    assert.equal((await post(view, message)).status, 200);
    assert.equal((await t.store.listMessages({ direction: "I", identity: "+16505550177" })).length, 1);
  });

  test("without webhookSecret every request is taken, and a secret it carries is still not kept", async () => {
    const response = await post(open, incoming({ id: "SMopen0001", secret: "whatever" }));
    assert.equal(response.status, 200);
    const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(message.fields.id, "SMopen0001");
    assert.equal(message.fields.secret, undefined);
  });
});

const sendOptions: TelerivetSendOptions = {
  apiKey: API_KEY,
  projectId: PROJECT,
  routeId: null,
  apiUrl: "https://api.telerivet.com",
  statusUrl: undefined,
  statusSecret: "status-secret-0123456789",
  maxConcurrency: 16,
  timeoutMs: 10_000,
};

describe("Telerivet outbound: the request sent", () => {
  const auth = `Basic ${Buffer.from(`${API_KEY}:`).toString("base64")}`;
  const headers = { authorization: auth, "content-type": "application/json", accept: "application/json" };
  const url = `https://api.telerivet.com/v1/projects/${PROJECT}/messages/send`;

  const cases: [string, Partial<TelerivetSendOptions>, string, string, { url?: string; body: string }][] = [
    ["to_number and content only, without a route or a public URL", {}, "hi", "+16505550123", { body: '{"to_number":"+16505550123","content":"hi"}' }],
    [
      "route_id, and status_url with its status_secret",
      { routeId: ROUTE, statusUrl: STATUS_URL },
      "hi",
      "+16505550123",
      {
        body: `{"to_number":"+16505550123","content":"hi","route_id":"${ROUTE}","status_url":"${STATUS_URL}","status_secret":"status-secret-0123456789"}`,
      },
    ],
    ["text outside GSM-7 goes as it is, JSON being UTF-8", {}, "Habari ç 😀", "0712345678", { body: '{"to_number":"0712345678","content":"Habari ç 😀"}' }],
    [
      "an apiUrl with a trailing slash and a path prefix",
      { apiUrl: "http://127.0.0.1:9000/telerivet/" },
      "hi",
      "+1",
      { url: `http://127.0.0.1:9000/telerivet/v1/projects/${PROJECT}/messages/send`, body: '{"to_number":"+1","content":"hi"}' },
    ],
  ];
  for (const [name, options, text, identity, expected] of cases) {
    test(`POST: ${name}`, () => {
      const call = prepareTelerivetRequest({ ...sendOptions, ...options }, text, identity);
      assert.deepEqual(
        { method: call.method, url: call.url, headers: call.headers, body: call.body },
        { method: "POST", url: expected.url ?? url, headers, body: expected.body },
      );
    });
  }

  test("the derived status_secret: 64 hex digits, the same for the same key and backend, different for another of either", () => {
    const secret = derivedStatusSecret(API_KEY, "telerivet");
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(derivedStatusSecret(API_KEY, "telerivet"), secret);
    assert.notEqual(derivedStatusSecret(`${API_KEY}x`, "telerivet"), secret);
    assert.notEqual(derivedStatusSecret(API_KEY, "telerivet-2"), secret);
    assert.ok(!secret.includes(API_KEY));
  });
});

describe("Telerivet outbound: against the telerivet SDK (the oracle)", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  const statusSecret = "status-secret-0123456789";
  before(async () => {
    await gateway.listen();
    t = await createTestRouter({
      backends: {
        telerivet: {
          engine: TelerivetBackend,
          options: { apiKey: API_KEY, projectId: PROJECT, routeId: ROUTE, statusSecret, apiUrl: gateway.url, publicUrl: PUBLIC },
        },
      },
      stopped: true,
    });
  });
  beforeEach(() => {
    gateway.requests.length = 0;
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  function sdkSend(options: Record<string, unknown>): Promise<{ error: (Error & { code?: string; param?: string }) | null; id: unknown }> {
    const api = new telerivet.API(API_KEY, `${gateway.url}/v1`);
    return new Promise((resolve) => api.initProjectById(PROJECT).sendMessage(options, (error, message) => resolve({ error, id: message?.get("id") })));
  }

  test("the same message through the SDK and through the backend: same method, path, Basic auth, content type and JSON fields", async () => {
    gateway.respond = () => ({ body: JSON.stringify({ id: "SMsame0001", status: "queued", to_number: "+16505550123", num_parts: 1 }) });
    const text = "same 😀 text";
    const sdk = await sdkSend({ to_number: "+16505550123", content: text, route_id: ROUTE, status_url: STATUS_URL, status_secret: statusSecret });
    const ours = await t.backends.get("telerivet")!.send({ id: "m1", text, identities: ["+16505550123"], context: {} });
    const [theirs, mine] = gateway.requests;
    assert.equal(theirs.headers["content-encoding"], undefined, "the SDK gzips bodies of 400 characters or more: this one is short enough to compare");
    assert.deepEqual(
      { method: mine.method, url: mine.url, auth: mine.headers.authorization, type: mine.headers["content-type"], body: JSON.parse(mine.body) },
      { method: theirs.method, url: theirs.url, auth: theirs.headers.authorization, type: theirs.headers["content-type"], body: JSON.parse(theirs.body) },
    );
    assert.equal(mine.url, `/v1/projects/${PROJECT}/messages/send`);
    assert.deepEqual([sdk.error, sdk.id], [null, "SMsame0001"]);
    assert.deepEqual(ours?.externalIds, { "+16505550123": "SMsame0001" }, "the id the SDK reads from the answer is the one we keep");
  });

  test("an error answer: the SDK's error code and param are the ones our refusal names", async () => {
    gateway.respond = () => ({ status: 400, body: '{"error":{"code":"invalid_param","message":"Invalid phone number","param":"to_number"}}' });
    const sdk = await sdkSend({ to_number: "abc", content: "hi" });
    assert.deepEqual(
      [sdk.error?.name, sdk.error?.code, sdk.error?.param, sdk.error?.message],
      ["InvalidParameterError", "invalid_param", "to_number", "Invalid phone number"],
    );
    await assert.rejects(t.backends.get("telerivet")!.send({ id: "m2", text: "hi", identities: ["abc"], context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.match(error.identityErrors.abc, new RegExp(`${sdk.error?.code} \\(${sdk.error?.param}\\): ${sdk.error?.message}`));
      return true;
    });
  });
});

describe("Telerivet outbound: Telerivet's answers", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let next = 0;
  const derived = derivedStatusSecret(API_KEY, "telerivet");
  before(async () => {
    await gateway.listen();
    t = await createTestRouter({
      backends: {
        telerivet: {
          engine: TelerivetBackend,
          options: { apiKey: API_KEY, projectId: PROJECT, apiUrl: gateway.url, publicUrl: PUBLIC, maxConcurrency: 2, timeoutMs: 2_000 },
        },
      },
      stopped: true,
    });
  });
  beforeEach(() => {
    gateway.requests.length = 0;
    gateway.respond = (request) => ({
      body: JSON.stringify({ id: `SM${String(++next).padStart(16, "0")}`, status: "queued", to_number: JSON.parse(request.body).to_number }),
    });
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  const send = (identities: string[], text = "hello") => t.backends.get("telerivet")!.send({ id: "m", text, identities, context: {} });

  test("one request per recipient; each Telerivet id kept for its recipient; status_url on publicUrl with the derived status_secret", async () => {
    const result = await send(["+16505550101", "+16505550102"]);
    assert.equal(gateway.requests.length, 2);
    const bodies = gateway.requests.map((r) => JSON.parse(r.body)).sort((a, b) => a.to_number.localeCompare(b.to_number));
    assert.deepEqual(bodies, [
      { to_number: "+16505550101", content: "hello", status_url: STATUS_URL, status_secret: derived },
      { to_number: "+16505550102", content: "hello", status_url: STATUS_URL, status_secret: derived },
    ]);
    const ids = Object.values(result?.externalIds ?? {});
    assert.equal(new Set(ids).size, 2);
    for (const id of ids) assert.match(id, /^SM\d{16}$/);
  });

  test("num_parts is the recipient's segment count; without it, the text's own count", async () => {
    gateway.respond = (request) => {
      const to = JSON.parse(request.body).to_number;
      return { body: JSON.stringify(to === "+1" ? { id: "SMparts1", num_parts: 3 } : { id: "SMparts2" }) };
    };
    const result = await send(["+1", "+2"], "x".repeat(161));
    assert.deepEqual(result?.segments, { "+1": 3, "+2": 2 });
  });

  test("the answer is kept for the attempt log, without the API key or the status secret an echoing gateway put in it", async () => {
    gateway.respond = () => ({ body: JSON.stringify({ id: "SMecho0001", status: "queued", note: `key ${API_KEY} secret ${derived}` }) });
    const result = await send(["+16505550103"]);
    assert.match(result?.answer ?? "", /SMecho0001/);
    assert.ok(!result?.answer?.includes(API_KEY) && !result?.answer?.includes(derived), result?.answer);
  });

  test("a failed_queued answer is sent: Telerivet tries again itself", async () => {
    gateway.respond = () => ({ body: JSON.stringify({ id: "SMfq000001", status: "failed_queued", error_message: "phone offline" }) });
    assert.deepEqual((await send(["+16505550104"]))?.externalIds, { "+16505550104": "SMfq000001" });
  });

  test("at most maxConcurrency calls at once: a call starts only when one ends, so its deadline is not spent waiting for a connection", async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const client = {
      redact: (text: string) => text,
      async call() {
        calls++;
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return { status: 200, headers: {}, body: `{"id":"SMlane${calls}"}`, truncated: false, logText: "" };
      },
    } as unknown as GatewayClient;
    const sender = createTelerivetSender({ ...sendOptions, maxConcurrency: 2 }, client);
    const result = await sender({ id: "m", text: "hi", identities: ["+10", "+11", "+12", "+13", "+14", "+15"], context: {} });
    assert.equal(Object.keys(result.externalIds ?? {}).length, 6);
    assert.equal(calls, 6);
    assert.equal(most, 2);
  });

  const failures: [string, { status?: number; body: string }, { retryable: boolean; code: string; optedOut?: boolean; reason: RegExp }][] = [
    [
      "400 invalid_param (an invalid to_number)",
      { status: 400, body: '{"error":{"code":"invalid_param","message":"Invalid phone number","param":"to_number"}}' },
      {
        retryable: false,
        code: "GATEWAY_REJECTED",
        reason: /^Telerivet error invalid_param \(to_number\): Invalid phone number \(HTTP 400\); check the number/,
      },
    ],
    [
      "404 not_found (a wrong project or route)",
      { status: 404, body: '{"error":{"code":"not_found","message":"Project not found"}}' },
      { retryable: false, code: "GATEWAY_REJECTED", reason: /^Telerivet error not_found: Project not found \(HTTP 404\); check projectId and routeId$/ },
    ],
    [
      "400 send_blocked (the contact opted out; the code is our assumption)",
      { status: 400, body: '{"error":{"code":"send_blocked","message":"Contact has been blocked"}}' },
      { retryable: false, code: "RECIPIENT_OPTED_OUT", optedOut: true, reason: /^Telerivet error send_blocked: Contact has been blocked \(HTTP 400\)$/ },
    ],
    [
      "403 send_blocked: opted out whatever the HTTP status",
      { status: 403, body: '{"error":{"code":"send_blocked","message":"Contact has been blocked"}}' },
      { retryable: false, code: "RECIPIENT_OPTED_OUT", optedOut: true, reason: /send_blocked/ },
    ],
    [
      "401 (a wrong API key)",
      { status: 401, body: '{"error":{"code":"unauthorized","message":"Invalid API key"}}' },
      { retryable: false, code: "GATEWAY_AUTH_FAILED", reason: /answered 401 .*Invalid API key.*; check apiKey/ },
    ],
    [
      "429 (too many requests)",
      { status: 429, body: '{"error":{"code":"rate_limited","message":"Too many requests"}}' },
      { retryable: true, code: "GATEWAY_RATE_LIMITED", reason: /answered 429 .*; will retry$/ },
    ],
    [
      "503 without a Telerivet body",
      { status: 503, body: "Service Unavailable" },
      { retryable: true, code: "GATEWAY_UNAVAILABLE", reason: /answered 503 .*; will retry$/ },
    ],
    [
      "200 carrying an error object (the SDK takes it as a refusal too)",
      { body: '{"error":{"code":"invalid_param","message":"content is required","param":"content"}}' },
      { retryable: false, code: "GATEWAY_REJECTED", reason: /^Telerivet error invalid_param \(content\): content is required; check/ },
    ],
    [
      "200 without a message id",
      { body: '{"status":"queued"}' },
      { retryable: false, code: "GATEWAY_REJECTED", reason: /^Telerivet answered without a message id: \{"status":"queued"\}$/ },
    ],
    [
      "200 with a message that already failed",
      { body: '{"id":"SMfailed01","status":"failed","error_message":"No route available"}' },
      { retryable: false, code: "GATEWAY_REJECTED", reason: /^Telerivet took the message as SMfailed01 but reports it failed: No route available$/ },
    ],
  ];
  for (const [name, answer, expected] of failures) {
    test(`${name}: ${expected.optedOut ? "opted out" : expected.retryable ? "retryable" : "permanent"}, Telerivet's words kept`, async () => {
      gateway.respond = () => answer;
      await assert.rejects(send(["+16505550105"]), (error: unknown) => {
        assert.ok(error instanceof MessageSendingError);
        assert.deepEqual([error.retryable, error.code], [expected.retryable, expected.code]);
        assert.deepEqual(error.failedIdentities, ["+16505550105"]);
        assert.deepEqual(error.optedOutIdentities, expected.optedOut ? ["+16505550105"] : []);
        assert.deepEqual(error.permanentIdentities, expected.retryable || expected.optedOut ? [] : ["+16505550105"]);
        assert.match(error.identityErrors["+16505550105"], expected.reason);
        assert.match(error.message, /^Telerivet did not send the message: /);
        assert.ok(!error.message.includes(API_KEY) && !error.message.includes(Buffer.from(`${API_KEY}:`).toString("base64")), error.message);
        return true;
      });
    });
  }

  test("an error that echoes the API key and the status secret is kept without them", async () => {
    gateway.respond = () => ({ status: 400, body: JSON.stringify({ error: { code: "invalid_param", message: `bad key ${API_KEY} or ${derived}` } }) });
    await assert.rejects(send(["+16505550106"]), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      const text = `${error.message}\n${Object.values(error.identityErrors).join("\n")}`;
      assert.ok(!text.includes(API_KEY) && !text.includes(derived), text);
      assert.match(text, /bad key \*\*\* or \*\*\*/);
      return true;
    });
  });

  test("three recipients, one invalid and one refused for now: the sent one keeps its id, the invalid one is permanent, the other retried", async () => {
    gateway.respond = (request) => {
      const to = JSON.parse(request.body).to_number;
      if (to === "+2") return { status: 400, body: '{"error":{"code":"invalid_param","message":"Invalid phone number","param":"to_number"}}' };
      if (to === "+3") return { status: 502, body: "Bad Gateway" };
      return { body: '{"id":"SMpartial01","status":"queued"}' };
    };
    await assert.rejects(send(["+1", "+2", "+3"]), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.match(error.message, /^Telerivet did not send to 2 of 3 recipients: \+2, \+3$/);
      assert.deepEqual(error.failedIdentities, ["+2", "+3"]);
      assert.deepEqual(error.externalIds, { "+1": "SMpartial01" });
      assert.deepEqual(error.permanentIdentities, ["+2"]);
      assert.equal(error.retryable, true);
      assert.deepEqual(Object.keys(error.identityErrors).sort(), ["+2", "+3"]);
      return true;
    });
  });

  test("a refused connection is retryable, and names no secret", async () => {
    const closed = await createTestRouter({
      backends: { telerivet: { engine: TelerivetBackend, options: { apiKey: API_KEY, projectId: PROJECT, apiUrl: "http://127.0.0.1:9" } } },
      stopped: true,
    });
    await assert.rejects(closed.backends.get("telerivet")!.send({ id: "m", text: "hi", identities: ["+1"], context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.deepEqual([error.retryable, error.code], [true, "GATEWAY_UNREACHABLE"]);
      assert.ok(!error.message.includes(API_KEY));
      return true;
    });
    await closed.close();
  });
});

describe("Telerivet through the pipeline: outcomes and status callbacks (POST /backend/<name>/status/)", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let inbound: BackendView;
  let status: BackendView;
  let next = 0;
  const derived = derivedStatusSecret(API_KEY, "telerivet");
  before(async () => {
    await gateway.listen();
    t = await createTestRouter({
      apps: [EchoApp],
      backends: {
        telerivet: {
          engine: TelerivetBackend,
          options: { apiKey: API_KEY, projectId: PROJECT, webhookSecret: WEBHOOK_SECRET, apiUrl: gateway.url, timeoutMs: 2_000 },
        },
        other: { engine: TelerivetBackend, options: { apiKey: API_KEY, projectId: PROJECT, apiUrl: gateway.url } },
      },
      publicUrl: PUBLIC,
      pipeline: { maxAttempts: 2 },
    });
    [inbound, status] = t.backends.get("telerivet")!.views();
  });
  beforeEach(() => {
    gateway.requests.length = 0;
    gateway.respond = () => ({ body: JSON.stringify({ id: `SMpipe${String(++next).padStart(10, "0")}`, status: "queued", num_parts: 1 }) });
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  async function send(text: string, identities: string[], backend = "telerivet") {
    const msg = await t.router.send(text, await t.connections(identities, backend));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    return Promise.all(record!.transmissions.map((tr) => t.store.getTransmission(tr.id)));
  }

  const outcomes: [string, { status: number; body: string }, { status: string; error: RegExp; attempts: number }][] = [
    [
      "send_blocked (opted out)",
      { status: 400, body: '{"error":{"code":"send_blocked","message":"Contact has been blocked"}}' },
      { status: "E", error: /send_blocked: Contact has been blocked.*RECIPIENT_OPTED_OUT/, attempts: 1 },
    ],
    [
      "invalid_param",
      { status: 400, body: '{"error":{"code":"invalid_param","message":"Invalid phone number","param":"to_number"}}' },
      { status: "E", error: /invalid_param \(to_number\): Invalid phone number/, attempts: 1 },
    ],
    ["503, twice", { status: 503, body: "unavailable" }, { status: "E", error: /503.*gave up after 2 attempts/, attempts: 2 }],
  ];
  // A recipient each: after send_blocked, RapidSMS has its recipient opted out and sends it nothing more.
  for (const [i, [name, answer, expected]] of outcomes.entries()) {
    test(`Telerivet answers ${name}: the transmission is ${expected.status} with Telerivet's words`, async () => {
      gateway.respond = () => answer;
      const [sent] = await send("hello", [`+1650555020${i}`]);
      assert.equal(sent?.status, expected.status);
      assert.match(sent?.error ?? "", expected.error);
      assert.equal(gateway.requests.length, expected.attempts);
    });
  }

  test("an opted-out recipient among two: the other is S with its Telerivet id, only the opted-out one E", async () => {
    gateway.respond = (request) =>
      JSON.parse(request.body).to_number === "+16505550112"
        ? { status: 400, body: '{"error":{"code":"send_blocked","message":"Contact has been blocked"}}' }
        : { body: '{"id":"SMpair00001","status":"queued","num_parts":2}' };
    const sent = await send("news", ["+16505550111", "+16505550112"]);
    const byIdentity = Object.fromEntries(sent.map((tr) => [tr?.identity, tr]));
    assert.deepEqual([byIdentity["+16505550111"]?.status, byIdentity["+16505550111"]?.externalId], ["S", "SMpair00001"]);
    assert.equal(byIdentity["+16505550112"]?.status, "E");
    assert.match(byIdentity["+16505550112"]?.error ?? "", /RECIPIENT_OPTED_OUT/);
  });

  const reports: [string, Record<string, string>, { status: string; detail: string }][] = [
    ["queued", { status: "queued" }, { status: "S", detail: "queued" }],
    ["sent", { status: "sent" }, { status: "S", detail: "sent" }],
    [
      "failed_queued (Telerivet will retry)",
      { status: "failed_queued", error_message: "Phone offline" },
      { status: "S", detail: "failed_queued: Phone offline" },
    ],
    ["delivered", { status: "delivered" }, { status: "D", detail: "delivered" }],
    ["read", { status: "read" }, { status: "D", detail: "read" }],
    [
      "not_delivered with the route's error code",
      { status: "not_delivered", error_code: "30008", error_message: "Unknown error" },
      { status: "E", detail: "not_delivered (error_code 30008): Unknown error" },
    ],
    ["failed", { status: "failed", error_message: "No route" }, { status: "E", detail: "failed: No route" }],
    ["cancelled", { status: "cancelled" }, { status: "E", detail: "cancelled" }],
  ];
  for (const [name, fields, expected] of reports) {
    test(`a status callback "${name}" leaves the transmission ${expected.status}, Telerivet's words in the report`, async () => {
      const [sent] = await send("report me", ["+16505550120"]);
      const response = await post(status, { event: "send_status", id: sent!.externalId!, ...fields, secret: derived });
      assert.deepEqual([response.status, response.body], [200, ""]);
      const after = await t.store.getTransmission(sent!.id);
      assert.equal(after?.status, expected.status);
      assert.deepEqual(
        after?.deliveryReports.map((r) => [r.status, r.detail]),
        [[expected.status, expected.detail]],
      );
    });
  }

  test("failed_queued, then sent, then delivered: D (failed_queued was not final)", async () => {
    const [sent] = await send("retry me", ["+16505550121"]);
    for (const word of ["failed_queued", "sent", "delivered"]) {
      assert.equal((await post(status, { event: "send_status", id: sent!.externalId!, status: word, secret: derived })).status, 200, word);
    }
    assert.equal((await t.store.getTransmission(sent!.id))?.status, "D");
  });

  test("a send_status event on the inbound URL, with the webhook service's secret, is recorded too", async () => {
    const [sent] = await send("report me", ["+16505550122"]);
    const response = await post(inbound, { event: "send_status", id: sent!.externalId!, status: "delivered", secret: WEBHOOK_SECRET });
    assert.equal(response.status, 200);
    assert.equal((await t.store.getTransmission(sent!.id))?.status, "D");
  });

  test("a send_status event on the inbound URL needs a status secret even where incoming messages need none", async () => {
    const [sent] = await send("report me", ["+16505550123"], "other");
    const [otherInbound] = t.backends.get("other")!.views();
    const response = await post(otherInbound, { event: "send_status", id: sent!.externalId!, status: "delivered", secret: "forged" });
    assert.equal(response.status, 403);
    assert.equal((await t.store.getTransmission(sent!.id))?.status, "S");
    const good = await post(otherInbound, { event: "send_status", id: sent!.externalId!, status: "delivered", secret: derivedStatusSecret(API_KEY, "other") });
    assert.equal(good.status, 200);
  });

  const refused: [string, (id: string) => Record<string, string>, number, RegExp][] = [
    [
      "a wrong secret",
      (id) => ({ event: "send_status", id, status: "failed", secret: "forged" }),
      403,
      /^forbidden: the POST field "secret" is wrong: .*status_secret/,
    ],
    ["no secret", (id) => ({ event: "send_status", id, status: "failed" }), 403, /^forbidden: the POST field "secret" is missing/],
    [
      "another backend's status secret",
      (id) => ({ event: "send_status", id, status: "failed", secret: derivedStatusSecret(API_KEY, "other") }),
      403,
      /^forbidden/,
    ],
    ["no status", (id) => ({ event: "send_status", id, secret: derived }), 400, /^form failed to validate\nstatus: This field is required\.$/],
    [
      "an unknown status",
      (id) => ({ event: "send_status", id, status: "ignored", secret: derived }),
      400,
      /^form failed to validate\nstatus: unknown status "ignored": expected one of queued, /,
    ],
    ["no id", () => ({ event: "send_status", status: "failed", secret: derived }), 400, /^form failed to validate\nid: This field is required\.$/],
  ];
  for (const [name, fields, code, reason] of refused) {
    test(`a status callback with ${name}: ${code}, the transmission unchanged`, async () => {
      const [sent] = await send("keep me", ["+16505550130"]);
      const response = await post(status, fields(sent!.externalId!));
      assert.equal(response.status, code);
      assert.match(response.body, reason);
      const after = await t.store.getTransmission(sent!.id);
      assert.deepEqual([after?.status, after?.deliveryReports.length], ["S", 0]);
    });
  }

  test("a report for a Telerivet id no send has brought yet is kept and answered 200; it lands when the answer brings the id", async () => {
    const response = await post(status, { event: "send_status", id: "SMearly00001", status: "delivered", secret: derived });
    assert.deepEqual([response.status, response.body], [200, ""]);
    gateway.respond = () => ({ body: '{"id":"SMearly00001","status":"queued"}' });
    const [sent] = await send("late answer", ["+16505550131"]);
    assert.equal(sent?.status, "D");
  });

  test("a report whose id cannot be a gateway's: 400 saying why", async () => {
    const response = await post(status, { event: "send_status", id: "x".repeat(300), status: "delivered", secret: derived });
    assert.equal(response.status, 400);
    assert.match(response.body, /^form failed to validate\nthe report's message id cannot be a gateway's/);
  });

  test("the status URL: 405 for GET; another event is answered 200 and ignored", async () => {
    const get = await status.handle({ method: "GET", url: "/backend/telerivet/status/", query: {} });
    assert.deepEqual([get.status, get.headers], [405, { allow: "POST" }]);
    const [sent] = await send("keep me", ["+16505550132"]);
    const other = await post(status, { event: "message_update", id: sent!.externalId!, status: "failed", secret: derived });
    assert.equal(other.status, 200);
    assert.equal((await t.store.getTransmission(sent!.id))?.status, "S");
  });

  test("an incoming message gets its echo reply at Telerivet: to_number = its from_number, status_url and the status secret", async () => {
    const response = await post(inbound, incoming({ id: "SMechoIn001", content: "echo hello there" }));
    assert.equal(response.status, 200);
    await t.idle();
    const [request] = gateway.requests;
    assert.equal(request.url, `/v1/projects/${PROJECT}/messages/send`);
    assert.deepEqual(JSON.parse(request.body), { to_number: "+16505550123", content: "hello there", status_url: STATUS_URL, status_secret: derived });
  });
});
