import fc from "fast-check";
import type { FastifyInstance, InjectOptions } from "fastify";
import type { RapidSmsConfig } from "../../src/config/config.ts";

/** What the fuzzed server runs: every shipped inbound view, /api and the tester, on loopback without a token. */
export const FUZZ_CONFIG: RapidSmsConfig = {
  installedBackends: {
    http: { engine: "http" },
    "custom-http": { engine: "http", params: { identityName: "phone", textName: "message", externalIdName: "id" }, methods: ["post"] },
    httptester: { engine: "httptester" },
    db: { engine: "database" },
    kannel: { engine: "kannel", sendsmsUrl: "http://127.0.0.1:9/cgi-bin/sendsms" },
    vumi: { engine: "vumi", sendsmsUrl: "http://127.0.0.1:9/send" },
  },
  apps: ["echo", "ping", "default"],
  tester: true,
};

/** Texts a hostile client would send: any UTF-16 (lone surrogates too), NULs, huge, percent junk, numbers. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("", " ", "\0", "a\0b", "\ud800", "\udfff x", "%", "%E9", "%ZZ", "echo hi", "ping", "1112223333", "+255700000001", "null", "[]", "{}"),
  fc.string({ minLength: 1_000, maxLength: 5_000 }),
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(text, text, { maxKeys: 3 }) },
);

/** The fields an endpoint reads: each name's own likely values (or any value), some left out, plus others. */
type Spec = Record<string, fc.Arbitrary<unknown> | null>;

function fields(spec: Spec): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(spec);
  const values = names.map((name) => (spec[name] ? fc.oneof({ weight: 3, arbitrary: spec[name]! }, { weight: 1, arbitrary: value }) : value));
  return fc
    .tuple(fc.subarray(names, { minLength: Math.min(names.length, 1) }), fc.tuple(...values), fc.dictionary(text, value, { maxKeys: 2 }))
    .map(([present, generated, extra]) => ({ ...extra, ...Object.fromEntries(present.map((name) => [name, generated[names.indexOf(name)]])) }));
}

const phone = fc.oneof(fc.constantFrom("1112223333", "+255700000001", "5550001"), fc.stringMatching(/^\+?\d{1,15}$/));

/** Percent-encodes any UTF-16 (a lone surrogate as the bytes of U+FFFD would be wrong: as raw junk bytes instead). */
function percent(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
  return [...text].map((c) => (c.isWellFormed() ? encodeURIComponent(c) : `%ED%A0%${(0x80 + (c.charCodeAt(0) & 0x3f)).toString(16).toUpperCase()}`)).join("");
}

const rawQuery = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }).map((s) => [...s].map((c) => (c.isWellFormed() ? c : "%ED%A0%80")).join("")),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 30 }).map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")),
);

/** A query string: the endpoint's fields, percent-encoded, or junk. */
function query(names: Spec): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fields(names).map((f) =>
        Object.entries(f)
          .map(([k, v]) => `${percent(k)}=${percent(v)}`)
          .join("&"),
      ),
    },
    { weight: 1, arbitrary: rawQuery },
  );
}

const CONTENT_TYPES = [
  "application/json",
  "application/x-www-form-urlencoded",
  "text/json",
  "text/plain",
  "",
  "application/json; charset=latin1",
  "multipart/form-data",
  "application/xml",
];

/** A body: JSON, form, or bytes, under a content type that may or may not match. */
function body(names: Spec): fc.Arbitrary<{ payload: string | Buffer; contentType: string }> {
  const json = fields(names).map((f) => JSON.stringify(f));
  const form = fields(names).map((f) =>
    Object.entries(f)
      .map(([k, v]) => `${percent(k)}=${percent(v)}`)
      .join("&"),
  );
  const junk = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.constantFrom('{"a":', "[", "null", '"\\ud800"', "[1,2]", "{}", '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'),
  );
  return fc.record({
    payload: fc.oneof({ weight: 4, arbitrary: json }, { weight: 3, arbitrary: form }, { weight: 1, arbitrary: junk }),
    contentType: fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom("application/json", "application/x-www-form-urlencoded") },
      { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    ),
  });
}

export interface Endpoint {
  name: string;
  requests: fc.Arbitrary<InjectOptions>;
}

