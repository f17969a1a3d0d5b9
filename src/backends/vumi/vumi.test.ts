import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FakeGateway } from "../../../test/support/fake-gateway.ts";
import UssdSurveyApp from "../../../test/support/ussd-survey-app.ts";
import { EchoApp } from "../../apps/echo.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { ConfigError, MessageSendingError } from "../../errors.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import type { BackendView, ViewRequest } from "../view.ts";
import { VumiBackend, vumiOptionsSchema } from "./index.ts";
import { gatewayMessageIds, prepareVumiRequest } from "./outbound.ts";

const SEND_URL = "http://127.0.0.1:8080/send";

/** A POST as the server hands it to a view: `body` already parsed (an object) or raw (a string or bytes). */
function post(view: BackendView, body: unknown, extra: Partial<ViewRequest> = {}) {
  return view.handle({ method: "POST", url: `/backend/vumi/${view.path}`, query: {}, body, headers: { "content-type": "application/json" }, ...extra });
}

/** A Vumi message as Vumi's HTTP relay posts it. */
function vumiMessage(fields: Record<string, unknown>) {
  return {
    message_type: "user_message",
    message_version: "20110921",
    timestamp: "2026-01-05 10:00:00.000000",
    helper_metadata: {},
    transport_metadata: {},
    to_addr: "15555",
    transport_name: "sms_transport",
    transport_type: "sms",
    ...fields,
  };
}

