import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { AlgorithmTypes } from "@vonage/auth";
import { SMS, SMSStatus } from "@vonage/sms";
import type { Logger } from "pino";
import { FakeGateway, type GatewayRequest } from "../../../test/support/fake-gateway.ts";
import { MessageSendingError } from "../../errors.ts";
import { parseUrlencoded } from "../../http/urlencoded.ts";
import { smsSize } from "../../messages/encoding.ts";
import { openSqliteStore } from "../../store/sqlite.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import { buildBackend } from "../build.ts";
import { GatewayClient } from "../gateway-client.ts";
import type { BackendPort } from "../port.ts";
import type { BackendView, ViewRequest } from "../view.ts";
import { VonageBackend, vonageOptionsSchema } from "./index.ts";
import { prepareVonageRequest, VONAGE_STATUSES } from "./outbound.ts";
import { isVonageSignature, SIGNATURE_METHODS, signedText, vonageSignature, type SignatureMethod } from "./signature.ts";

const API_KEY = "abcd1234";
const API_SECRET = "S3cretApiValue99";
const SIG_SECRET = "sig-secret-0123456789abcdef";
const BASE = { apiKey: API_KEY, apiSecret: API_SECRET, from: "AcmeInc" };

/** The SDK's name for each signatureMethod. */
const SDK_ALGORITHMS: Record<SignatureMethod, AlgorithmTypes> = {
  md5hash: AlgorithmTypes.md5hash,
  md5: AlgorithmTypes.md5hmac,
  sha1: AlgorithmTypes.sha1hmac,
  sha256: AlgorithmTypes.sha256hmac,
  sha512: AlgorithmTypes.sha512hmac,
};

/**
 * A signature made the way Vonage's "Signing messages" guide describes, written here from the
 * guide's steps (not with the backend's signer), in upper case as Vonage's own example shows.
 */
function documentedSignature(params: Record<string, string>, secret: string, method: SignatureMethod): string {
  let text = "";
  for (const key of Object.keys(params).sort()) if (key !== "sig") text += `&${key}=${params[key].replaceAll("&", "_").replaceAll("=", "_")}`;
  const hex =
    method === "md5hash"
      ? createHash("md5")
          .update(text + secret)
          .digest("hex")
      : createHmac(method, secret).update(text).digest("hex");
  return hex.toUpperCase();
}

const now = () => String(Math.floor(Date.now() / 1000));

/** The parameters as Vonage signs them: a timestamp and a nonce added, then `sig`. */
function signed(params: Record<string, string>, method: SignatureMethod = "md5hash", secret = SIG_SECRET): Record<string, string> {
  const withMeta = { timestamp: now(), nonce: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", ...params };
  return { ...withMeta, sig: documentedSignature(withMeta, secret, method) };
}

/** An inbound SMS as the API reference shows it. */
function inbound(extra: Record<string, string> = {}): Record<string, string> {
  return {
    msisdn: "447700900001",
    to: "447700900000",
    messageId: "0A0000000123ABCD1",
    text: "Hello world",
    type: "text",
    keyword: "HELLO",
    "message-timestamp": "2020-01-01 12:00:00",
    "api-key": API_KEY,
    ...extra,
  };
}

function get(view: BackendView, params: Record<string, string>, name = "vonage"): ViewRequest {
  return { method: "GET", url: `/backend/${name}/${view.path}?${new URLSearchParams(params)}`, query: { ...params }, origin: "http://127.0.0.1" };
}

function postForm(view: BackendView, params: Record<string, string>): ViewRequest {
  const raw = new URLSearchParams(params).toString();
  return {
    method: "POST",
    url: `/backend/vonage/${view.path}`,
    query: {},
    body: parseUrlencoded(raw),
    rawBody: raw,
    headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
  };
}

function postJson(view: BackendView, body: unknown): ViewRequest {
  return {
    method: "POST",
    url: `/backend/vonage/${view.path}`,
    query: {},
    body,
    rawBody: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  };
}

async function inboundCount(t: TestRouter): Promise<number> {
  return (await t.store.listMessages({ direction: "I", limit: 1000 })).length;
}

async function lastInbound(t: TestRouter) {
  const [message] = await t.store.listMessages({ direction: "I", limit: 1 });
  return message;
}

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("Vonage signatures: ours and the official SDK's (@vonage/sms verifySignature)", () => {
  const sms = new SMS({ apiKey: API_KEY, apiSecret: API_SECRET });
  const params = signed(inbound({ text: "a&b=c 😀 ç" }));
  delete params.sig;

  test("the signed text: every parameter but sig, sorted, & and = in values replaced by _, a leading &", () => {
    assert.equal(signedText({ text: "x&y=z", b: "2", a: "1", sig: "ignored" }), "&a=1&b=2&text=x_y_z");
  });

  for (const method of SIGNATURE_METHODS) {
    test(`${method}: the SDK verifies the signature we compute, and refuses it for a changed text`, () => {
      const sig = vonageSignature(params, SIG_SECRET, method);
      assert.equal(sms.verifySignature(sig, { ...params, sig }, SIG_SECRET, SDK_ALGORITHMS[method]), true);
      assert.equal(sms.verifySignature(sig, { ...params, text: "changed", sig }, SIG_SECRET, SDK_ALGORITHMS[method]), false);
    });

    test(`${method}: a signature made by the documented steps (and verified by the SDK) is accepted by ours, in either case`, () => {
      const sig = documentedSignature(params, SIG_SECRET, method);
      assert.equal(sms.verifySignature(sig, { ...params, sig }, SIG_SECRET, SDK_ALGORITHMS[method]), true);
      assert.equal(isVonageSignature(sig, params, SIG_SECRET, method), true);
      assert.equal(isVonageSignature(sig.toLowerCase(), params, SIG_SECRET, method), true);
      assert.equal(isVonageSignature(sig, params, "another-secret", method), false);
      assert.equal(isVonageSignature(sig, { ...params, msisdn: "447700900002" }, SIG_SECRET, method), false);
    });
  }

  test("a signature made with another method is refused", () => {
    const sig = vonageSignature(params, SIG_SECRET, "sha256");
    assert.equal(isVonageSignature(sig, params, SIG_SECRET, "sha512"), false);
    assert.equal(isVonageSignature(sig, params, SIG_SECRET, "md5hash"), false);
  });
});

describe("Vonage options", () => {
  test("defaults: md5hash signatures, rest.nexmo.com, no publicUrl of its own", () => {
    const options = vonageOptionsSchema.parse(BASE);
    assert.equal(options.signatureMethod, "md5hash");
    assert.equal(options.apiUrl, "https://rest.nexmo.com");
    assert.equal(options.publicUrl, null);
    assert.equal(options.signatureSecret, null);
    assert.equal(options.timeoutMs, 10_000);
    assert.equal(options.maxConcurrency, 16);
  });

  const refused: [string, object, RegExp][] = [
    ["no apiKey", { apiSecret: API_SECRET, from: "AcmeInc" }, /apiKey.*expected the API key/s],
    ["no apiSecret", { apiKey: API_KEY, from: "AcmeInc" }, /apiSecret.*expected the API secret/s],
    ["no from", { apiKey: API_KEY, apiSecret: API_SECRET }, /from.*expected the number/s],
    ["an unknown signatureMethod", { ...BASE, signatureMethod: "sha3" }, /expected one of md5hash, md5, sha1, sha256, sha512/],
    ["an unknown option", { ...BASE, apiSecretKey: "x" }, /apiSecretKey/],
    ["a short inboundToken", { ...BASE, inboundToken: "short" }, /at least 16 characters/],
  ];
  for (const [name, options, reason] of refused) {
    test(`refused: ${name}`, () => {
      const result = vonageOptionsSchema.safeParse(options);
      assert.equal(result.success, false);
      assert.match(JSON.stringify(result.error?.issues), reason);
    });
  }

  function warningsFor(options: object): string[] {
    const warnings: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => warnings.push(message), info() {}, error() {}, child: () => logger } as unknown as Logger;
    const port = { name: "vonage", publicUrl: null, logger, gatewayClient: (o: ConstructorParameters<typeof GatewayClient>[0]) => new GatewayClient(o) };
    const backend = buildBackend(VonageBackend, port as unknown as BackendPort, vonageOptionsSchema.parse(options));
    void backend.close();
    return warnings;
  }

  test("start-up warns when webhooks are neither signed nor token-protected, naming both ways to fix it", () => {
    const [warning, ...more] = warningsFor(BASE);
    assert.equal(more.length, 0);
    assert.match(warning, /neither signatureSecret nor inboundToken.*anyone who reaches \/backend\/vonage\/.*set signatureSecret.*or inboundToken/);
  });

  test("no warning with a signatureSecret, nor with an inboundToken", () => {
    assert.deepEqual(warningsFor({ ...BASE, signatureSecret: SIG_SECRET }), []);
    assert.deepEqual(warningsFor({ ...BASE, inboundToken: "token-0123456789abcdef" }), []);
  });
});

