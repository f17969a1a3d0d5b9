import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import { FakeGateway, type GatewayRequest } from "../../test/support/fake-gateway.ts";
import { testDatabase } from "../../test/support/test-database.ts";
import { GatewayClient, GatewayError } from "../backends/gateway-client.ts";
import { resolveConfig } from "../config/resolve.ts";
import { ConfigError, InvalidInputError } from "../errors.ts";
import { createSystem, type System } from "../system.ts";
import { InternalAddressError, internalAddress, publicOnlyLookup } from "./webhook-address.ts";
import { repliesOf } from "./webhook-replies.ts";
import { signWebhook, verifyWebhook } from "./webhook-signature.ts";
import { shownUrl, unfitEventUrl } from "./webhook-url.ts";
import { placesOf } from "./webhooks.ts";

const SECRET = "a-test-secret-of-32-characters!!";

/** Polls `done` every 10 ms for up to 15 s. */
async function eventually(what: string, done: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What a receiver computes, with node:crypto alone: the signature header of a raw body at a timestamp, for a delivery. */
const expectedSignature = (timestamp: string, delivery: string, body: string) =>
  `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${delivery}.${body}`).digest("hex")}`;

function assertSigned(request: GatewayRequest): void {
  const timestamp = String(request.headers["x-rapidsms-timestamp"]);
  assert.match(timestamp, /^\d+$/);
  assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 300, "a timestamp of now");
  assert.equal(request.headers["x-rapidsms-signature"], expectedSignature(timestamp, String(request.headers["x-rapidsms-delivery"]), request.body));
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
    assert.deepEqual([forward.kind, forward.status, forward.answerStatus, forward.error], ["message", "S", 200, null]);
    // Retries may have found nobody more than once before the listen: every attempt is one of those or a POST.
    assert.ok(forward.attempts - posts.length >= 1, `attempts: ${forward.attempts}, POSTs received: ${posts.length}`);
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
      webhooks: { secret: SECRET, allowedHosts: [`127.0.0.1:${receiver.port}`] },
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

  test("a status event's receiver answer is never kept, only its HTTP status; no connection reads the same whether refused or not", async () => {
    const gateway = await fakeServer();
    const internal = await fakeServer();
    internal.respond = () => ({ status: 404, body: "INTERNAL-ONLY: db_password=hunter2" });
    const closed = await fakeServer();
    const closedPort = closed.port;
    await closed.close();
    const sms = await system({
      installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send` } },
      webhooks: { secret: SECRET, allowedHosts: ["127.0.0.1"], maxAttempts: 1 },
    });
    const [connection] = await sms.router.lookupConnections("gw", ["+1555"]);
    const answered = await sms.router.send("hi", connection, { eventUrl: `${internal.url}/admin` });
    const unreachable = await sms.router.send("hi", connection, { eventUrl: `http://127.0.0.1:${closedPort}/admin` });
    const firstOf = async (id: string) => (await sms.store.listWebhooks(id))[0];
    await eventually("both first events given up", async () => (await firstOf(answered.id))?.status === "E" && (await firstOf(unreachable.id))?.status === "E");
    const refused = await firstOf(answered.id);
    assert.equal(refused.answerStatus, 404);
    assert.match(refused.error ?? "", /answered 404; the receiver refuses this POST/);
    assert.equal(refused.error?.includes("hunter2"), false);
    assert.equal(refused.error?.includes("INTERNAL-ONLY"), false);
    const down = await firstOf(unreachable.id);
    assert.match(down.error ?? "", /^gave up after 1 attempts: no answer from http:\/\/127\.0\.0\.1:\d+\/admin: connection failed$/);
  });

  test("without webhooks.allowedHosts, an eventUrl whose host is an internal address is refused, saying to list it; a listed host:port is taken", async () => {
    const sms = await system({ installedBackends: { gw: { engine: "http" } }, webhooks: { secret: SECRET } });
    const [connection] = await sms.router.lookupConnections("gw", ["1"]);
    for (const url of [
      "http://127.0.0.1:8000/e",
      "http://169.254.169.254/latest",
      "http://[::ffff:127.0.0.1]/e",
      "http://0x7f000001/e",
      "http://localhost/e",
    ]) {
      await assert.rejects(
        sms.router.send("hi", connection, { eventUrl: url }),
        (e: unknown) => e instanceof InvalidInputError && e.field === "eventUrl" && /webhooks\.allowedHosts lists it: add ".+" there/.test(e.message),
        url,
      );
    }
    const listed = await system({ installedBackends: { gw: { engine: "http" } }, webhooks: { secret: SECRET, allowedHosts: ["127.0.0.1:8000"] } });
    const [other] = await listed.router.lookupConnections("gw", ["1"]);
    await listed.router.send("hi", other, { eventUrl: "http://127.0.0.1:8000/e" });
    await assert.rejects(listed.router.send("hi", other, { eventUrl: "http://127.0.0.1:8001/e" }), /does not list/);
  });

  test("a host name that resolves to an internal address is refused when connecting (DNS rebinding too), before anything is sent", async () => {
    const receiver = await fakeServer();
    const client = new GatewayClient({ timeoutMs: 5_000, lookup: publicOnlyLookup });
    try {
      await assert.rejects(
        client.call({ method: "POST", url: `http://localhost:${receiver.port}/e`, body: "{}" }),
        (e: unknown) => e instanceof GatewayError && e.cause instanceof InternalAddressError && /list it in webhooks\.allowedHosts/.test(e.message),
      );
    } finally {
      await client.close();
    }
    assert.equal(receiver.requests.length, 0);
    for (const address of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "0.0.0.0", "255.255.255.255", "224.0.0.1"])
      assert.equal(internalAddress(address), true, address);
    for (const address of ["::1", "::", "fe80::1", "fd00::1", "ff02::1", "::ffff:8.8.8.8", "[::1]"]) assert.equal(internalAddress(address), true, address);
    for (const address of ["8.8.8.8", "100.128.0.1", "172.32.0.1", "2606:4700::1"]) assert.equal(internalAddress(address), false, address);
  });

  test("concurrency is shared between the kinds: status events half, forwards the rest, one each at least", () => {
    assert.deepEqual(placesOf(16), { status: 8, message: 8 });
    assert.deepEqual(placesOf(3), { status: 1, message: 2 });
    assert.deepEqual(placesOf(1), { status: 1, message: 1 });
  });

  test("an eventUrl that never answers holds only the status events' places: the webhook app's forward goes on meanwhile", async () => {
    const gateway = await fakeServer();
    const receiver = await fakeServer();
    const sockets = new Set<Socket>();
    const tarpit = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => tarpit.listen(0, "127.0.0.1", resolve));
    after(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => tarpit.close(resolve));
    });
    const tarpitPort = (tarpit.address() as AddressInfo).port;
    const sms = await system({
      installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send` } },
      apps: ["webhook"],
      appSettings: { webhook: { url: `${receiver.url}/inbound` } },
      webhooks: { secret: SECRET, concurrency: 2, timeoutMs: 60_000, allowedHosts: ["127.0.0.1"] },
    });
    const recipients = await sms.router.lookupConnections("gw", ["+1", "+2", "+3", "+4", "+5", "+6"]);
    const sent = await sms.router.send("hi", recipients, { eventUrl: `http://127.0.0.1:${tarpitPort}/events` });
    await eventually("a status event held by the tarpit", () => sockets.size >= 1);
    const [connection] = await sms.router.lookupConnections("gw", ["+9"]);
    await sms.router.receive("REPORT 1", connection);
    await eventually("the forward at its receiver", () => receiver.requests.length === 1);
    const events = await sms.store.listWebhooks(sent.id);
    assert.ok(
      events.every((e) => e.attempts <= 1 && e.status !== "E" && e.status !== "S"),
      "no status event was answered or timed out yet: the forward did not wait for them",
    );
    assert.ok(events.filter((e) => e.status === "P").length <= 1, "status events hold their share (1 of 2), no more");
  });

  test("when the receiver's replies cannot be made (making them throws), the forward ends E with why, and is not POSTed again", async () => {
    const receiver = await fakeServer();
    receiver.respond = (request) => (request.url === "/gone" ? { status: 200, body: JSON.stringify({ replies: ["thanks"] }) } : { status: 204, body: "" });
    const sms = await system({
      installedBackends: { gw: { engine: "http" } },
      apps: ["webhook"],
      appSettings: { webhook: { url: `${receiver.url}/hook` } },
      webhooks: { secret: SECRET },
      pipeline: { pollMs: 20, leaseMs: 300 },
    });
    const [connection] = await sms.router.lookupConnections("gw", ["1"]);
    const msg = await sms.router.receive("hi", connection);
    await eventually("the app's forward taken", async () => (await sms.store.listWebhooks(msg.id))[0]?.status === "S");
    // A forward whose sender the router no longer takes as an identity: looking its connection up throws.
    const body = { event: "message", id: msg.id, backend: "gw", from: "", text: "hi", date: new Date().toISOString(), fields: {} };
    await sms.store.queueWebhook({ messageId: msg.id, url: `${receiver.url}/gone`, body: JSON.stringify(body) });
    await eventually("the forward given up", async () => (await sms.store.listWebhooks(msg.id))[1]?.status === "E");
    const forward = (await sms.store.listWebhooks(msg.id))[1];
    assert.equal(forward.answerStatus, 200);
    assert.match(forward.error ?? "", /^the receiver took it, but its replies could not be made: .*identity/);
    // Past a lease: a row left P would be claimed and POSTed again by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(receiver.requests.filter((r) => r.url === "/gone").length, 1);
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
  test("the headers sign the timestamp, the delivery id and the raw body with HMAC-SHA256, as a receiver computes it with node:crypto", () => {
    const body = '{"event":"message","text":"caf\u00e9 \u263a"}';
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const headers = signWebhook({ secret: SECRET, body, delivery: 42, now });
    assert.equal(headers["x-rapidsms-timestamp"], String(now / 1000));
    assert.equal(headers["x-rapidsms-signature"], expectedSignature(String(now / 1000), "42", body));
    assert.equal(headers["x-rapidsms-delivery"], "42");
  });

  test("verifyWebhook takes a fresh signature and refuses a changed body, another delivery id, another secret, an old timestamp and a missing header", () => {
    const body = '{"a":1}';
    const now = Date.now();
    const headers = signWebhook({ secret: SECRET, body, delivery: 1, now });
    const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
      verifyWebhook({
        secret: SECRET,
        body,
        timestamp: headers["x-rapidsms-timestamp"],
        delivery: headers["x-rapidsms-delivery"],
        signature: headers["x-rapidsms-signature"],
        now,
        ...over,
      });
    assert.equal(check({}), true);
    assert.equal(check({ body: Buffer.from(body) }), true);
    assert.equal(check({ body: '{"a":2}' }), false);
    assert.equal(check({ delivery: "2" }), false, "a captured POST replayed with another delivery id");
    assert.equal(check({ delivery: undefined }), false);
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

  test("without allowedHosts, internal address literals and localhost are refused, saying to list them; allowedHosts entries may carry a port", () => {
    for (const url of [
      "http://127.0.0.1/e",
      "http://10.0.0.5/e",
      "http://[::1]:8080/e",
      "http://[fd00::1]/e",
      "http://[::ffff:10.0.0.1]/e",
      "http://app.localhost/e",
    ])
      assert.match(unfitEventUrl(url, null) ?? "", /may not reach unless webhooks\.allowedHosts lists it: add ".+" there/, url);
    assert.equal(unfitEventUrl("https://8.8.8.8/e", null), undefined);
    assert.equal(unfitEventUrl("http://127.0.0.1:3000/e", ["127.0.0.1"]), undefined, "a listed host is taken whatever it is");
    assert.equal(unfitEventUrl("http://127.0.0.1:3000/e", ["127.0.0.1:3000"]), undefined);
    assert.match(unfitEventUrl("http://127.0.0.1:3001/e", ["127.0.0.1:3000"]) ?? "", /127\.0\.0\.1:3001, which webhooks\.allowedHosts does not list/);
    assert.equal(unfitEventUrl("https://hooks.example.org/e", ["hooks.example.org:443"]), undefined, "the scheme's port when the URL has none");
    assert.match(unfitEventUrl("http://hooks.example.org/e", ["hooks.example.org:443"]) ?? "", /does not list/);
    assert.equal(unfitEventUrl("http://[::1]:9000/e", ["[::1]:9000"]), undefined);
    assert.equal(unfitEventUrl("http://[::1]:9000/e", ["::1"]), undefined);
    assert.equal(unfitEventUrl("https://a.partner.example:8443/e", [".partner.example:8443"]), undefined);
  });

  test("a URL is shown without its query, credentials, or any path segment after the first (tokens hide there too)", () => {
    assert.equal(shownUrl("https://u:p@example.org/hook?token=s3cret#x"), "https://example.org/hook?…");
    assert.equal(shownUrl("http://127.0.0.1:8000/hook"), "http://127.0.0.1:8000/hook");
    assert.equal(shownUrl("https://hooks.slack.com/services/T0/B0/SECRET"), "https://hooks.slack.com/services/…/…/…");
    assert.equal(shownUrl("https://example.org/"), "https://example.org/");
    assert.equal(shownUrl("https://example.org/a/b/"), "https://example.org/a/…/");
  });
});