describe("Vumi inbound (POST /backend/<name>/)", () => {
  let t: TestRouter;
  let view: BackendView;
  before(async () => {
    t = await createTestRouter({ backends: { vumi: { engine: VumiBackend, options: { sendsmsUrl: SEND_URL } } }, stopped: true });
    [view] = t.backends.get("vumi")!.views();
  });
  after(() => t.close());

  const accepted: [string, unknown, { identity: string; text: string; fields?: Record<string, unknown> }][] = [
    [
      "RapidSMS's verified example: every field, missing optionals as empty, plus externalId = message_id",
      { message_id: "abc", to_addr: "1", from_addr: "2", content: "yo", transport_name: "t", transport_type: "sms" },
      {
        identity: "2",
        text: "yo",
        fields: {
          message_id: "abc",
          to_addr: "1",
          from_addr: "2",
          in_reply_to: "",
          session_event: "",
          content: "yo",
          transport_name: "t",
          transport_type: "sms",
          group: "",
          externalId: "abc",
        },
      },
    ],
    [
      "a full Vumi message: timestamp, helper_metadata and other keys are not kept",
      vumiMessage({ message_id: "m-full", from_addr: "+255700000001", content: "habari", in_reply_to: "out-1", session_event: "resume", group: "g1" }),
      {
        identity: "+255700000001",
        text: "habari",
        fields: {
          message_id: "m-full",
          to_addr: "15555",
          from_addr: "+255700000001",
          in_reply_to: "out-1",
          session_event: "resume",
          content: "habari",
          transport_name: "sms_transport",
          transport_type: "sms",
          group: "g1",
          externalId: "m-full",
          session: { id: "sms_transport:+255700000001", event: "resume" },
        },
      },
    ],
    [
      "JSON null content is an empty text (a USSD session start)",
      vumiMessage({ message_id: "m-null", from_addr: "3", content: null, session_event: "new" }),
      { identity: "3", text: "" },
    ],
    ["an empty content is a valid, empty message", vumiMessage({ message_id: "m-empty", from_addr: "4", content: "" }), { identity: "4", text: "" }],
    ["no content at all is an empty text", vumiMessage({ message_id: "m-none", from_addr: "5" }), { identity: "5", text: "" }],
    [
      "JSON nulls in in_reply_to, session_event and group become empty",
      vumiMessage({ message_id: "m-nulls", from_addr: "6", content: "x", in_reply_to: null, session_event: null, group: null }),
      {
        identity: "6",
        text: "x",
        fields: {
          message_id: "m-nulls",
          to_addr: "15555",
          from_addr: "6",
          in_reply_to: "",
          session_event: "",
          content: "x",
          transport_name: "sms_transport",
          transport_type: "sms",
          group: "",
          externalId: "m-nulls",
        },
      },
    ],
    [
      "the content is kept exactly, whitespace and emoji included",
      vumiMessage({ message_id: "m-exact", from_addr: "7", content: "  two  spaces 😀\n" }),
      { identity: "7", text: "  two  spaces 😀\n" },
    ],
    [
      "a body left unparsed (text/json) is read as JSON",
      JSON.stringify(vumiMessage({ message_id: "m-string", from_addr: "8", content: "raw" })),
      { identity: "8", text: "raw" },
    ],
    [
      "a body as bytes is read as UTF-8 JSON",
      Buffer.from(JSON.stringify(vumiMessage({ message_id: "m-bytes", from_addr: "9", content: "ñ€" }))),
      { identity: "9", text: "ñ€" },
    ],
    [
      "numbers in address fields are taken as their digits",
      vumiMessage({ message_id: 42, from_addr: 255700000010, to_addr: 15555, content: "n" }),
      { identity: "255700000010", text: "n" },
    ],
  ];
  for (const [name, body, expected] of accepted) {
    test(`200 with an empty body: ${name}`, async () => {
      const response = await post(view, body);
      assert.deepEqual([response.status, response.body], [200, ""]);
      const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
      assert.equal(message.transmissions[0].identity, expected.identity);
      assert.equal(message.text, expected.text);
      if (expected.fields) assert.deepEqual(message.fields, expected.fields);
    });
  }

  const required = ["message_id", "to_addr", "from_addr", "transport_name", "transport_type"];
  const refused: [string, unknown, RegExp][] = [
    [
      "an empty object: every required field named",
      {},
      new RegExp(`^form failed to validate\n${required.map((f) => `${f}: This field is required\\.`).join("\n")}$`),
    ],
    ["no from_addr", vumiMessage({ message_id: "r1", content: "hi" }), /^form failed to validate\nfrom_addr: This field is required\.$/],
    ["an empty message_id", vumiMessage({ message_id: "", from_addr: "1" }), /^form failed to validate\nmessage_id: This field is required\.$/],
    [
      "a content that is not text",
      vumiMessage({ message_id: "r2", from_addr: "1", content: { text: "hi" } }),
      /^form failed to validate\ncontent: Expected text\.$/,
    ],
    [
      "a NUL character in the content",
      vumiMessage({ message_id: "r3", from_addr: "1", content: "h\u0000i" }),
      /^form failed to validate\ncontent: Null characters are not allowed\.$/,
    ],
    [
      "a body that is not JSON",
      "message_id=abc&from_addr=1",
      /^form failed to validate\nthe body is not valid JSON \(.+\): POST the message as a JSON object$/,
    ],
    ["an empty body", "", /^form failed to validate\nthe body is empty: POST the message as a JSON object$/],
    ["no body at all", undefined, /^form failed to validate\nthe body is empty/],
    ["a JSON array", "[1, 2]", /^form failed to validate\nthe body is a JSON array, not an object/],
  ];
  for (const [name, body, reason] of refused) {
    test(`400 with the reason: ${name}`, async () => {
      const response = await post(view, body);
      assert.equal(response.status, 400);
      assert.match(response.body, reason);
    });
  }

  test("405 for GET, naming POST", async () => {
    const response = await view.handle({ method: "GET", url: "/backend/vumi/?message_id=1", query: { message_id: "1" } });
    assert.equal(response.status, 405);
    assert.deepEqual(response.headers, { allow: "POST" });
  });

  test("Vumi's redelivery of the same message_id is answered 200 and stored once", async () => {
    const message = vumiMessage({ message_id: "redelivered-1", from_addr: "77", content: "once" });
    assert.equal((await post(view, message)).status, 200);
    assert.equal((await post(view, message)).status, 200);
    assert.equal((await t.store.listMessages({ direction: "I", identity: "77" })).length, 1);
  });
});

