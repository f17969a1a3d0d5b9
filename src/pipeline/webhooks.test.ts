import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, describe, test } from "node:test";
import { FakeGateway, type GatewayRequest } from "../../test/support/fake-gateway.ts";
import { testDatabase } from "../../test/support/test-database.ts";
import { resolveConfig } from "../config/resolve.ts";
import { ConfigError, InvalidInputError } from "../errors.ts";
import { createSystem, type System } from "../system.ts";
import { repliesOf } from "./webhook-replies.ts";
import { signWebhook, verifyWebhook } from "./webhook-signature.ts";
import { shownUrl, unfitEventUrl } from "./webhook-url.ts";

const SECRET = "a-test-secret-of-32-characters!!";

/** Polls `done` every 10 ms for up to 15 s. */
async function eventually(what: string, done: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What a receiver computes, with node:crypto alone: the signature header of a raw body at a timestamp. */
const expectedSignature = (timestamp: string, body: string) => `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${body}`).digest("hex")}`;

function assertSigned(request: GatewayRequest): void {
  const timestamp = String(request.headers["x-rapidsms-timestamp"]);
  assert.match(timestamp, /^\d+$/);
  assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 300, "a timestamp of now");
  assert.equal(request.headers["x-rapidsms-signature"], expectedSignature(timestamp, request.body));
  assert.equal(request.headers["content-type"], "application/json");
}

const systems: System[] = [];
const servers: FakeGateway[] = [];
after(async () => {
  for (const system of systems) await system.close();
  for (const server of servers) await server.close();
});

async function fakeServer(): Promise<FakeGateway> {
  const server = new FakeGateway();
  await server.listen();
  servers.push(server);
  return server;
}

async function system(config: Record<string, unknown>): Promise<System> {
  const resolved = await resolveConfig({ database: testDatabase(), pipeline: { pollMs: 20 }, ...config });
  const made = await createSystem(resolved);
  systems.push(made);
  return made;
}

describe("the webhook dispatcher", () => {
  test("a receiver down at first, then answering 500, then 200 with replies: the message reaches it signed, once accepted, and the replies reach the gateway", async () => {
    const gateway = await fakeServer();
    const receiver = await fakeServer();
    const port = receiver.port;
    await receiver.close();
    const answers = [
      { status: 500, body: "busy" },
      { status: 200, body: JSON.stringify({ replies: [{ text: "thanks" }, "we will call you"] }) },
    ];
    receiver.respond = () => answers.shift() ?? { status: 200, body: "" };
    const sms = await system({
      installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send` } },
      apps: ["webhook"],
      appSettings: { webhook: { url: `http://127.0.0.1:${port}/hook?token=kept-out-of-sight` } },
      webhooks: { secret: SECRET, baseDelayMs: 50, maxDelayMs: 100 },
    });
    const [connection] = await sms.router.lookupConnections("gw", ["+255700000001"]);
    const msg = await sms.router.receive("REPORT 12 cases", connection, { fields: { externalId: "gw-77" } });

    await eventually("a first attempt that found nobody listening", async () => {
      const [forward] = await sms.store.listWebhooks(msg.id);
      return forward?.status === "Q" && forward.attempts >= 1;
    });
    const [waiting] = await sms.store.listWebhooks(msg.id);
    assert.match(waiting.error ?? "", /no answer from http:\/\/127\.0\.0\.1:\d+\/hook\?…: .*ECONNREFUSED.*will retry/);
    assert.equal(waiting.answerStatus, null);
    await receiver.listen(port);

    await eventually("both replies at the gateway", () => gateway.requests.length >= 2);
    const posts = receiver.requests;
    assert.equal(posts.length, 2, "500, then 200");
    for (const post of posts) assertSigned(post);
    assert.equal(posts[0].url, "/hook?token=kept-out-of-sight");
    assert.equal(posts[0].headers["x-rapidsms-delivery"], posts[1].headers["x-rapidsms-delivery"], "a retry is the same delivery");
    assert.equal(posts[0].body, posts[1].body);
    const body = JSON.parse(posts[1].body);
    assert.deepEqual(
      { ...body, date: typeof body.date },
      { event: "message", id: msg.id, backend: "gw", from: "+255700000001", text: "REPORT 12 cases", fields: { externalId: "gw-77" }, date: "string" },
    );
    assert.ok(!Number.isNaN(Date.parse(body.date)));
    assert.deepEqual(
      gateway.params().map((p) => [p.get("identity"), p.get("text")]),
      [
        ["+255700000001", "thanks"],
        ["+255700000001", "we will call you"],
      ],
    );
    const [forward] = await sms.store.listWebhooks(msg.id);
    assert.deepEqual([forward.kind, forward.status, forward.attempts, forward.answerStatus, forward.error], ["message", "S", 3, 200, null]);
    assert.equal(forward.url, `http://127.0.0.1:${port}/hook?token=kept-out-of-sight`);
    const replies = await sms.store.listMessages({ direction: "O", inResponseTo: msg.id });
    assert.equal(replies.length, 2);
    assert.equal((await sms.store.getMessage(msg.id))?.status, "R", "the default app did not answer: the webhook handled it");
  });

  test("a receiver's 404 gives the forward up at once, with the status in its error; a redirect is not followed", async () => {
    const receiver = await fakeServer();
    receiver.respond = (request) =>
      request.url === "/moved" ? { status: 301, body: "", headers: { location: `${receiver.url}/gone` } } : { status: 404, body: "no such hook" };
    const sms = await system({
      installedBackends: { gw: { engine: "http" } },
      apps: ["webhook"],
      appSettings: { webhook: { url: `${receiver.url}/gone` } },
      webhooks: { secret: SECRET, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const [connection] = await sms.router.lookupConnections("gw", ["1"]);
    const msg = await sms.router.receive("hi", connection);
    await eventually("the forward given up", async () => (await sms.store.listWebhooks(msg.id))[0]?.status === "E");
    const [forward] = await sms.store.listWebhooks(msg.id);
    assert.equal(forward.attempts, 1);
    assert.equal(forward.answerStatus, 404);
    assert.match(forward.error ?? "", /answered 404: no such hook; the receiver refuses this POST/);

    const moved = await system({
      installedBackends: { gw: { engine: "http" } },
      apps: ["webhook"],
      appSettings: { webhook: { url: `${receiver.url}/moved` } },
      webhooks: { secret: SECRET },
    });
    const [other] = await moved.router.lookupConnections("gw", ["2"]);
    const second = await moved.router.receive("hi", other);
    await eventually("the redirected forward given up", async () => (await moved.store.listWebhooks(second.id))[0]?.status === "E");
    assert.match((await moved.store.listWebhooks(second.id))[0].error ?? "", /answered 301.*redirects are not followed/);
    assert.deepEqual(
      receiver.requests.map((r) => r.url),
      ["/gone", "/moved"],
    );
  });

  test("a 429 with Retry-After waits that long; eleven replies are taken as received, none sent, and the error says why", async () => {
    const gateway = await fakeServer();
    const receiver = await fakeServer();
    const answers = [
      { status: 429, body: "slow down", headers: { "retry-after": "2" } },
      { status: 200, body: JSON.stringify({ replies: Array(11).fill("hi") }) },
    ];
    receiver.respond = () => answers.shift() ?? { status: 200, body: "" };
    const sms = await system({
      installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send` } },
      apps: ["webhook"],
      appSettings: { webhook: { url: `${receiver.url}/hook` } },
      webhooks: { secret: SECRET, baseDelayMs: 10, maxDelayMs: 5_000 },
    });
    const [connection] = await sms.router.lookupConnections("gw", ["1"]);
    const msg = await sms.router.receive("hi", connection);
    await eventually("the 429 recorded", async () => (await sms.store.listWebhooks(msg.id))[0]?.answerStatus === 429);
    const [waiting] = await sms.store.listWebhooks(msg.id);
    assert.ok((waiting.nextAttemptAt ?? 0) - receiver.requests[0].at >= 1_900, "the receiver's Retry-After, not the 10 ms backoff");
    await eventually("the forward taken", async () => (await sms.store.listWebhooks(msg.id))[0]?.status === "S");
    const [taken] = await sms.store.listWebhooks(msg.id);
    assert.equal(taken.error, "replies not sent: 11 replies; 10 at most");
    assert.deepEqual(await sms.store.listMessages({ direction: "O", inResponseTo: msg.id }), []);
    assert.equal(gateway.requests.length, 0);
  });

  test("a message sent with an eventUrl has its status changes POSTed there, signed, in order", async () => {
    const gateway = await fakeServer();
    gateway.status = 503;
    const receiver = await fakeServer();
    receiver.respond = () => ({ status: 204, body: "" });
    const sms = await system({
      installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send` } },
      webhooks: { secret: SECRET },
      pipeline: { pollMs: 20, baseDelayMs: 50, maxDelayMs: 50, maxAttempts: 2 },
    });
    const [connection] = await sms.router.lookupConnections("gw", ["+1555"]);
    const msg = await sms.router.send("hello", connection, { eventUrl: `${receiver.url}/events` });
    await eventually("queued, retry and failed at the receiver", () => receiver.requests.length >= 3);
    for (const post of receiver.requests) assertSigned(post);
    const events = receiver.requests.map((r) => JSON.parse(r.body));
    assert.deepEqual(
      events.map((e) => [e.event, e.messageId, e.backend, e.identity, e.status, typeof e.retryAt]),
      [
        ["status", msg.id, "gw", "+1555", "queued", "undefined"],
        ["status", msg.id, "gw", "+1555", "queued", "string"],
        ["status", msg.id, "gw", "+1555", "failed", "undefined"],
      ],
    );
    assert.match(events[1].error, /503/);
    assert.match(events[2].error, /503/);
    assert.deepEqual(new Set(receiver.requests.map((r) => r.headers["x-rapidsms-delivery"])).size, 3, "each event is a delivery of its own");
  });

  test("without a secret the webhook app refuses to start, and an eventUrl is refused, each saying what to set", async () => {
    const config = await resolveConfig({
      installedBackends: { gw: { engine: "http" } },
      apps: ["webhook"],
      appSettings: { webhook: { url: "http://127.0.0.1:9/hook" } },
      database: testDatabase(),
    });
    await assert.rejects(createSystem(config), (e: unknown) => e instanceof ConfigError && /webhooks\.secret.*RAPIDSMS_WEBHOOK_SECRET/.test(e.message));
    const sms = await system({ installedBackends: { gw: { engine: "http" } } });
    const [connection] = await sms.router.lookupConnections("gw", ["1"]);
    await assert.rejects(
      sms.router.send("hi", connection, { eventUrl: "http://127.0.0.1:9/events" }),
      (e: unknown) => e instanceof InvalidInputError && e.field === "eventUrl" && /RAPIDSMS_WEBHOOK_SECRET/.test(e.message),
    );
  });
});

