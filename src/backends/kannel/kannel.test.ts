import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FakeGateway } from "../../../test/support/fake-gateway.ts";
import { MessageSendingError } from "../../errors.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import type { BackendView } from "../view.ts";
import { KannelBackend, kannelOptionsSchema } from "./index.ts";
import { prepareSendsms } from "./outbound.ts";

/** A GET as Kannel sends it: the raw URL, and the query as a web framework would parse it. */
function get(view: BackendView, query: string, method = "GET") {
  const url = `/backend/kannel/${view.path}?${query}`;
  return view.handle({ method, url, query: Object.fromEntries(new URLSearchParams(query)) });
}

describe("Kannel inbound (get-url)", () => {
  let t: TestRouter;
  let view: BackendView;
  before(async () => {
    t = await createTestRouter({ backends: { kannel: KannelBackend }, stopped: true });
    [view] = t.backends.get("kannel")!.views();
  });
  after(() => t.close());

  const accepted: [string, string, { identity: string; text: string; fields?: Record<string, unknown> }][] = [
    [
      "the rig's ASCII MO: the text comes from raw, whitespace kept, other parameters in fields",
      "id=255711000001&to=15555&text=hello+world&raw=hello++world&charset=UTF-8&coding=0&smsc=fake&msgid=90e9f51c&ts=1795386689&udh=&dcs=00&service=default",
      {
        identity: "255711000001",
        text: "hello  world",
        fields: {
          to: "15555",
          charset: "UTF-8",
          coding: "0",
          smsc: "fake",
          msgid: "90e9f51c",
          ts: "1795386689",
          dcs: "00",
          service: "default",
          externalId: "90e9f51c",
        },
      },
    ],
    [
      "UTF-8 text with a GSM extension character",
      "id=255700000001&text=Habari%2C+%C3%B1+%E2%82%AC&charset=UTF-8&coding=0",
      { identity: "255700000001", text: "Habari, ñ €" },
    ],
    [
      "UCS-2 with an emoji, decoded from the raw UTF-16BE bytes (text= lost a byte to %a)",
      "id=255700000001&text=%00H%00i%00+%D8%3D%DE&raw=%00H%00i%00+%D8%3D%DE%00&charset=UTF-16BE&coding=2",
      { identity: "255700000001", text: "Hi 😀" },
    ],
    ["UCS-2 bytes in text when no raw is sent (RapidSMS's own example)", "id=1&text=%00h%00i&charset=UTF-16BE&coding=2", { identity: "1", text: "hi" }],
    ["8-bit data (coding 1) as Latin-1", "id=1&raw=caf%E9&text=caf%E9&charset=8-BIT&coding=1", { identity: "1", text: "café" }],
    ["a + in the sender is kept", "id=%2B255700000001&text=hi", { identity: "+255700000001", text: "hi" }],
    ["extra parameters go into fields", "id=1&text=hi&foo=bar", { identity: "1", text: "hi", fields: { foo: "bar" } }],
    ["no charset means UTF-8", "id=1&text=%C3%B1", { identity: "1", text: "ñ" }],
  ];
  for (const [name, query, expected] of accepted) {
    test(`200 with an empty body: ${name}`, async () => {
      const response = await get(view, query);
      assert.deepEqual([response.status, response.body], [200, ""]);
      const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
      assert.equal(message.transmissions[0].identity, expected.identity);
      assert.equal(message.text, expected.text);
      if (expected.fields) assert.deepEqual(message.fields, expected.fields);
    });
  }

  const refused: [string, string, number, string][] = [
    ["no sender", "text=hi", 400, "form failed to validate\nid: This field is required."],
    ["an empty text", "id=1&text=", 400, "form failed to validate\ntext: This field is required."],
    ["no text at all", "id=1", 400, "form failed to validate\ntext: This field is required."],
    [
      "UCS-2 with an odd number of bytes",
      "id=1&raw=%00h%00&coding=2&charset=UTF-16BE",
      400,
      "form failed to validate\ntext: cannot decode the text as UTF-16BE (coding 2): UCS-2 text has an odd number of bytes",
    ],
    [
      "bytes that are not UTF-8",
      "id=1&text=%FF%FE",
      400,
      "form failed to validate\ntext: cannot decode the text as UTF-8 (coding 0): The encoded data was not valid for encoding utf-8",
    ],
    ["an unknown coding", "id=1&text=hi&coding=5", 400, "form failed to validate\ncoding: expected 0 (7-bit), 1 (8-bit) or 2 (UCS-2)"],
  ];
  for (const [name, query, status, body] of refused) {
    test(`${status}: ${name}`, async () => {
      const response = await get(view, query);
      assert.deepEqual([response.status, response.body], [status, body]);
    });
  }

  test("405 for POST: Kannel's get-url is always GET", async () => {
    const response = await get(view, "id=1&text=hi", "POST");
    assert.equal(response.status, 405);
    assert.deepEqual(response.headers, { allow: "GET" });
  });

  test("Kannel's retry of the same MO (same msgid) is answered 200 and stored once", async () => {
    const query = "id=9&text=once&msgid=retry-1";
    assert.equal((await get(view, query)).status, 200);
    assert.equal((await get(view, query)).status, 200);
    const stored = await t.store.listMessages({ direction: "I", identity: "9" });
    assert.equal(stored.length, 1);
  });

  test("parameter names are configurable", async () => {
    const custom = await createTestRouter({
      backends: { kannel: { engine: KannelBackend, options: { params: { identity_name: "sender", text_name: "msg" } } } },
      stopped: true,
    });
    const [customView] = custom.backends.get("kannel")!.views();
    assert.equal((await get(customView, "sender=5&msg=hey")).status, 200);
    assert.equal((await get(customView, "id=5&text=hey")).status, 400);
    await custom.close();
  });
});