describe("Vumi outbound: the request sent", () => {
  const options = (extra: object = {}) => vumiOptionsSchema.parse({ sendsmsUrl: SEND_URL, ...extra });
  const json = { "content-type": "application/json" };

  const cases: [string, object, { id?: string; text?: string; identities: string[]; context?: Record<string, unknown> }, Record<string, string>, string][] = [
    [
      "RapidSMS's verified example: params first, to_addr a list, our id in metadata, in_reply_to and from_addr from the context",
      { sendsmsParams: { transport_name: "t" } },
      { identities: ["111"], context: { inResponseTo: "IN1", externalId: "E1", fromAddr: "999" } },
      json,
      '{"transport_name":"t","content":"hi","to_addr":["111"],"session_event":null,"metadata":{"rapidsms_msg_id":"ID1"},"in_reply_to":"E1","from_addr":"999"}',
    ],
    [
      "several recipients: one request, no in_reply_to even when replying",
      { sendsmsParams: { transport_name: "t" } },
      { identities: ["111", "222"], context: { inResponseTo: "IN1", externalId: "E1" } },
      json,
      '{"transport_name":"t","content":"hi","to_addr":["111","222"],"session_event":null,"metadata":{"rapidsms_msg_id":"ID1"}}',
    ],
    [
      "a reply to a message without a gateway id has no in_reply_to; inResponseTo is not sent",
      {},
      { identities: ["111"], context: { inResponseTo: "IN1" } },
      json,
      '{"content":"hi","to_addr":["111"],"session_event":null,"metadata":{"rapidsms_msg_id":"ID1"}}',
    ],
    [
      "the endpoint comes from the context",
      {},
      { identities: ["111"], context: { endpoint: "ussd" } },
      json,
      '{"content":"hi","to_addr":["111"],"session_event":null,"metadata":{"rapidsms_msg_id":"ID1"},"endpoint":"ussd"}',
    ],
    [
      "sendsmsParams' metadata and content are replaced by ours, keeping their place",
      { sendsmsParams: { metadata: { campaign: 1 }, content: "x", transport_name: "t" } },
      { identities: ["111"] },
      json,
      '{"metadata":{"rapidsms_msg_id":"ID1"},"content":"hi","transport_name":"t","to_addr":["111"],"session_event":null}',
    ],
    [
      "HTTP Basic when sendsmsUser and sendsmsPass are set",
      { sendsmsUser: "u", sendsmsPass: "p" },
      { identities: ["111"] },
      { ...json, authorization: "Basic dTpw" },
      '{"content":"hi","to_addr":["111"],"session_event":null,"metadata":{"rapidsms_msg_id":"ID1"}}',
    ],
    [
      "text outside GSM-7 goes as it is, JSON being UTF-8",
      {},
      { text: "Habari ç 😀", identities: ["+255700000001"] },
      json,
      '{"content":"Habari ç 😀","to_addr":["+255700000001"],"session_event":null,"metadata":{"rapidsms_msg_id":"ID1"}}',
    ],
  ];
  for (const [name, extra, { id = "ID1", text = "hi", identities, context = {} }, headers, body] of cases) {
    test(`POST: ${name}`, () => {
      const request = prepareVumiRequest(options(extra), { id, text, identities, context });
      assert.deepEqual(
        { method: request.method, url: request.url, headers: request.headers, body: request.body },
        { method: "POST", url: SEND_URL, headers, body },
      );
    });
  }
});