/** Headers a browser, a proxy or an attacker adds. */
const headers = fc.dictionary(
  fc.constantFrom("origin", "sec-fetch-site", "x-forwarded-for", "authorization", "host", "accept-charset"),
  fc.oneof(
    fc.constantFrom("http://evil.example", "null", "cross-site", "same-origin", "127.0.0.1", "Basic Og==", "Bearer x", "localhost", "evil.example"),
    fc.string({ maxLength: 20 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
  ),
  { maxKeys: 2 },
);

const get = (url: string, names: Spec): Endpoint => ({
  name: `GET ${url}`,
  requests: fc.tuple(query(names), fc.option(headers, { freq: 4 })).map(([q, extra]) => ({ method: "GET", url: `${url}?${q}`, headers: extra ?? {} })),
});

const post = (url: string, names: Spec): Endpoint => ({
  name: `POST ${url}`,
  requests: fc.tuple(body(names), fc.option(headers, { freq: 4 })).map(([{ payload, contentType }, extra]) => ({
    method: "POST",
    url,
    payload,
    headers: { ...extra, ...(contentType === "" ? {} : { "content-type": contentType }) },
  })),
});

const backend = fc.constantFrom("db", "http", "kannel", "vumi", "httptester", "nope");
const VUMI: Spec = {
  message_id: text,
  to_addr: phone,
  from_addr: phone,
  in_reply_to: null,
  session_event: fc.constantFrom("new", "resume", "close", null),
  content: text,
  transport_name: fc.constant("t"),
  transport_type: fc.constant("sms"),
  group: null,
};

/** Every inbound and API endpoint of FUZZ_CONFIG. */
export const ENDPOINTS: Endpoint[] = [
  get("/backend/http/", { identity: phone, text }),
  post("/backend/http/", { identity: phone, text }),
  post("/backend/custom-http/", { phone, message: text, id: text }),
  post("/backend/httptester/", { identity: phone, text }),
  get("/backend/kannel/", {
    id: phone,
    text,
    charset: fc.constantFrom("UTF-8", "UTF-16BE", "ISO-8859-1", "windows-1252", "ebcdic"),
    coding: fc.constantFrom("0", "1", "2", "3"),
    raw: text,
    msgid: text,
  }),
  get("/backend/kannel/status/", {
    message_id: text,
    identity: phone,
    status: fc.constantFrom("1", "2", "4", "8", "16", "3"),
    status_text: text,
    smsc: null,
    sms_id: null,
    fid: null,
    date_sent: fc.constantFrom("2026-01-01 10:00", "1700000000", "x"),
  }),
  post("/backend/vumi/", VUMI),
  post("/backend/vumi/events/", {
    event_type: fc.constantFrom(
      "ack",
      "nack",
      "delivery_report",
      "submitted",
      "rejected",
      "delivery_succeeded",
      "delivery_failed",
      "delivery_pending",
      "other",
    ),
    user_message_id: text,
    message_id: text,
    sent_message_id: null,
    nack_reason: null,
    delivery_status: fc.constantFrom("pending", "failed", "delivered", "lost"),
    event_details: null,
  }),
  post("/api/messages", {
    backend,
    identities: fc.array(fc.oneof(phone, text), { maxLength: 5 }),
    connections: fc.array(fc.record({ backend, identity: fc.oneof(phone, text) }), { maxLength: 3 }),
    text,
  }),
  get("/api/messages", {
    identity: phone,
    backend,
    status: fc.constantFrom("Q", "R", "P", "S", "D", "E", "X"),
    direction: fc.constantFrom("I", "O", "X"),
    limit: fc.constantFrom("1", "500", "501", "0", "-1", "1e3", "NaN"),
    before: text,
  }),
  { name: "GET /api/messages/:id", requests: rawQuery.map((id) => ({ method: "GET", url: `/api/messages/${id}` })) },
  post("/tester/api/send", { identity: phone, text }),
  post("/tester/api/bulk", { identity: phone, lines: fc.array(text, { maxLength: 5 }) }),
  get("/tester/api/messages", { page: fc.constantFrom("1", "0", "-5", "99999999999999999999", "x") }),
];

export interface FuzzResult {
  requests: number;
  /** How many answers of each status. */
  statuses: Map<number, number>;
  /** The first request answered 5xx, if any. */
  failure?: { request: InjectOptions; status: number; body: string };
  ms: number;
}

/** Sends `runs` generated requests to one endpoint; stops at the first 5xx. */
export async function fuzzEndpoint(app: FastifyInstance, endpoint: Endpoint, runs: number, seed?: number): Promise<FuzzResult> {
  const statuses = new Map<number, number>();
  let failure: FuzzResult["failure"];
  const started = performance.now();
  let requests = 0;
  await fc
    .assert(
      fc.asyncProperty(endpoint.requests, async (request) => {
        const response = await app.inject(request);
        requests++;
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500) failure ??= { request, status: response.statusCode, body: response.body };
        return response.statusCode < 500;
      }),
      { numRuns: runs, seed, endOnFailure: true },
    )
    .catch((error: unknown) => {
      if (!failure) throw error;
    });
  return { requests, statuses, failure, ms: performance.now() - started };
}