describe("Vonage inbound (/backend/<name>/), unsigned", () => {
  let t: TestRouter;
  let view: BackendView;
  before(async () => {
    t = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: BASE } }, stopped: true });
    [view] = t.backends.get("vonage")!.views();
  });
  after(() => t.close());

  const accepted: [string, (view: BackendView) => ViewRequest, { identity: string; text: string; fields: Record<string, unknown> }][] = [
    [
      "GET with the query (the dashboard's GET): every parameter kept, messageId as externalId",
      (v) => get(v, inbound({ messageId: "get-1" })),
      { identity: "447700900001", text: "Hello world", fields: { ...inbound({ messageId: "get-1" }), externalId: "get-1" } },
    ],
    [
      "POST form-encoded (the dashboard's POST)",
      (v) => postForm(v, inbound({ messageId: "form-1", text: "Habari ç 😀 & = +" })),
      { identity: "447700900001", text: "Habari ç 😀 & = +", fields: { ...inbound({ messageId: "form-1", text: "Habari ç 😀 & = +" }), externalId: "form-1" } },
    ],
    [
      "POST-JSON, a number taken as its text",
      (v) => postJson(v, { ...inbound({ messageId: "json-1" }), timestamp: 1578787200 }),
      { identity: "447700900001", text: "Hello world", fields: { ...inbound({ messageId: "json-1" }), timestamp: "1578787200", externalId: "json-1" } },
    ],
    [
      "a binary message: no text, its data and udh kept",
      (v) => get(v, { msisdn: "447700900003", to: "447700900000", messageId: "bin-1", type: "binary", data: "0011", udh: "050003CC0201" }),
      {
        identity: "447700900003",
        text: "",
        fields: { msisdn: "447700900003", to: "447700900000", messageId: "bin-1", type: "binary", data: "0011", udh: "050003CC0201", externalId: "bin-1" },
      },
    ],
    [
      "an empty text is an empty message",
      (v) => get(v, inbound({ messageId: "empty-1", text: "" })),
      { identity: "447700900001", text: "", fields: { ...inbound({ messageId: "empty-1", text: "" }), externalId: "empty-1" } },
    ],
    [
      "a one-part 'concatenated' message is received at once",
      (v) => get(v, inbound({ messageId: "one-1", concat: "true", "concat-ref": "9", "concat-total": "1", "concat-part": "1" })),
      {
        identity: "447700900001",
        text: "Hello world",
        fields: { ...inbound({ messageId: "one-1", concat: "true", "concat-ref": "9", "concat-total": "1", "concat-part": "1" }), externalId: "one-1" },
      },
    ],
  ];
  for (const [name, request, expected] of accepted) {
    test(`200 with an empty body: ${name}`, async () => {
      const response = await view.handle(request(view));
      assert.deepEqual([response.status, response.body], [200, ""]);
      const message = await lastInbound(t);
      assert.equal(message.transmissions[0].identity, expected.identity);
      assert.equal(message.text, expected.text);
      assert.deepEqual(message.fields, expected.fields);
    });
  }

  const refused: [string, (view: BackendView) => ViewRequest, number, RegExp][] = [
    ["no msisdn", (v) => get(v, { to: "1", messageId: "r1", text: "x" }), 400, /^form failed to validate\nmsisdn: This field is required\.$/],
    ["no messageId", (v) => get(v, { msisdn: "447700900001", to: "1", text: "x" }), 400, /^form failed to validate\nmessageId: This field is required\.$/],
    ["no to", (v) => get(v, { msisdn: "447700900001", messageId: "r2", text: "x" }), 400, /^form failed to validate\nto: This field is required\.$/],
    ["no text in a text message", (v) => get(v, { msisdn: "447700900001", to: "1", messageId: "r3", type: "text" }), 400, /\ntext: This field is required\.$/],
    ["a sender with a newline", (v) => postForm(v, inbound({ messageId: "r4", msisdn: "4477\n0001" })), 400, /\nmsisdn: /],
    ["a NUL in the text", (v) => postForm(v, inbound({ messageId: "r5", text: "a\0b" })), 400, /\ntext: Null characters are not allowed\.$/],
    [
      "bytes that are not UTF-8",
      (v) => ({ ...get(v, {}), url: "/backend/vonage/?msisdn=1&to=2&messageId=r6&text=%FF" }),
      400,
      /\ntext: the percent-encoded bytes are not valid UTF-8/,
    ],
    [
      "a part number above the total",
      (v) => get(v, inbound({ messageId: "r7", "concat-ref": "1", "concat-total": "2", "concat-part": "3" })),
      400,
      /\nconcat-part: Expected a part number no greater than concat-total\.$/,
    ],
    [
      "a part without its reference",
      (v) => get(v, inbound({ messageId: "r8", concat: "true", "concat-total": "2", "concat-part": "1" })),
      400,
      /\nconcat-ref: This field is required\.$/,
    ],
    [
      "a total that is not a number",
      (v) => get(v, inbound({ messageId: "r9", "concat-ref": "1", "concat-total": "two", "concat-part": "1" })),
      400,
      /\nconcat-total: Expected a whole number\.$/,
    ],
    ["a JSON array", (v) => postJson(v, [inbound()]), 400, /^form failed to validate\nthe body is not a JSON object of parameters$/],
    [
      "a JSON object in a parameter",
      (v) => postJson(v, { ...inbound({ messageId: "r10" }), text: { a: 1 } }),
      400,
      /^form failed to validate\ntext: Expected text\.$/,
    ],
    ["PUT", (v) => ({ ...postForm(v, inbound({ messageId: "r11" })), method: "PUT" }), 405, /^method PUT not allowed: use GET or POST$/],
  ];
  for (const [name, request, status, reason] of refused) {
    test(`${status} with the reason, nothing stored: ${name}`, async () => {
      const before = await inboundCount(t);
      const response = await view.handle(request(view));
      assert.equal(response.status, status);
      assert.match(response.body, reason);
      if (status === 405) assert.deepEqual(response.headers, { allow: "GET, POST" });
      assert.equal(await inboundCount(t), before);
    });
  }

  test("Vonage's resend of the same messageId is answered 200 and stored once", async () => {
    const before = await inboundCount(t);
    assert.equal((await view.handle(get(view, inbound({ messageId: "again-1" })))).status, 200);
    assert.equal((await view.handle(postForm(view, inbound({ messageId: "again-1" })))).status, 200);
    assert.equal(await inboundCount(t), before + 1);
  });
});