describe("Vumi outbound: the gateway's answer", () => {
  const ids: [string, string, string[], Record<string, string> | undefined][] = [
    [
      "Vumi's RapidSMS relay: the messages it sent, one id per to_addr",
      '[{"message_id":"V1","to_addr":"111","content":"hi"},{"message_id":"V2","to_addr":"222","content":"hi"}]',
      ["111", "222"],
      { "111": "V1", "222": "V2" },
    ],
    ["Junebug: result.id", '{"status":201,"code":"created","description":"message submitted","result":{"id":"J1"}}', ["111"], { "111": "J1" }],
    [
      "Junebug's documented result.message_id",
      '{"status":201,"code":"created","description":"message submitted","result":{"message_id":"J2"}}',
      ["111"],
      { "111": "J2" },
    ],
    [
      "Vumi's HTTP API: the message with its message_id, for each recipient",
      '{"message_id":"H1","to_addr":"111","content":"hi"}',
      ["111", "222"],
      { "111": "H1", "222": "H1" },
    ],
    ["a relay entry for a number we did not send to is ignored", '[{"message_id":"V9","to_addr":"999"}]', ["111"], undefined],
    ["an answer that is not JSON carries no ids", "OK", ["111"], undefined],
    ["a JSON answer without an id carries none", '{"status":"queued"}', ["111"], undefined],
  ];
  for (const [name, answer, identities, expected] of ids) {
    test(`gateway ids: ${name}`, () => {
      assert.deepEqual(gatewayMessageIds(answer, identities), expected);
    });
  }

  const gateway = new FakeGateway();
  const password = "pa ss&w0rd";
  before(() => gateway.listen());
  after(() => gateway.close());

  async function sendWith(status: number, answer: string, identities = ["111"]) {
    gateway.status = status;
    gateway.answer = answer;
    const t = await createTestRouter({
      backends: {
        vumi: {
          engine: VumiBackend,
          options: { sendsmsUrl: `${gateway.url}/send`, sendsmsParams: { transport_name: "t" }, sendsmsUser: "u", sendsmsPass: password },
        },
      },
    });
    try {
      return await t.backends.get("vumi")!.send({ id: "ID1", text: "hi", identities, context: {} });
    } finally {
      await t.close();
    }
  }

  test("201 from Junebug is sent: the request as built, the answer and the gateway id kept", async () => {
    const answer = '{"status":201,"code":"created","description":"message submitted","result":{"id":"J1"}}';
    assert.deepEqual(await sendWith(201, `${answer}\n`), { answer, externalIds: { "111": "J1" } });
    const request = gateway.requests.at(-1)!;
    assert.deepEqual(
      { method: request.method, url: request.url, type: request.headers["content-type"], auth: request.headers.authorization, body: request.body },
      {
        method: "POST",
        url: "/send",
        type: "application/json",
        auth: `Basic ${Buffer.from(`u:${password}`).toString("base64")}`,
        body: '{"transport_name":"t","content":"hi","to_addr":["111"],"session_event":null,"metadata":{"rapidsms_msg_id":"ID1"}}',
      },
    );
  });

  test("200 from Vumi's relay is sent, each recipient with its own gateway id", async () => {
    const result = await sendWith(200, '[{"message_id":"V1","to_addr":"111"},{"message_id":"V2","to_addr":"222"}]', ["111", "222"]);
    assert.deepEqual(result?.externalIds, { "111": "V1", "222": "V2" });
  });

  test("a long answer is kept short in the attempt log", async () => {
    const result = await sendWith(200, "x".repeat(5_000));
    assert.equal(result?.answer, `${"x".repeat(1_000)}… (answer cut)`);
  });

  const failures: [number, string, boolean, RegExp][] = [
    [
      400,
      '{"status":400,"code":"Bad Request","description":"api usage error"}',
      false,
      /answered 400 .*api usage error.*; check the backend's options and the message$/,
    ],
    [401, `Unauthorized: bad password ${password}`, false, /answered 401 .*Unauthorized: bad password \*\*\*; check sendsmsUser and sendsmsPass$/],
    [403, "Forbidden", false, /answered 403 .*Forbidden; check sendsmsUser and sendsmsPass$/],
    [429, "Too Many Requests", true, /answered 429 .*; will retry$/],
    [503, "Service Unavailable", true, /answered 503 .*; will retry$/],
  ];
  for (const [status, answer, retryable, reason] of failures) {
    test(`${status}: ${retryable ? "retryable" : "permanent"}, the password never shown`, async () => {
      await assert.rejects(sendWith(status, answer), (error: unknown) => {
        assert.ok(error instanceof MessageSendingError);
        assert.equal(error.retryable, retryable);
        assert.match(error.message, reason);
        assert.ok(!error.message.includes(password) && !error.message.includes(Buffer.from(`u:${password}`).toString("base64")), error.message);
        return true;
      });
    });
  }

  test("a refused connection is retryable", async () => {
    const t = await createTestRouter({
      backends: { vumi: { engine: VumiBackend, options: { sendsmsUrl: "http://127.0.0.1:9/send", sendsmsUser: "u", sendsmsPass: password } } },
    });
    await assert.rejects(t.backends.get("vumi")!.send({ id: "1", text: "hi", identities: ["1"], context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError && error.retryable);
      assert.ok(!error.message.includes(password));
      return true;
    });
    await t.close();
  });

  test("a reply to a Vumi message goes back to its from_addr with in_reply_to = its message_id", async () => {
    gateway.status = 200;
    gateway.answer = "[]";
    const t = await createTestRouter({ apps: [EchoApp], backends: { vumi: { engine: VumiBackend, options: { sendsmsUrl: `${gateway.url}/send` } } } });
    const [view] = t.backends.get("vumi")!.views();
    assert.equal((await post(view, vumiMessage({ message_id: "in-42", from_addr: "255700000042", content: "echo hello" }))).status, 200);
    await t.close();
    const sent = JSON.parse(gateway.requests.at(-1)!.body);
    assert.deepEqual([sent.to_addr, sent.content, sent.in_reply_to], [["255700000042"], "hello", "in-42"]);
  });
});