describe("webhook signatures", () => {
  test("the headers sign the timestamp and the raw body with HMAC-SHA256, as a receiver computes it with node:crypto", () => {
    const body = '{"event":"message","text":"caf\u00e9 \u263a"}';
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const headers = signWebhook({ secret: SECRET, body, delivery: 42, now });
    assert.equal(headers["x-rapidsms-timestamp"], String(now / 1000));
    assert.equal(headers["x-rapidsms-signature"], expectedSignature(String(now / 1000), body));
    assert.equal(headers["x-rapidsms-delivery"], "42");
  });

  test("verifyWebhook takes a fresh signature and refuses a changed body, another secret, an old timestamp and a missing header", () => {
    const body = '{"a":1}';
    const now = Date.now();
    const headers = signWebhook({ secret: SECRET, body, delivery: 1, now });
    const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
      verifyWebhook({ secret: SECRET, body, timestamp: headers["x-rapidsms-timestamp"], signature: headers["x-rapidsms-signature"], now, ...over });
    assert.equal(check({}), true);
    assert.equal(check({ body: Buffer.from(body) }), true);
    assert.equal(check({ body: '{"a":2}' }), false);
    assert.equal(check({ secret: "another-secret-of-16+" }), false);
    assert.equal(check({ now: now + 301_000 }), false);
    assert.equal(check({ signature: undefined }), false);
    assert.equal(check({ timestamp: "12abc" }), false);
  });
});