describe("Vonage signed webhooks (signatureSecret)", () => {
  for (const method of SIGNATURE_METHODS) {
    describe(`signatureMethod ${method}`, () => {
      let t: TestRouter;
      let view: BackendView;
      before(async () => {
        t = await createTestRouter({
          backends: { vonage: { engine: VonageBackend, options: { ...BASE, signatureSecret: SIG_SECRET, signatureMethod: method } } },
          stopped: true,
        });
        [view] = t.backends.get("vonage")!.views();
      });
      after(() => t.close());

      test("a signed GET is received; sig is not kept, timestamp and nonce are", async () => {
        const params = signed(inbound({ messageId: `signed-${method}`, text: "a&b=c" }), method);
        const response = await view.handle(get(view, params));
        assert.deepEqual([response.status, response.body], [200, ""]);
        const message = await lastInbound(t);
        const { sig: _sig, ...kept } = params;
        assert.deepEqual(message.fields, { ...kept, externalId: `signed-${method}` });
      });

      test("a signed POST-JSON with a numeric timestamp is received (signed as its text)", async () => {
        const params = signed(inbound({ messageId: `json-${method}` }), method);
        const response = await view.handle(postJson(view, { ...params, timestamp: Number(params.timestamp) }));
        assert.equal(response.status, 200, response.body);
      });

      const refused: [string, () => Record<string, string>, RegExp][] = [
        ["no sig", () => ({ ...inbound(), timestamp: now() }), /^forbidden: the request carries no sig parameter.*signatureSecret/],
        ["a text changed after signing", () => ({ ...signed(inbound(), method), text: "send money" }), /^forbidden: the sig parameter is not the .* signature/],
        ["signed with another secret", () => signed(inbound(), method, "not-the-secret"), /^forbidden: the sig parameter is not the/],
        ["signed with another method", () => signed(inbound(), method === "sha512" ? "sha256" : "sha512"), /^forbidden: the sig parameter is not the/],
        [
          "a timestamp ten minutes old",
          () => signed({ ...inbound(), timestamp: String(Math.floor(Date.now() / 1000) - 600) }, method),
          /^forbidden: the signed timestamp is 60[01] s away from this server's clock, more than signatureMaxAgeMs allows \(300 s\)/,
        ],
        [
          "a timestamp ten minutes ahead",
          () => signed({ ...inbound(), timestamp: String(Math.floor(Date.now() / 1000) + 600) }, method),
          /^forbidden: the signed timestamp is (599|600) s away/,
        ],
        [
          "a timestamp that is no Unix time",
          () => signed({ ...inbound(), timestamp: "2020-01-01" }, method),
          /^forbidden: the signed timestamp "2020-01-01" is not a Unix time/,
        ],
      ];
      for (const [name, params, reason] of refused) {
        test(`403, nothing stored: ${name}`, async () => {
          const before = await inboundCount(t);
          for (const request of [get(view, params()), postForm(view, params())]) {
            const response = await view.handle(request);
            assert.equal(response.status, 403);
            assert.match(response.body, reason);
          }
          assert.equal(await inboundCount(t), before);
        });
      }
    });
  }

  test("a signed webhook without a timestamp is taken (Vonage's freshness is checked only when it signs one)", async () => {
    const t = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: { ...BASE, signatureSecret: SIG_SECRET } } }, stopped: true });
    try {
      const [view] = t.backends.get("vonage")!.views();
      const params = inbound({ messageId: "no-ts" });
      const response = await view.handle(get(view, { ...params, sig: documentedSignature(params, SIG_SECRET, "md5hash") }));
      assert.equal(response.status, 200, response.body);
    } finally {
      await t.close();
    }
  });
});

describe("Vonage inbound with an inboundToken (accounts without signed webhooks)", () => {
  let t: TestRouter;
  let view: BackendView;
  const token = "token-0123456789abcdef";
  before(async () => {
    t = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: { ...BASE, inboundToken: token } } }, stopped: true });
    [view] = t.backends.get("vonage")!.views();
  });
  after(() => t.close());

  test("without the token: 403, nothing stored", async () => {
    const response = await view.handle(get(view, inbound({ messageId: "tok-1" })));
    assert.equal(response.status, 403);
    assert.match(response.body, /inboundToken/);
    assert.equal(await inboundCount(t), 0);
  });

  test("with ?token=: received, the token not among the fields", async () => {
    const response = await view.handle(get(view, { ...inbound({ messageId: "tok-2" }), token }));
    assert.equal(response.status, 200, response.body);
    assert.deepEqual((await lastInbound(t)).fields, { ...inbound({ messageId: "tok-2" }), externalId: "tok-2" });
  });
});