describe("Kannel outbound (sendsms)", () => {
  const options = (extra: object = {}) => ({
    backendName: "kannel",
    ...kannelOptionsSchema.parse({ sendsmsUrl: "http://127.0.0.1:13013/cgi-bin/sendsms", ...extra }),
  });
  const dlrUrl = (base: string, name: string, id: string) =>
    encodeURIComponent(`${base}/backend/${name}/status/?message_id=${id}&status=%d&status_text=%A&smsc=%i&sms_id=%I&fid=%F&identity=%p&date_sent=%t`);

  const cases: [string, object, { text: string; identities: string[] }, string, number][] = [
    [
      "RapidSMS's example: static params first, all identities in one request, UTF-16BE text, delivery reports",
      { sendsmsParams: { smsc: "x", from: "123", username: "u", password: "p" }, charset: "UTF-16BE", coding: 2, deliveryReportUrl: "http://example.com" },
      { text: "hi", identities: ["111", "222"] },
      `smsc=x&from=123&username=u&password=p&to=111+222&text=%00h%00i&coding=2&charset=UTF-16BE&dlr-mask=31&dlr-url=${dlrUrl("http://example.com", "kannel", "ID1")}`,
      1,
    ],
    [
      "GSM text goes as coding 0 in UTF-8, the extension character intact",
      {},
      { text: "price: 5€", identities: ["111"] },
      "to=111&text=price%3A+5%E2%82%AC&coding=0&charset=UTF-8",
      1,
    ],
    [
      "text outside GSM goes as UCS-2: coding 2, sent as UTF-8 for Kannel to convert",
      {},
      { text: "Habari ç 😀", identities: ["111"] },
      "to=111&text=Habari+%C3%A7+%F0%9F%98%80&coding=2&charset=UTF-8",
      1,
    ],
    [
      "a + in a recipient is sent as %2B, not as a space",
      {},
      { text: "hi", identities: ["+255700000001", "+255700000002"] },
      "to=%2B255700000001+%2B255700000002&text=hi&coding=0&charset=UTF-8",
      1,
    ],
    [
      "an explicit ASCII charset drops what it cannot hold, as RapidSMS did",
      { charset: "ascii", coding: 0 },
      { text: "héllo", identities: ["1"] },
      "to=1&text=hllo&coding=0&charset=ASCII",
      1,
    ],
    [
      "encodeErrors replace puts ? for what the charset cannot hold",
      { charset: "ISO-8859-1", coding: 0, encodeErrors: "replace" },
      { text: "ñ€", identities: ["1"] },
      "to=1&text=%F1%3F&coding=0&charset=ISO-8859-1",
      1,
    ],
    ["a long GSM text is reported as 2 segments", {}, { text: "a".repeat(200), identities: ["1"] }, `to=1&text=${"a".repeat(200)}&coding=0&charset=UTF-8`, 2],
    [
      "a long UCS-2 text is reported in parts of 67",
      {},
      { text: "ç".repeat(140), identities: ["1"] },
      `to=1&text=${"%C3%A7".repeat(140)}&coding=2&charset=UTF-8`,
      3,
    ],
    [
      "the sendsms URL's own query is kept",
      { sendsmsUrl: "http://127.0.0.1:13013/cgi-bin/sendsms?account=a" },
      { text: "hi", identities: ["1"] },
      "account=a&to=1&text=hi&coding=0&charset=UTF-8",
      1,
    ],
    [
      "a custom DLR mask",
      { deliveryReportUrl: "http://127.0.0.1:8000/", dlrMask: 3 },
      { text: "hi", identities: ["1"] },
      `to=1&text=hi&coding=0&charset=UTF-8&dlr-mask=3&dlr-url=${dlrUrl("http://127.0.0.1:8000", "kannel", "ID1")}`,
      1,
    ],
  ];
  for (const [name, extra, { text, identities }, query, segments] of cases) {
    test(`sendsms: ${name}`, () => {
      const prepared = prepareSendsms(options(extra), { id: "ID1", text, identities, context: {} });
      const base = "sendsmsUrl" in extra ? String(extra.sendsmsUrl).replace(/\?.*$/, "") : "http://127.0.0.1:13013/cgi-bin/sendsms";
      assert.equal(prepared.url, `${base}?${query}`);
      assert.equal(prepared.segments, segments);
    });
  }

  test("sendsms with encodeErrors strict refuses text the charset cannot hold, permanently", async () => {
    const t = await createTestRouter({ backends: { kannel: { engine: KannelBackend, options: { charset: "ascii", coding: 0, encodeErrors: "strict" } } } });
    await assert.rejects(t.backends.get("kannel")!.send({ id: "1", text: "ñ", identities: ["1"], context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.equal(error.retryable, false);
      assert.match(error.message, /"ñ" cannot be sent in ASCII: set coding to "auto"/);
      return true;
    });
    await t.close();
  });

  describe("Kannel's answers", () => {
    const gateway = new FakeGateway();
    before(() => gateway.listen());
    after(() => gateway.close());

    async function sendWith(status: number, answer: string) {
      gateway.status = status;
      gateway.answer = answer;
      const t = await createTestRouter({
        backends: {
          kannel: {
            engine: KannelBackend,
            options: { sendsmsUrl: `${gateway.url}/cgi-bin/sendsms`, sendsmsParams: { username: "u", password: "pa ss&w0rd" } },
          },
        },
      });
      try {
        return await t.backends.get("kannel")!.send({ id: "1", text: "hi", identities: ["1"], context: {} });
      } finally {
        await t.close();
      }
    }

    test("202 0: Accepted for delivery is sent, the answer kept for the attempt log", async () => {
      assert.deepEqual(await sendWith(202, "0: Accepted for delivery"), { answer: "0: Accepted for delivery", segments: 1 });
      const request = gateway.requests.at(-1)!;
      assert.equal(request.method, "GET");
      assert.match(request.url, /^\/cgi-bin\/sendsms\?username=u&password=pa%20ss%26w0rd&to=1&text=hi&coding=0&charset=UTF-8$/);
    });

    test("202 3: Queued for later delivery is sent too", async () => {
      assert.equal((await sendWith(202, "3: Queued for later delivery"))?.answer, "3: Queued for later delivery");
    });

    const failures: [number, string, boolean, RegExp][] = [
      [403, "Authorization failed for sendsms", false, /answered 403 .*Authorization failed for sendsms; check username and password in sendsmsParams/],
      [400, "Missing receiver number, rejected", false, /answered 400 .*Missing receiver number, rejected; check the backend's options/],
      [503, "Service Unavailable", true, /answered 503 .*; will retry/],
    ];
    for (const [status, answer, retryable, reason] of failures) {
      test(`${status} ${answer}: ${retryable ? "retryable" : "permanent"}, the password never shown`, async () => {
        await assert.rejects(sendWith(status, answer), (error: unknown) => {
          assert.ok(error instanceof MessageSendingError);
          assert.equal(error.retryable, retryable);
          assert.match(error.message, reason);
          assert.doesNotMatch(error.message, /pa ss&w0rd|pa%20ss%26w0rd/);
          return true;
        });
      });
    }

    test("a refused connection is retryable", async () => {
      const t = await createTestRouter({ backends: { kannel: { engine: KannelBackend, options: { sendsmsUrl: "http://127.0.0.1:9/cgi-bin/sendsms" } } } });
      await assert.rejects(t.backends.get("kannel")!.send({ id: "1", text: "hi", identities: ["1"], context: {} }), (error: unknown) => {
        assert.ok(error instanceof MessageSendingError && error.retryable);
        return true;
      });
      await t.close();
    });
  });
});

describe("Kannel delivery reports (/backend/<name>/status/)", () => {
  let t: TestRouter;
  let view: BackendView;
  let messageId: string;
  const gateway = new FakeGateway();
  before(async () => {
    await gateway.listen();
    gateway.status = 202;
    gateway.answer = "0: Accepted for delivery";
    t = await createTestRouter({
      backends: { kannel: { engine: KannelBackend, options: { sendsmsUrl: `${gateway.url}/cgi-bin/sendsms`, deliveryReportUrl: "http://127.0.0.1:8000" } } },
    });
    [, view] = t.backends.get("kannel")!.views();
    const msg = await t.router.send("hello", await t.connections(["111", "222", "333", "444"], "kannel"));
    await t.idle();
    messageId = msg.id;
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  const transmission = async (identity: string) => {
    const record = await t.store.getMessage(messageId);
    return t.store.getTransmission(record!.transmissions.find((tr) => tr.identity === identity)!.id);
  };
  const report = (identity: string, status: string, extra = "") =>
    get(
      view,
      `message_id=${messageId}&status=${status}&status_text=ACK%2F&smsc=fake&sms_id=abc&fid=&identity=${identity}&date_sent=2026-11-22+22%3A31%3A29${extra}`,
    );

  test("the dlr-url Kannel was given points at this view, with the message id", () => {
    const dlr = new URL(gateway.requests[0].url, "http://x").searchParams.get("dlr-url")!;
    assert.ok(dlr.startsWith(`http://127.0.0.1:8000/backend/kannel/status/?message_id=${messageId}&status=%d&`), dlr);
  });

  const cases: [string, string, string, string, RegExp][] = [
    ["8 (SMSC submit) is recorded; the transmission stays S", "111", "8", "S", /^8 SMSC submit: ACK\/$/],
    ["1 (delivered) marks it D", "222", "1", "D", /^1 delivery success/],
    ["2 (delivery failure) marks it E", "333", "2", "E", /^2 delivery failure/],
    ["16 (SMSC reject) marks it E", "444", "16", "E", /^16 SMSC reject/],
  ];
  for (const [name, identity, status, expected, detail] of cases) {
    test(`DLR ${name}`, async () => {
      const response = await report(identity, status);
      assert.deepEqual([response.status, response.body], [200, ""]);
      const tr = await transmission(identity);
      assert.equal(tr?.status, expected);
      assert.match(tr!.deliveryReports.at(-1)!.detail!, detail);
    });
  }

  test("DLR 4 (buffered) after 1 keeps the transmission D; the message is E because one recipient failed", async () => {
    assert.equal((await report("222", "4")).status, 200);
    assert.equal((await transmission("222"))?.status, "D");
    assert.equal((await t.store.getMessage(messageId))?.status, "E");
  });

  const malformed: [string, string, number, RegExp][] = [
    ["a report for a message never sent", "message_id=nope&status=1&identity=111", 400, /^form failed to validate\nno message nope was sent to 111/],
    ["a report for another recipient", `message_id=MID&status=1&identity=999`, 400, /was sent to 999/],
    ["an unknown DLR type", "message_id=MID&status=3&identity=111", 400, /^form failed to validate\nstatus: expected a Kannel DLR type/],
    ["no identity", "message_id=MID&status=1", 400, /^form failed to validate\nidentity: This field is required\./],
    ["no message id", "status=1&identity=111", 400, /^form failed to validate\nmessage_id: This field is required\./],
  ];
  for (const [name, query, status, body] of malformed) {
    test(`${status}, never 500: ${name}`, async () => {
      const response = await get(view, query.replace("MID", messageId));
      assert.equal(response.status, status);
      assert.match(response.body, body);
    });
  }

  test("405 for POST", async () => {
    assert.equal((await get(view, `message_id=${messageId}&status=1&identity=111`, "POST")).status, 405);
  });
});