describe("Vumi events (POST /backend/<name>/events/)", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let view: BackendView;
  let otherView: BackendView;
  /** Our message id per letter, for events that name our own ids. */
  const sent: Record<string, string> = {};

  before(async () => {
    await gateway.listen();
    gateway.status = 200;
    const options = { sendsmsUrl: `${gateway.url}/send` };
    t = await createTestRouter({ backends: { vumi: { engine: VumiBackend, options }, other: { engine: VumiBackend, options } } });
    [, view] = t.backends.get("vumi")!.views();
    [, otherView] = t.backends.get("other")!.views();
    const sends: [string, string[], string][] = [
      ["A", ["111"], '{"status":201,"code":"created","description":"message submitted","result":{"id":"GW-A"}}'],
      ["B", ["222", "333"], '[{"message_id":"GW-B2","to_addr":"222"},{"message_id":"GW-B3","to_addr":"333"}]'],
      ["C", ["444"], "OK"],
      ["D", ["555", "666"], "OK"],
      ["E", ["777"], '{"result":{"message_id":"GW-E"}}'],
      ["F", ["888"], "OK"],
      ["G", ["999"], '{"result":{"message_id":"GW-G"}}'],
    ];
    for (const [letter, identities, answer] of sends) {
      gateway.answer = answer;
      const msg = await t.router.send(`message ${letter}`, await t.connections(identities, "vumi"));
      await t.idle();
      sent[letter] = msg.id;
    }
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  /** "@C" stands for our id of message C. */
  const resolve = (event: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(event).map(([k, v]) => [k, typeof v === "string" && v.startsWith("@") ? sent[v.slice(1)] : v]));
  const transmission = async (letter: string, identity: string) => {
    const record = await t.store.getMessage(sent[letter]);
    return t.store.getTransmission(record!.transmissions.find((tr) => tr.identity === identity)!.id);
  };

  const vumiEvent = (fields: Record<string, unknown>) => ({
    message_type: "event",
    message_version: "20110921",
    event_id: "ev-1",
    timestamp: "2026-01-05 10:00:01.000000",
    transport_name: "t",
    ...fields,
  });
  const cases: [string, Record<string, unknown>, [string, string], string, RegExp][] = [
    [
      "ack by the gateway's id is recorded; the transmission stays S",
      vumiEvent({ event_type: "ack", user_message_id: "GW-A", sent_message_id: "smsc-1" }),
      ["A", "111"],
      "S",
      /^ack: sent as smsc-1$/,
    ],
    [
      "delivery_report delivered marks it D",
      vumiEvent({ event_type: "delivery_report", user_message_id: "GW-A", delivery_status: "delivered" }),
      ["A", "111"],
      "D",
      /^delivery_report: delivered$/,
    ],
    [
      "delivery_report pending is recorded; the transmission stays S",
      vumiEvent({ event_type: "delivery_report", user_message_id: "GW-B2", delivery_status: "pending" }),
      ["B", "222"],
      "S",
      /^delivery_report: pending$/,
    ],
    [
      "delivery_report failed marks it E",
      vumiEvent({ event_type: "delivery_report", user_message_id: "GW-B3", delivery_status: "failed" }),
      ["B", "333"],
      "E",
      /^delivery_report: failed$/,
    ],
    [
      "an event naming our own message id (echoed rapidsms_msg_id) matches its one transmission",
      vumiEvent({ event_type: "delivery_report", user_message_id: "@C", delivery_status: "delivered" }),
      ["C", "444"],
      "D",
      /^delivery_report: delivered$/,
    ],
    [
      "nack marks it E with the reason",
      vumiEvent({ event_type: "nack", user_message_id: "@F", nack_reason: "Unknown address." }),
      ["F", "888"],
      "E",
      /^nack: Unknown address\.$/,
    ],
    [
      "Junebug's submitted by its message_id is recorded; the transmission stays S",
      { event_type: "submitted", message_id: "GW-E", channel_id: "ch-1", timestamp: "2026-01-05 10:00:01", event_details: {} },
      ["E", "777"],
      "S",
      /^submitted$/,
    ],
    [
      "Junebug's delivery_succeeded marks it D",
      { event_type: "delivery_succeeded", message_id: "GW-E", channel_id: "ch-1", event_details: {} },
      ["E", "777"],
      "D",
      /^delivery_succeeded$/,
    ],
    [
      "Junebug's rejected marks it E with the reason",
      { event_type: "rejected", message_id: "GW-G", channel_id: "ch-1", event_details: { reason: "No route" } },
      ["G", "999"],
      "E",
      /^rejected: No route$/,
    ],
  ];
  for (const [name, event, [letter, identity], status, detail] of cases) {
    test(`200: ${name}`, async () => {
      const response = await post(view, resolve(event));
      assert.deepEqual([response.status, response.body], [200, ""]);
      const tr = await transmission(letter, identity);
      assert.equal(tr?.status, status);
      assert.match(tr!.deliveryReports.at(-1)!.detail!, detail);
    });
  }

  test("a nack's reason is the transmission's error", async () => {
    assert.equal((await transmission("F", "888"))?.error, "nack: Unknown address.");
  });

  test("an event naming an id no send has brought yet is kept (200), and another backend's gateway id does not touch this one's", async () => {
    const before = await transmission("A", "111");
    for (const [events, id] of [
      [view, "not-yet-known"],
      [otherView, "GW-A"],
    ] as const) {
      const response = await post(events, resolve(vumiEvent({ event_type: "delivery_report", user_message_id: id, delivery_status: "failed" })));
      assert.deepEqual([response.status, response.body], [200, ""]);
    }
    assert.deepEqual((await transmission("A", "111"))?.status, before?.status);
  });

  const refused: [string, () => BackendView, unknown, RegExp][] = [
    [
      "our id of a message to two recipients, without saying which",
      () => view,
      vumiEvent({ event_type: "ack", user_message_id: "@D" }),
      /went to 2 recipients through this backend and the report does not say which/,
    ],
    [
      "an unknown event_type",
      () => view,
      vumiEvent({ event_type: "bounce", user_message_id: "GW-A" }),
      /^form failed to validate\nevent_type: expected ack, nack, delivery_report \(Vumi\) or submitted, rejected, delivery_succeeded, delivery_failed, delivery_pending \(Junebug\)$/,
    ],
    [
      "a delivery report without delivery_status",
      () => view,
      vumiEvent({ event_type: "delivery_report", user_message_id: "GW-A" }),
      /^form failed to validate\ndelivery_status: expected pending, failed or delivered$/,
    ],
    ["an ack without user_message_id", () => view, vumiEvent({ event_type: "ack" }), /^form failed to validate\nuser_message_id: This field is required\.$/],
    ["a body that is not JSON", () => view, "{event", /^form failed to validate\nthe body is not valid JSON/],
  ];
  for (const [name, target, body, reason] of refused) {
    test(`400, never 500: ${name}`, async () => {
      const response = await post(target(), body !== null && typeof body === "object" ? resolve(body as Record<string, unknown>) : body);
      assert.equal(response.status, 400);
      assert.match(response.body, reason);
    });
  }

  test("405 for GET", async () => {
    const response = await view.handle({ method: "GET", url: "/backend/vumi/events/", query: {} });
    assert.deepEqual([response.status, response.headers], [405, { allow: "POST" }]);
  });
});

describe("Vumi inbound credentials", () => {
  const basic = (user: string, pass: string) => ({
    "content-type": "application/json",
    authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
  });
  const bearer = (token: string) => ({ "content-type": "application/json", authorization: `Bearer ${token}` });
  const password = "s3cret pass";
  const token = "tok-0123456789abcdef";
  let n = 0;

  const cases: [string, object, Partial<ViewRequest>, number][] = [
    ["inboundUser/inboundPass: no credentials", { inboundUser: "vumi", inboundPass: password }, {}, 401],
    ["inboundUser/inboundPass: a wrong password", { inboundUser: "vumi", inboundPass: password }, { headers: basic("vumi", "wrong") }, 401],
    ["inboundUser/inboundPass: a wrong user", { inboundUser: "vumi", inboundPass: password }, { headers: basic("other", password) }, 401],
    ["inboundUser/inboundPass: the right ones", { inboundUser: "vumi", inboundPass: password }, { headers: basic("vumi", password) }, 200],
    ["inboundToken: no token", { inboundToken: token }, {}, 401],
    ["inboundToken: a wrong bearer token", { inboundToken: token }, { headers: bearer("tok-wrong") }, 401],
    ["inboundToken: the token as a bearer token", { inboundToken: token }, { headers: bearer(token) }, 200],
    [
      "inboundToken: the token as Junebug sends it, Authorization: Token <token>",
      { inboundToken: token },
      { headers: { authorization: `Token ${token}` } },
      200,
    ],
    ["inboundToken: the token in ?token=", { inboundToken: token }, { query: { token } }, 200],
    ["inboundToken: the token as a Basic password is not enough", { inboundToken: token }, { headers: basic("vumi", token) }, 401],
    ["both configured: the token alone will do", { inboundUser: "vumi", inboundPass: password, inboundToken: token }, { headers: bearer(token) }, 200],
    ["both configured: Basic alone will do", { inboundUser: "vumi", inboundPass: password, inboundToken: token }, { headers: basic("vumi", password) }, 200],
  ];
  for (const [name, credentials, request, status] of cases) {
    test(`${status}: ${name}`, async () => {
      const t = await createTestRouter({ backends: { vumi: { engine: VumiBackend, options: { sendsmsUrl: SEND_URL, ...credentials } } }, stopped: true });
      const [inbound] = t.backends.get("vumi")!.views();
      n += 1;
      const response = await post(inbound, vumiMessage({ message_id: `auth-${n}`, from_addr: "1", content: "hi" }), request);
      assert.equal(response.status, status, response.body);
      if (status === 401) {
        assert.match(
          String(response.headers!["www-authenticate"]),
          "inboundToken" in credentials && !("inboundUser" in credentials) ? /^Bearer realm="rapidsms"$/ : /^Basic realm="rapidsms"/,
        );
        assert.match(response.body, /^missing or wrong credentials: send /);
        assert.ok(!response.body.includes(password) && !response.body.includes(token), response.body);
      }
      await t.close();
    });
  }

  test("the events view asks for the same credentials", async () => {
    const t = await createTestRouter({
      backends: { vumi: { engine: VumiBackend, options: { sendsmsUrl: SEND_URL, inboundUser: "vumi", inboundPass: password } } },
      stopped: true,
    });
    const [, events] = t.backends.get("vumi")!.views();
    const event = { event_type: "ack", user_message_id: "nope" };
    assert.equal((await post(events, event)).status, 401);
    assert.equal((await post(events, event, { headers: basic("vumi", password) })).status, 200, "let in (and kept: an id not known yet)");
    await t.close();
  });
});

describe("Vumi options", () => {
  const resolveVumi = (options: object) => resolveConfig({ installedBackends: { vumi: { engine: "vumi", ...options } } });

  test("sendsmsUrl is required, as in RapidSMS", async () => {
    await assert.rejects(resolveVumi({}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^backend "vumi" \(engine vumi\): option "sendsmsUrl": expected the http\(s\) URL Vumi takes messages at/);
      return true;
    });
  });

  const halves: [string, object, string][] = [
    ["sendsmsUser without sendsmsPass", { sendsmsUser: "u" }, "sendsmsPass"],
    ["sendsmsPass without sendsmsUser", { sendsmsPass: "secret-value" }, "sendsmsUser"],
    ["inboundUser without inboundPass", { inboundUser: "u" }, "inboundPass"],
  ];
  for (const [name, options, missing] of halves) {
    test(`${name} stops the start, naming the missing option and never the secret`, async () => {
      await assert.rejects(resolveVumi({ sendsmsUrl: SEND_URL, ...options }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, new RegExp(`option "${missing}": set \\w+ and \\w+ together, or neither`));
        assert.ok(!error.message.includes("secret-value"));
        return true;
      });
    });
  }

  test("passwords and the inbound token are secret options", () => {
    assert.deepEqual(VumiBackend.secretOptions, ["sendsmsPass", "inboundPass", "inboundToken"]);
  });
});