describe("Vonage concatenated inbound SMS: the parts make one message", () => {
  let t: TestRouter;
  let view: BackendView;
  /** A router whose concatenation waits a minute: for every test but those of the timeout, since a busy machine can take longer than 200 ms between parts. */
  let patient: TestRouter;
  let patientView: BackendView;
  before(async () => {
    t = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: { ...BASE, concatTimeoutMs: 200 } } }, stopped: true });
    [view] = t.backends.get("vonage")!.views();
    patient = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: { ...BASE, concatTimeoutMs: 60_000 } } }, stopped: true });
    [patientView] = patient.backends.get("vonage")!.views();
  });
  after(async () => {
    await t.close();
    await patient.close();
  });

  const part = (ref: string, n: number, total: number, text: string, msisdn = "447700900001") =>
    inbound({ msisdn, messageId: `${ref}-${msisdn}-p${n}`, text, concat: "true", "concat-ref": ref, "concat-total": String(total), "concat-part": String(n) });

  test("parts in any order: each answered 200, nothing received until the last, then one message in part order", async () => {
    const before = await inboundCount(patient);
    for (const n of [2, 3]) {
      const response = await patientView.handle(get(patientView, part("11", n, 3, `<${n}>`)));
      assert.deepEqual([response.status, response.body], [200, ""]);
      assert.equal(await inboundCount(patient), before, `part ${n} alone is not a message`);
    }
    assert.equal((await patientView.handle(postForm(patientView, part("11", 2, 3, "<2>")))).status, 200, "a resent part is answered 200");
    assert.equal((await patientView.handle(get(patientView, part("11", 1, 3, "<1>")))).status, 200);
    assert.equal(await inboundCount(patient), before + 1);
    const message = await lastInbound(patient);
    assert.equal(message.text, "<1><2><3>");
    assert.equal(message.transmissions[0].identity, "447700900001");
    assert.deepEqual(message.fields, {
      ...part("11", 1, 3, "<1>"),
      text: "<1><2><3>",
      "concat-message-ids": ["11-447700900001-p1", "11-447700900001-p2", "11-447700900001-p3"],
      externalId: "11-447700900001-p1",
    });
  });

  test("a part Vonage resends after its message was received is answered 200 and dropped", async () => {
    // Together: 200 ms between them would release part 1 alone.
    await Promise.all([1, 2].map((n) => view.handle(get(view, part("12", n, 2, `[${n}]`)))));
    const before = await inboundCount(t);
    assert.equal((await view.handle(get(view, part("12", 2, 2, "[2]")))).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(await inboundCount(t), before, "not held, so not received again when concatTimeoutMs passes");
  });

  test("two senders using the same reference are not mixed", async () => {
    await patientView.handle(get(patientView, part("13", 1, 2, "A1", "447700900011")));
    await patientView.handle(get(patientView, part("13", 1, 2, "B1", "447700900012")));
    await patientView.handle(get(patientView, part("13", 2, 2, "A2", "447700900011")));
    await patientView.handle(get(patientView, part("13", 2, 2, "B2", "447700900012")));
    const texts = (await patient.store.listMessages({ direction: "I", limit: 2 })).map((m) => m.text).sort();
    assert.deepEqual(texts, ["A1A2", "B1B2"]);
  });

  test("a message longer than a stored text can be (70 parts of 160) is received cut at the limit, marked concat-cut", async () => {
    for (let n = 1; n <= 70; n++) assert.equal((await patientView.handle(get(patientView, part("15", n, 70, "x".repeat(160))))).status, 200);
    const message = await lastInbound(patient);
    assert.equal(message.text.length, 10_000);
    assert.equal(message.fields["concat-cut"], true);
    assert.equal((message.fields["concat-message-ids"] as string[]).length, 70);
  });

  test("a message cut at the limit is cut between characters: an emoji across the limit is left out whole, and the message is received", async () => {
    assert.equal((await patientView.handle(get(patientView, part("16", 1, 2, "a".repeat(9_999))))).status, 200);
    assert.equal((await patientView.handle(get(patientView, part("16", 2, 2, "😀b")))).status, 200);
    const message = await lastInbound(patient);
    assert.equal(message.text, "a".repeat(9_999));
    assert.equal(message.fields["concat-cut"], true);
  });

  test("a message whose last part never comes is received with what came once concatTimeoutMs passes, naming the missing part", async () => {
    const before = await inboundCount(t);
    await view.handle(get(view, part("14", 1, 2, "only the first")));
    const message = await until("the incomplete message", async () => ((await inboundCount(t)) > before ? lastInbound(t) : undefined));
    assert.equal(message.text, "only the first");
    assert.deepEqual(message.fields["concat-missing"], [2]);
    assert.equal(message.fields.externalId, "14-447700900001-p1");
  });
});

describe("Vonage concatenated inbound SMS are kept durably: no part answered 2xx is lost", () => {
  const part = (ref: string, n: number, total: number, text: string, msisdn = "447700900031") =>
    inbound({ msisdn, messageId: `${ref}-${msisdn}-p${n}`, text, concat: "true", "concat-ref": ref, "concat-total": String(total), "concat-part": String(n) });

  test("a restart between two parts loses nothing: the second part, in a new process on the same database, completes the message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rapidsms-vonage-parts-"));
    const file = join(dir, "parts.db");
    const backends = { vonage: { engine: VonageBackend, options: { ...BASE, concatTimeoutMs: 60_000 } } };
    try {
      const first = await createTestRouter({ backends, store: openSqliteStore(file), stopped: true });
      const [view1] = first.backends.get("vonage")!.views();
      assert.equal((await view1.handle(get(view1, part("21", 1, 2, "before the restart, ")))).status, 200);
      await first.close();
      const second = await createTestRouter({ backends, store: openSqliteStore(file), stopped: true });
      try {
        const [view2] = second.backends.get("vonage")!.views();
        assert.equal((await view2.handle(get(view2, part("21", 2, 2, "after it")))).status, 200);
        const [message] = await second.store.listMessages({ direction: "I", limit: 1 });
        assert.equal(message.text, "before the restart, after it");
        assert.deepEqual(message.fields["concat-message-ids"], ["21-447700900031-p1", "21-447700900031-p2"]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("storing the completed message fails: the last part is refused, and Vonage's resend of it stores the whole message once", async () => {
    const t = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: { ...BASE, concatTimeoutMs: 60_000 } } }, stopped: true });
    try {
      const [view] = t.backends.get("vonage")!.views();
      await view.handle(get(view, part("22", 1, 2, "one ")));
      const accept = t.store.acceptIncoming.bind(t.store);
      t.store.acceptIncoming = async () => {
        throw new Error("store down");
      };
      await assert.rejects(view.handle(get(view, part("22", 2, 2, "two"))), /store down/);
      t.store.acceptIncoming = accept;
      assert.equal((await view.handle(get(view, part("22", 2, 2, "two")))).status, 200);
      assert.equal((await view.handle(get(view, part("22", 2, 2, "two")))).status, 200, "and again, once received");
      const messages = await t.store.listMessages({ direction: "I", limit: 10 });
      assert.deepEqual(
        messages.map((m) => m.text),
        ["one two"],
      );
    } finally {
      await t.close();
    }
  });

  test("a new message reusing the reference while the old one is incomplete: the old one is received as it is, the new one whole", async () => {
    const t = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: { ...BASE, concatTimeoutMs: 60_000 } } }, stopped: true });
    try {
      const [view] = t.backends.get("vonage")!.views();
      await view.handle(
        get(
          view,
          inbound({ msisdn: "447700900032", messageId: "first-1", text: "old", concat: "true", "concat-ref": "23", "concat-total": "2", "concat-part": "1" }),
        ),
      );
      await view.handle(
        get(
          view,
          inbound({ msisdn: "447700900032", messageId: "second-1", text: "new ", concat: "true", "concat-ref": "23", "concat-total": "2", "concat-part": "1" }),
        ),
      );
      await view.handle(
        get(
          view,
          inbound({
            msisdn: "447700900032",
            messageId: "second-2",
            text: "whole",
            concat: "true",
            "concat-ref": "23",
            "concat-total": "2",
            "concat-part": "2",
          }),
        ),
      );
      const messages = (await t.store.listMessages({ direction: "I", limit: 10 })).reverse();
      assert.deepEqual(
        messages.map((m) => [m.text, m.fields["concat-message-ids"], m.fields["concat-missing"]]),
        [
          ["old", ["first-1"], [2]],
          ["new whole", ["second-1", "second-2"], undefined],
        ],
      );
    } finally {
      await t.close();
    }
  });
});