describe("a receiver's replies", () => {
  const cases: [string, string, ReturnType<typeof repliesOf>][] = [
    ["objects with a text", '{"replies":[{"text":"a"},{"text":"b"}]}', { texts: ["a", "b"] }],
    ["strings", '{"replies":["a"]}', { texts: ["a"] }],
    ["a bare list", '["a","b"]', { texts: ["a", "b"] }],
    ["an empty body", "", { texts: [] }],
    ["a body that is not JSON", "OK", { texts: [] }],
    ["JSON without replies", '{"ok":true}', { texts: [] }],
    ["eleven replies", JSON.stringify({ replies: Array(11).fill("x") }), { refused: "11 replies; 10 at most" }],
    ["a reply without a text", '{"replies":[{"body":"x"}]}', { refused: 'replies.0: expected a text or { "text": "…" }' }],
    ["an empty reply", '{"replies":[" "]}', { refused: "replies.0: an empty text" }],
    ["a text too long", JSON.stringify({ replies: ["x".repeat(10_001)] }), { refused: "replies.0: Longer than 10000 characters (10001)." }],
  ];
  for (const [name, body, expected] of cases) test(`${name}: ${JSON.stringify(expected)}`, () => assert.deepEqual(repliesOf(body), expected));
});

describe("eventUrl checks", () => {
  test("http(s) only, 2 KiB at most, no credentials, and an allowed host when webhooks.allowedHosts is set", () => {
    assert.equal(unfitEventUrl("https://hooks.example.org/e?k=1", null), undefined);
    assert.match(unfitEventUrl("ftp://example.org/e", null) ?? "", /scheme ftp/);
    assert.match(unfitEventUrl("not a url", null) ?? "", /not a URL/);
    assert.match(unfitEventUrl(`https://example.org/${"x".repeat(2048)}`, null) ?? "", /2048 at most/);
    assert.match(unfitEventUrl("https://user:pw@example.org/e", null) ?? "", /credentials/);
    const allowed = ["hooks.example.org", ".partner.example"];
    assert.equal(unfitEventUrl("https://hooks.example.org/e", allowed), undefined);
    assert.equal(unfitEventUrl("https://a.partner.example/e", allowed), undefined);
    assert.match(unfitEventUrl("http://169.254.169.254/latest", allowed) ?? "", /169\.254\.169\.254.*allowedHosts/);
    assert.match(unfitEventUrl("https://evilpartner.example/e", allowed) ?? "", /allowedHosts/);
  });

  test("a URL is shown without its query or credentials", () => {
    assert.equal(shownUrl("https://u:p@example.org/hook?token=s3cret#x"), "https://example.org/hook?…");
    assert.equal(shownUrl("http://127.0.0.1:8000/hook"), "http://127.0.0.1:8000/hook");
  });
});