describe("Vumi sessions (USSD's session_event)", () => {
  test("a session_event puts the message in a session: new, then resume with the state kept; replies say resume, then close", async () => {
    const gateway = new FakeGateway();
    await gateway.listen();
    gateway.answer = "{}";
    const t = await createTestRouter({ apps: [UssdSurveyApp], backends: { vumi: { engine: VumiBackend, options: { sendsmsUrl: `${gateway.url}/send` } } } });
    try {
      const [view] = t.backends.get("vumi")!.views();
      const step = async (id: string, content: string | null, session_event: string) => {
        assert.equal(
          (await post(view, vumiMessage({ message_id: id, from_addr: "+255700000050", content, session_event, transport_type: "ussd" }))).status,
          200,
        );
        await t.idle();
        return JSON.parse(gateway.requests.at(-1)!.body) as { content: string; session_event: string | null; in_reply_to?: string };
      };
      const first = await step("u1", null, "new");
      assert.deepEqual([first.content, first.session_event, first.in_reply_to], ["Welcome to the survey. What is your name?", "resume", "u1"]);
      const second = await step("u2", "Juma", "resume");
      assert.deepEqual([second.content, second.session_event], ["Thank you Juma. How old are you?", "resume"]);
      const third = await step("u3", "40", "resume");
      assert.deepEqual([third.content, third.session_event], ["Thank you Juma, 40. Goodbye.", "close"]);
      const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
      assert.deepEqual(message.fields.session, { id: "sms_transport:+255700000050", event: "resume" });
    } finally {
      await t.close();
      await gateway.close();
    }
  });

  test("a message without a session_event is in no session, and its reply says null", async () => {
    const gateway = new FakeGateway();
    await gateway.listen();
    gateway.answer = "{}";
    const t = await createTestRouter({ apps: [EchoApp], backends: { vumi: { engine: VumiBackend, options: { sendsmsUrl: `${gateway.url}/send` } } } });
    try {
      const [view] = t.backends.get("vumi")!.views();
      await post(view, vumiMessage({ message_id: "s1", from_addr: "+255700000051", content: "echo hi" }));
      await t.idle();
      assert.equal((JSON.parse(gateway.requests[0].body) as { session_event: unknown }).session_event, null);
      const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
      assert.equal(message.fields.session, undefined);
    } finally {
      await t.close();
      await gateway.close();
    }
  });
});