/** Answers each send as Vonage does: one `messages[]` entry per SMS part, each with its own id. */
function vonageAnswers(gateway: FakeGateway, statusFor: (to: string, text: string) => string = () => "0") {
  let n = 0;
  gateway.respond = (request: GatewayRequest) => {
    const form = new URLSearchParams(request.body);
    const to = form.get("to") ?? "";
    const text = form.get("text") ?? "";
    const status = statusFor(to, text);
    const parts = status === "0" ? smsSize(text).segments : 1;
    const messages = Array.from({ length: parts }, () =>
      status === "0"
        ? { to, "message-id": `0B${String(++n).padStart(14, "0")}`, status: "0", "remaining-balance": "3.14", "message-price": "0.0333", network: "23410" }
        : { status, "error-text": `error ${status} for ${to}` },
    );
    return { status: 200, body: JSON.stringify({ "message-count": String(parts), messages }) };
  };
}

describe("Vonage outbound: the request sent", () => {
  const options = vonageOptionsSchema.parse({ ...BASE, apiUrl: "http://127.0.0.1:9999/" });
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const cases: [string, Parameters<typeof prepareVonageRequest>[1], string][] = [
    [
      "form-encoded api_key, api_secret, from, to, text, a receipt asked for at the callback, our id as client-ref",
      { identity: "447700900000", text: "Hello World!", clientRef: "ID1", callback: "https://sms.example.org/backend/vonage/status/" },
      `api_key=abcd1234&api_secret=${API_SECRET}&from=AcmeInc&to=447700900000&text=Hello+World%21&status-report-req=true&callback=https%3A%2F%2Fsms.example.org%2Fbackend%2Fvonage%2Fstatus%2F&client-ref=ID1`,
    ],
    [
      "a leading + is dropped from the recipient; no callback without a publicUrl",
      { identity: "+447700900000", text: "hi", clientRef: "ID2" },
      `api_key=abcd1234&api_secret=${API_SECRET}&from=AcmeInc&to=447700900000&text=hi&status-report-req=true&client-ref=ID2`,
    ],
    [
      "text outside GSM-7 goes as type=unicode",
      { identity: "447700900000", text: "Habari 😀", clientRef: "ID3" },
      `api_key=abcd1234&api_secret=${API_SECRET}&from=AcmeInc&to=447700900000&text=Habari+%F0%9F%98%80&type=unicode&status-report-req=true&client-ref=ID3`,
    ],
    [
      "GSM-7's extension table (€, [ ]) stays text",
      { identity: "447700900000", text: "€5 [ok]", clientRef: "ID4" },
      `api_key=abcd1234&api_secret=${API_SECRET}&from=AcmeInc&to=447700900000&text=%E2%82%AC5+%5Bok%5D&status-report-req=true&client-ref=ID4`,
    ],
    [
      "an id longer than client-ref's 40 characters is not sent",
      { identity: "447700900000", text: "hi", clientRef: "x".repeat(41) },
      `api_key=abcd1234&api_secret=${API_SECRET}&from=AcmeInc&to=447700900000&text=hi&status-report-req=true`,
    ],
  ];
  for (const [name, message, body] of cases) {
    test(`POST {apiUrl}/sms/json: ${name}`, () => {
      const call = prepareVonageRequest(options, message);
      assert.deepEqual(
        { method: call.method, url: call.url, headers: call.headers, body: call.body },
        { method: "POST", url: "http://127.0.0.1:9999/sms/json", headers: form, body },
      );
    });
  }

  test("a numeric from loses its leading + too", () => {
    const call = prepareVonageRequest({ ...options, from: "+447700900099" }, { identity: "447700900000", text: "hi", clientRef: "ID5" });
    assert.equal(new URLSearchParams(String(call.body)).get("from"), "447700900099");
  });
});

describe("Vonage outbound: through the backend to a mock SMS API", () => {
  const gateway = new FakeGateway();
  const sdkGateway = new FakeGateway();
  let t: TestRouter;
  const backend = () => t.backends.get("vonage")! as VonageBackend;
  before(async () => {
    await gateway.listen();
    await sdkGateway.listen();
    t = await createTestRouter({
      backends: { vonage: { engine: VonageBackend, options: { ...BASE, apiUrl: gateway.url } } },
      publicUrl: "https://sms.example.org",
      pipeline: { maxAttempts: 2 },
    });
  });
  beforeEach(() => {
    gateway.requests.length = 0;
    vonageAnswers(gateway);
  });
  after(async () => {
    await t.close();
    await gateway.close();
    await sdkGateway.close();
  });

  test("one POST per recipient to /sms/json; each recipient's first message-id kept, one segment each", async () => {
    const result = await backend().send({ id: "ID1", text: "hello", identities: ["+447700900001", "447700900002"], context: {} });
    assert.deepEqual(result.externalIds, { "+447700900001": "0B00000000000001", "447700900002": "0B00000000000002" });
    assert.deepEqual(result.segments, { "+447700900001": 1, "447700900002": 1 });
    assert.equal(gateway.requests.length, 2);
    const [request] = gateway.requests;
    assert.deepEqual(
      { method: request.method, url: request.url, type: request.headers["content-type"], auth: request.headers.authorization },
      { method: "POST", url: "/sms/json", type: "application/x-www-form-urlencoded", auth: undefined },
    );
    assert.deepEqual(
      gateway.params().map((p) => Object.fromEntries(p)),
      ["447700900001", "447700900002"].map((to) => ({
        api_key: API_KEY,
        api_secret: API_SECRET,
        from: "AcmeInc",
        to,
        text: "hello",
        "status-report-req": "true",
        callback: "https://sms.example.org/backend/vonage/status/",
        "client-ref": "ID1",
      })),
    );
  });

  test("the request carries what the official SDK sends for the same message (it sends JSON with HTTP Basic; the API reference documents this form)", async () => {
    sdkGateway.requests.length = 0;
    vonageAnswers(sdkGateway);
    const text = "Karibu 😀";
    const callback = "https://sms.example.org/backend/vonage/status/";
    const sms = new SMS({ apiKey: API_KEY, apiSecret: API_SECRET }, { restHost: sdkGateway.url });
    await sms.send({ to: "447700900001", from: "AcmeInc", text, type: "unicode", statusReportReq: true, callback, clientRef: "ID9" } as Parameters<
      SMS["send"]
    >[0]);
    await backend().send({ id: "ID9", text, identities: ["+447700900001"], context: {} });
    const [sdk] = sdkGateway.requests;
    const [ours] = gateway.requests;
    assert.deepEqual([ours.method, ours.url], [sdk.method, sdk.url]);
    const sdkFields = JSON.parse(sdk.body) as Record<string, unknown>;
    const ourFields = Object.fromEntries(new URLSearchParams(ours.body));
    const sdkCredentials = Buffer.from(String(sdk.headers.authorization).replace(/^Basic /, ""), "base64").toString();
    assert.equal(`${ourFields.api_key}:${ourFields.api_secret}`, sdkCredentials);
    const { api_key: _key, api_secret: _secret, ...ourMessage } = ourFields;
    assert.deepEqual(ourMessage, Object.fromEntries(Object.entries(sdkFields).map(([k, v]) => [k, String(v)])));
  });

  test("a text of several parts: the first part's id is the gateway id, the parts are its segments", async () => {
    const text = "x".repeat(200);
    const result = await backend().send({ id: "ID2", text, identities: ["447700900003"], context: {} });
    assert.deepEqual(result.externalIds, { "447700900003": "0B00000000000001" });
    assert.deepEqual(result.segments, { "447700900003": 2 });
  });

  test("every status code the SDK knows has a rule here, and no other", () => {
    const sdkCodes = Object.values(SMSStatus)
      .filter((code) => code !== "0")
      .sort();
    assert.deepEqual(Object.keys(VONAGE_STATUSES).sort(), sdkCodes);
  });

  const outcomes: [string, string, { retryable: boolean; optedOut: boolean; code: string; reason: RegExp }][] = [
    [
      "1",
      "Throttled",
      { retryable: true, optedOut: false, code: "GATEWAY_RATE_LIMITED", reason: /status 1 \(Throttled\): error 1 for 447700900009; will retry/ },
    ],
    ["5", "Internal error", { retryable: true, optedOut: false, code: "GATEWAY_UNAVAILABLE", reason: /status 5 \(Internal error\).*; will retry$/ }],
    ["9", "quota", { retryable: true, optedOut: false, code: "SEND_FAILED", reason: /status 9 \(Partner quota violation\).*top up/ }],
    [
      "4",
      "bad credentials",
      { retryable: false, optedOut: false, code: "GATEWAY_AUTH_FAILED", reason: /status 4 \(Invalid credentials\).*check apiKey and apiSecret$/ },
    ],
    [
      "3",
      "invalid parameters",
      { retryable: false, optedOut: false, code: "GATEWAY_REJECTED", reason: /status 3 \(Invalid parameters\): error 3 for 447700900009; not retried/ },
    ],
    ["7", "barred number", { retryable: false, optedOut: true, code: "RECIPIENT_OPTED_OUT", reason: /status 7 \(Number barred\).*barred from receiving/ }],
    ["33", "deactivated number", { retryable: false, optedOut: false, code: "GATEWAY_REJECTED", reason: /status 33 \(Number de-activated\)/ }],
    ["15", "invalid sender", { retryable: false, optedOut: false, code: "GATEWAY_REJECTED", reason: /status 15 .*check from/ }],
    ["23", "invalid callback", { retryable: false, optedOut: false, code: "GATEWAY_REJECTED", reason: /status 23 .*check publicUrl/ }],
    [
      "42",
      "a code the reference does not list",
      { retryable: false, optedOut: false, code: "GATEWAY_REJECTED", reason: /status 42 \(unknown status\): error 42/ },
    ],
  ];
  for (const [status, name, expected] of outcomes) {
    test(`status ${status} (${name}): ${expected.optedOut ? "opted out" : expected.retryable ? "retried" : "permanent"}, Vonage's error-text in the error`, async () => {
      vonageAnswers(gateway, () => status);
      await assert.rejects(backend().send({ id: "ID3", text: "hi", identities: ["447700900009"], context: {} }), (error: unknown) => {
        assert.ok(error instanceof MessageSendingError);
        assert.equal(error.retryable, expected.retryable);
        assert.equal(error.code, expected.code);
        assert.deepEqual(error.failedIdentities, ["447700900009"]);
        assert.deepEqual(error.optedOutIdentities, expected.optedOut ? ["447700900009"] : []);
        assert.match(error.message, expected.reason);
        assert.match(error.identityErrors["447700900009"], expected.reason);
        return true;
      });
    });
  }

  test("several recipients, some refused: the sent ones keep their ids, each failure its own reason and kind", async () => {
    vonageAnswers(gateway, (to) => ({ "447700900002": "7", "447700900003": "1", "447700900004": "33" })[to] ?? "0");
    const identities = ["447700900001", "447700900002", "447700900003", "447700900004"];
    await assert.rejects(backend().send({ id: "ID4", text: "hi", identities, context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.deepEqual(error.failedIdentities, ["447700900002", "447700900003", "447700900004"]);
      assert.deepEqual(error.externalIds, { "447700900001": "0B00000000000001" });
      assert.deepEqual(error.optedOutIdentities, ["447700900002"]);
      assert.deepEqual(error.permanentIdentities, ["447700900004"]);
      assert.equal(error.retryable, true, "the throttled one is tried again");
      assert.match(error.identityErrors["447700900003"], /status 1 \(Throttled\)/);
      assert.equal(error.message, "Vonage did not send to 3 of 4 recipients: 447700900002, 447700900003, 447700900004");
      assert.match(error.identityErrors["447700900002"], /^Vonage answered status 7/);
      return true;
    });
  });

  test("a long text of which only some parts went: permanent (sending again would repeat them), naming the parts sent", async () => {
    gateway.respond = () => ({
      body: JSON.stringify({
        "message-count": "2",
        messages: [
          { to: "447700900001", "message-id": "P1", status: "0" },
          { status: "1", "error-text": "Throughput Rate Exceeded" },
        ],
      }),
    });
    await assert.rejects(backend().send({ id: "ID5", text: "y".repeat(200), identities: ["447700900001"], context: {} }), (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.equal(error.retryable, false);
      assert.deepEqual(error.permanentIdentities, ["447700900001"]);
      assert.match(
        error.message,
        /^Vonage did not send the message: Vonage sent 1 of 2 parts \(P1\), then answered status 1 \(Throttled\): Throughput Rate Exceeded; not sent again/,
      );
      return true;
    });
  });

  const unreadable: [string, { status?: number; body: string }, boolean, RegExp][] = [
    [
      "a 200 that is not JSON: permanent (it may have been sent)",
      { body: "<html>maintenance</html>" },
      false,
      /: Vonage's answer holds no messages: <html>maintenance<\/html>$/,
    ],
    ["a 200 with no messages", { body: '{"message-count":"0","messages":[]}' }, false, /: Vonage's answer holds no messages/],
    ["a status 0 without a message-id", { body: '{"message-count":"1","messages":[{"status":"0"}]}' }, false, /holds no message-id/],
    ["HTTP 500: retried", { status: 500, body: "oops" }, true, /answered 500 .*; will retry$/],
    ["HTTP 429: retried", { status: 429, body: "slow down" }, true, /answered 429/],
  ];
  for (const [name, answer, retryable, reason] of unreadable) {
    test(`${name}`, async () => {
      gateway.respond = () => ({ contentType: "text/plain", ...answer });
      await assert.rejects(backend().send({ id: "ID6", text: "hi", identities: ["447700900001"], context: {} }), (error: unknown) => {
        assert.ok(error instanceof MessageSendingError);
        assert.equal(error.retryable, retryable);
        assert.match(error.message, reason);
        return true;
      });
    });
  }

  test("the API secret never appears in an error or answer, even when the gateway echoes it", async () => {
    const echo = `bad secret ${API_SECRET} / ${encodeURIComponent(API_SECRET)}`;
    for (const respond of [
      () => ({ status: 401, body: echo, contentType: "text/plain" }),
      () => ({ body: JSON.stringify({ "message-count": "1", messages: [{ status: "4", "error-text": echo }] }) }),
    ]) {
      gateway.respond = respond;
      await assert.rejects(backend().send({ id: "ID7", text: "hi", identities: ["447700900001"], context: {} }), (error: unknown) => {
        assert.ok(error instanceof MessageSendingError);
        const shown = `${error.message}\n${JSON.stringify(error.identityErrors)}`;
        assert.ok(!shown.includes(API_SECRET), shown);
        assert.match(shown, /\*\*\*/);
        return true;
      });
    }
    gateway.respond = () => ({ body: JSON.stringify({ "message-count": "1", messages: [{ to: "1", "message-id": "E1", status: "0", note: API_SECRET }] }) });
    const result = await backend().send({ id: "ID8", text: "hi", identities: ["447700900001"], context: {} });
    assert.ok(result.answer && !result.answer.includes(API_SECRET), result.answer);
  });

  test("through the pipeline: a barred number is E with RECIPIENT_OPTED_OUT and Vonage's text, and not sent again", async () => {
    vonageAnswers(gateway, () => "7");
    const msg = await t.router.send("hi", await t.connections(["447700900007"], "vonage"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    const transmission = await t.store.getTransmission(record!.transmissions[0].id);
    assert.equal(transmission?.status, "E");
    assert.match(transmission?.error ?? "", /status 7 \(Number barred\): error 7 for 447700900007.*RECIPIENT_OPTED_OUT/);
    assert.equal(gateway.requests.length, 1);
  });

  test("through the pipeline: sent is S with the first part's id and the parts as segments", async () => {
    const msg = await t.router.send("z".repeat(320), await t.connections(["447700900008"], "vonage"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    const [transmission] = record!.transmissions;
    assert.deepEqual([transmission.status, transmission.externalId, transmission.segments], ["S", "0B00000000000001", 3]);
  });

  test("through the pipeline: an identity that is not a phone number is E without calling Vonage", async () => {
    const msg = await t.router.send("hi", await t.connections(["MY BANK"], "vonage"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    assert.equal(record!.transmissions[0].status, "E");
    assert.match(record!.transmissions[0].error ?? "", /a phone number of 7 to 15 digits/);
    assert.equal(gateway.requests.length, 0);
  });
});

describe("Vonage with an inboundToken: the callback it gives Vonage carries the token", () => {
  test("the per-message callback is publicUrl's status URL with ?token=, and a receipt at that URL is taken", async () => {
    const gateway = new FakeGateway();
    await gateway.listen();
    vonageAnswers(gateway);
    const token = "vonage-inbound-token-0123456789";
    const t = await createTestRouter({
      backends: { vonage: { engine: VonageBackend, options: { ...BASE, apiUrl: gateway.url, inboundToken: token } } },
      publicUrl: "https://sms.example.org",
    });
    try {
      const msg = await t.router.send("hi", await t.connections(["447700900041"], "vonage"));
      await t.idle();
      const callback = new URLSearchParams(gateway.requests[0].body).get("callback")!;
      assert.equal(callback, `https://sms.example.org/backend/vonage/status/?token=${token}`);
      const [, status] = t.backends.get("vonage")!.views();
      const record = await t.store.getMessage(msg.id);
      const path = `${new URL(callback).pathname}${new URL(callback).search}&${new URLSearchParams({ messageId: record!.transmissions[0].externalId!, status: "delivered", "err-code": "0", msisdn: "447700900041", to: "AcmeInc" })}`;
      const response = await status.handle({
        method: "GET",
        url: path,
        query: Object.fromEntries(new URL(path, "http://x").searchParams),
        origin: "http://127.0.0.1",
      });
      assert.equal(response.status, 200, response.body);
      assert.equal((await t.store.getTransmission(record!.transmissions[0].id))?.status, "D");
    } finally {
      await t.close();
      await gateway.close();
    }
  });
});

describe("Vonage delivery receipts (/backend/<name>/status/)", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let status: BackendView;
  before(async () => {
    await gateway.listen();
    vonageAnswers(gateway);
    t = await createTestRouter({ backends: { vonage: { engine: VonageBackend, options: { ...BASE, apiUrl: gateway.url } } } });
    [, status] = t.backends.get("vonage")!.views();
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  /** Sends `text` to one recipient through the pipeline; resolves with the ids of its parts. */
  async function sent(text: string, identity: string): Promise<{ transmissionId: number; parts: string[] }> {
    const first = gateway.requests.length;
    const msg = await t.router.send(text, await t.connections([identity], "vonage"));
    await t.idle();
    const answer = gateway.requests.slice(first);
    assert.equal(answer.length, 1);
    const record = await t.store.getMessage(msg.id);
    const transmission = record!.transmissions[0];
    const parts = Array.from({ length: transmission.segments ?? 1 }, (_, i) => `0B${String(Number(transmission.externalId!.slice(2)) + i).padStart(14, "0")}`);
    return { transmissionId: transmission.id, parts };
  }

  const receipt = (messageId: string, extra: Record<string, string> = {}) => ({
    msisdn: "447700900001",
    to: "AcmeInc",
    "network-code": "23410",
    messageId,
    price: "0.03330000",
    status: "delivered",
    scts: "2001011400",
    "err-code": "0",
    "api-key": API_KEY,
    "message-timestamp": "2020-01-01 12:00:00",
    ...extra,
  });

  const cases: [string, Record<string, string>, "S" | "D" | "E", string][] = [
    ["delivered: D", {}, "D", "delivered, err-code 0 (Delivered), scts 2001011400"],
    ["accepted: recorded, still S", { status: "accepted" }, "S", "accepted, err-code 0 (Delivered), scts 2001011400"],
    ["buffered: recorded, still S", { status: "buffered", "err-code": "1" }, "S", "buffered, err-code 1 (Unknown), scts 2001011400"],
    ["unknown: recorded, still S", { status: "unknown", "err-code": "1", scts: "" }, "S", "unknown, err-code 1 (Unknown)"],
    ["failed: E with the err-code's meaning", { status: "failed", "err-code": "2" }, "E", "failed, err-code 2 (Absent subscriber, temporary), scts 2001011400"],
    ["expired: E", { status: "expired", "err-code": "5" }, "E", "expired, err-code 5 (Portability error), scts 2001011400"],
    ["rejected: E, an err-code Vonage does not list shown as it is", { status: "rejected", "err-code": "77" }, "E", "rejected, err-code 77, scts 2001011400"],
  ];
  for (const [name, extra, expected, detail] of cases) {
    test(`GET receipt ${name}`, async () => {
      const { transmissionId, parts } = await sent("hi", "447700900001");
      const response = await status.handle(get(status, receipt(parts[0], extra)));
      assert.deepEqual([response.status, response.body], [200, ""]);
      const transmission = await t.store.getTransmission(transmissionId);
      assert.equal(transmission?.status, expected);
      assert.equal(transmission?.deliveryReports.at(-1)?.detail, detail);
    });
  }

  test("a POST-JSON receipt with numbers in it is read alike", async () => {
    const { transmissionId, parts } = await sent("hi", "447700900002");
    const response = await status.handle(postJson(status, { ...receipt(parts[0]), "err-code": 0, timestamp: 1582650446 }));
    assert.equal(response.status, 200, response.body);
    assert.equal((await t.store.getTransmission(transmissionId))?.status, "D");
  });

  test("a long message: a receipt per part; D only once every part is delivered", async () => {
    const { transmissionId, parts } = await sent("w".repeat(400), "447700900003");
    assert.equal(parts.length, 3);
    for (const [i, id] of [parts[1], parts[0]].entries()) {
      assert.equal((await status.handle(get(status, receipt(id)))).status, 200);
      const transmission = await t.store.getTransmission(transmissionId);
      assert.equal(transmission?.status, "S", `after ${i + 1} of 3 receipts`);
    }
    assert.equal((await status.handle(postForm(status, receipt(parts[2])))).status, 200);
    const transmission = await t.store.getTransmission(transmissionId);
    assert.equal(transmission?.status, "D");
    assert.deepEqual(
      transmission?.deliveryReports.map((r) => r.detail),
      [
        "part 2 of 3: delivered, err-code 0 (Delivered), scts 2001011400",
        "part 1 of 3: delivered, err-code 0 (Delivered), scts 2001011400",
        "part 3 of 3: delivered, err-code 0 (Delivered), scts 2001011400",
      ],
    );
  });

  test("a long message: the first failed part makes it E with its reason; later receipts, failed or delivered, change neither", async () => {
    const { transmissionId, parts } = await sent("v".repeat(400), "447700900004");
    await status.handle(get(status, receipt(parts[1], { status: "failed", "err-code": "8" })));
    assert.equal((await t.store.getTransmission(transmissionId))?.status, "E");
    await status.handle(get(status, receipt(parts[0], { status: "expired", "err-code": "2" })));
    await status.handle(get(status, receipt(parts[2])));
    const transmission = await t.store.getTransmission(transmissionId);
    assert.equal(transmission?.status, "E");
    assert.match(transmission?.error ?? "", /^part 2 of 3: failed, err-code 8 \(Network error\), scts 2001011400$/);
    assert.equal(transmission?.deliveryReports.length, 3, "every receipt is recorded");
  });

  test("a receipt for an id no send has brought yet is kept and answered 200", async () => {
    const response = await status.handle(get(status, receipt("0BFFFFFFFFFFFFFF")));
    assert.deepEqual([response.status, response.body], [200, ""]);
  });

  const refused: [string, ViewRequest | (() => ViewRequest), number, RegExp][] = [
    ["no messageId", () => get(status, { status: "delivered" }), 400, /^form failed to validate\nmessageId: This field is required\.$/],
    ["no status", () => get(status, { messageId: "X1" }), 400, /^form failed to validate\nstatus: This field is required\.$/],
    [
      "a status Vonage does not send",
      () => get(status, { messageId: "X1", status: "read" }),
      400,
      /^form failed to validate\nstatus: unknown status "read": expected accepted, buffered, unknown, delivered, expired, failed, rejected$/,
    ],
    ["an id no store can hold", () => get(status, { messageId: "X".repeat(300), status: "delivered" }), 400, /messageId: Longer than 255 characters/],
    ["DELETE", () => ({ ...get(status, receipt("X1")), method: "DELETE" }), 405, /^method DELETE not allowed: use GET or POST$/],
  ];
  for (const [name, request, code, reason] of refused) {
    test(`${code}: ${name}`, async () => {
      const response = await status.handle(typeof request === "function" ? request() : request);
      assert.equal(response.status, code);
      assert.match(response.body, reason);
    });
  }

  test("signed receipts: a signed one is recorded, an unsigned or tampered one is 403 and changes nothing", async () => {
    const signedRouter = await createTestRouter({
      backends: { vonage: { engine: VonageBackend, options: { ...BASE, apiUrl: gateway.url, signatureSecret: SIG_SECRET, signatureMethod: "sha256" } } },
    });
    try {
      const msg = await signedRouter.router.send("hi", await signedRouter.connections(["447700900005"], "vonage"));
      await signedRouter.idle();
      const [transmission] = (await signedRouter.store.getMessage(msg.id))!.transmissions;
      const [, view] = signedRouter.backends.get("vonage")!.views();
      const unsigned = await view.handle(get(view, receipt(transmission.externalId!, { status: "failed" })));
      assert.equal(unsigned.status, 403);
      const tampered = await view.handle(get(view, { ...signed(receipt(transmission.externalId!), "sha256"), status: "failed" }));
      assert.equal(tampered.status, 403);
      assert.equal((await signedRouter.store.getTransmission(transmission.id))?.deliveryReports.length, 0);
      const good = await view.handle(postForm(view, signed(receipt(transmission.externalId!), "sha256")));
      assert.equal(good.status, 200, good.body);
      assert.equal((await signedRouter.store.getTransmission(transmission.id))?.status, "D");
    } finally {
      await signedRouter.close();
    }
  });
});
