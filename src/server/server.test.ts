import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../config/resolve.ts";
import { createSystem, type System } from "../system.ts";
import { testDatabase } from "../../test/support/test-database.ts";
import { createServer } from "./server.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const JSON_TYPE = { "content-type": "application/json" };

let system: System;
let app: FastifyInstance;

before(async () => {
  system = await createSystem(
    await resolveConfig({
      installedBackends: {
        http: { engine: "http" },
        "custom-http": { engine: "http", params: { identityName: "phone", textName: "message" } },
        "post-only": { engine: "http", methods: ["post"] },
        httptester: { engine: "httptester" },
      },
      apps: ["echo", "ping", "default"],
      database: testDatabase(),
    }),
  );
  app = await createServer(system);
  await app.ready();
});

after(async () => {
  await app?.close();
  await system?.close();
});

/** The inbound messages stored for one sender, newest first. */
async function storedFrom(identity: string) {
  return system.store.listMessages({ direction: "I", identity });
}

describe("the generic inbound view", () => {
  test("GET reads identity and text from the query string and answers 200 OK", async () => {
    const response = await app.inject({ method: "GET", url: "/backend/http/?identity=1001&text=hello%20there" });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, "OK");
    const [stored] = await storedFrom("1001");
    assert.equal(stored.text, "hello there");
    assert.equal(stored.transmissions[0].backend, "http");
  });

  test("POST reads a form-encoded body", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/http/", headers: FORM, payload: "identity=1002&text=from+the+body" });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, "OK");
    assert.equal((await storedFrom("1002"))[0].text, "from the body");
  });

  test("POST ignores the query string: parameters only in the query with an empty body are a 400", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/http/?identity=1003&text=q", headers: FORM, payload: "" });
    assert.equal(response.statusCode, 400);
    assert.equal(response.body.split("\n")[0], "form failed to validate");
    assert.deepEqual(await storedFrom("1003"), []);
  });

  test("POST reads a JSON body", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/backend/http/",
      headers: JSON_TYPE,
      payload: JSON.stringify({ identity: "1004", text: "json" }),
    });
    assert.equal(response.statusCode, 200);
    assert.equal((await storedFrom("1004"))[0].text, "json");
  });

  test("a number as identity in a JSON body is taken as its digits", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/backend/http/",
      headers: JSON_TYPE,
      payload: JSON.stringify({ identity: 15551005, text: "n" }),
    });
    assert.equal(response.statusCode, 200);
    assert.equal((await storedFrom("15551005"))[0].text, "n");
  });

  test("repeated parameters count once, the last one winning", async () => {
    const response = await app.inject({ method: "GET", url: "/backend/http/?identity=1006&text=first&text=last" });
    assert.equal(response.statusCode, 200);
    assert.equal((await storedFrom("1006"))[0].text, "last");
  });

  test("surrounding whitespace of the text is trimmed", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/http/", headers: FORM, payload: "identity=1007&text=%20%20padded%20%20" });
    assert.equal(response.statusCode, 200);
    assert.equal((await storedFrom("1007"))[0].text, "padded");
  });

  const invalid: { name: string; payload: string; field: string; reason: string }[] = [
    { name: "a missing text", payload: "identity=1100", field: "text", reason: "This field is required." },
    { name: "an empty text", payload: "identity=1100&text=", field: "text", reason: "This field is required." },
    { name: "a whitespace-only text", payload: "identity=1100&text=%20%09%20", field: "text", reason: "This field is required." },
    { name: "a missing identity", payload: "text=hello", field: "identity", reason: "This field is required." },
    { name: "a NUL character in the text", payload: "identity=1100&text=a%00b", field: "text", reason: "Null characters are not allowed." },
  ];
  for (const c of invalid) {
    test(`${c.name} is a 400 whose first line is "form failed to validate" and which names the field`, async () => {
      const response = await app.inject({ method: "POST", url: "/backend/http/", headers: FORM, payload: c.payload });
      assert.equal(response.statusCode, 400);
      const lines = response.body.split("\n");
      assert.equal(lines[0], "form failed to validate");
      assert.ok(lines.includes(`${c.field}: ${c.reason}`), `expected "${c.field}: ${c.reason}" in:\n${response.body}`);
    });
  }

  test("an invalid message is not stored", async () => {
    await app.inject({ method: "POST", url: "/backend/http/", headers: FORM, payload: "identity=1101&text=%20" });
    assert.deepEqual(await storedFrom("1101"), []);
  });

  for (const method of ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] as const) {
    test(`${method} is a 405 with an allow header listing GET and POST`, async () => {
      const response = await app.inject({
        method,
        url: "/backend/http/?identity=1200&text=x",
        headers: FORM,
        payload: method === "HEAD" ? undefined : "identity=1200&text=x",
      });
      assert.equal(response.statusCode, 405);
      assert.equal(response.headers.allow, "GET, POST");
      assert.deepEqual(await storedFrom("1200"), []);
    });
  }

  test("the trailing slash is optional", async () => {
    const response = await app.inject({ method: "GET", url: "/backend/http?identity=1300&text=noslash" });
    assert.equal(response.statusCode, 200);
    assert.equal((await storedFrom("1300"))[0].text, "noslash");
  });

  test("the backend is served under /backends/<name>/ as well as /backend/<name>/", async () => {
    const response = await app.inject({ method: "GET", url: "/backends/http/?identity=1301&text=plural" });
    assert.equal(response.statusCode, 200);
    assert.equal((await storedFrom("1301"))[0].text, "plural");
  });

  test("parameter names configured as phone and message are the ones read", async () => {
    const renamed = await app.inject({ method: "POST", url: "/backend/custom-http/", headers: FORM, payload: "phone=1400&message=renamed" });
    assert.equal(renamed.statusCode, 200);
    assert.equal((await storedFrom("1400"))[0].text, "renamed");
    assert.equal((await storedFrom("1400"))[0].transmissions[0].backend, "custom-http");
  });

  test("with parameter names phone and message, identity and text are a 400 naming phone and message", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/custom-http/", headers: FORM, payload: "identity=1401&text=old" });
    assert.equal(response.statusCode, 400);
    const lines = response.body.split("\n");
    assert.equal(lines[0], "form failed to validate");
    assert.ok(lines.includes("phone: This field is required."), response.body);
    assert.ok(lines.includes("message: This field is required."), response.body);
  });

  test('methods: ["post"] makes GET a 405 allowing POST only, and POST still works', async () => {
    const get = await app.inject({ method: "GET", url: "/backend/post-only/?identity=1500&text=x" });
    assert.equal(get.statusCode, 405);
    assert.equal(get.headers.allow, "POST");
    const post = await app.inject({ method: "POST", url: "/backend/post-only/", headers: FORM, payload: "identity=1500&text=y" });
    assert.equal(post.statusCode, 200);
    assert.deepEqual(
      (await storedFrom("1500")).map((m) => m.text),
      ["y"],
    );
  });

  test("a path of a backend that is not installed is a 404", async () => {
    const response = await app.inject({ method: "GET", url: "/backend/nope/?identity=1600&text=x" });
    assert.equal(response.statusCode, 404);
  });

  test("a body that is not valid JSON is a 400, not a 500", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/http/", headers: JSON_TYPE, payload: '{"identity": "1700", "text": ' });
    assert.equal(response.statusCode, 400);
  });

  test("a JSON body that is not an object is a 400 form error", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/http/", headers: JSON_TYPE, payload: '["1701", "x"]' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.body.split("\n")[0], "form failed to validate");
  });

  test("a body of an unsupported content type is a 4xx, not a 500", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/http/", headers: { "content-type": "text/xml" }, payload: "<sms/>" });
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, `got ${response.statusCode}`);
  });

  test("a message answered 200 is stored before the response, before the router is idle", async (t) => {
    // A slow store: the write completes only after several turns of the event loop, so a view that
    // answered before the write finished would show "response" first.
    const events: string[] = [];
    const acceptIncoming = system.store.acceptIncoming.bind(system.store);
    t.mock.method(system.store, "acceptIncoming", async (...args: Parameters<typeof acceptIncoming>) => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      const result = await acceptIncoming(...args);
      events.push("stored");
      return result;
    });
    const response = await app.inject({ method: "POST", url: "/backend/http/", headers: FORM, payload: "identity=1800&text=durable" });
    events.push("response");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(events, ["stored", "response"]);
    const stored = await storedFrom("1800");
    assert.equal(stored.length, 1);
    assert.equal(stored[0].text, "durable");
  });
});

describe("the message tester backend and the apps", () => {
  test("the echo app's reply is recorded on the httptester backend for the sender", async () => {
    const response = await app.inject({ method: "POST", url: "/backend/httptester/", headers: FORM, payload: "identity=1900&text=echo+hi+there" });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, "OK");
    await system.pipeline.idle();
    const rows = await system.store.listBackendMessages({ name: "httptester", identity: "1900" });
    assert.deepEqual(
      rows.map((r) => [r.direction, r.text]),
      [
        ["O", "hi there"],
        ["I", "echo hi there"],
      ],
    );
  });

  test("a message no app handles gets the default response", async () => {
    await app.inject({ method: "GET", url: "/backend/httptester/?identity=1901&text=gibberish" });
    await system.pipeline.idle();
    const [reply] = await system.store.listBackendMessages({ name: "httptester", identity: "1901", direction: "O" });
    assert.equal(reply.text, "Sorry, RapidSMS could not understand your message.");
  });
});

test("/healthz answers 200 with the body the README gives", async () => {
  const response = await app.inject({ method: "GET", url: "/healthz" });
  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: "ok", role: "all", store: "ok", queue: "ok", storeRestarts: 0 });
});

describe("a real listening server", () => {
  let listening: FastifyInstance;
  let base: string;

  before(async () => {
    listening = await createServer(system);
    await listening.listen({ port: 0, host: "127.0.0.1" });
    const address = listening.server.address();
    assert.ok(address && typeof address === "object");
    base = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    await listening?.close();
  });

  test("fetch of a form POST over TCP is accepted with 200 OK and stored", async () => {
    const response = await fetch(`${base}/backend/http/`, { method: "POST", body: new URLSearchParams({ identity: "2000", text: "over tcp" }) });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "OK");
    assert.equal((await storedFrom("2000"))[0].text, "over tcp");
  });

  test("fetch of /healthz over TCP answers 200 with JSON status ok", async () => {
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    assert.equal(((await response.json()) as { status: string }).status, "ok");
  });

  test("fetch with PUT over TCP is a 405 with an allow header", async () => {
    const response = await fetch(`${base}/backend/http/`, { method: "PUT", body: "identity=2001&text=x" });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "GET, POST");
  });
});

test("a JSON body labelled text/json is parsed like application/json", async () => {
  const config = await resolveConfig({ installedBackends: { http: { engine: "http" } }, database: testDatabase() });
  const system = await createSystem(config);
  const app = await createServer(system);
  const response = await app.inject({
    method: "POST",
    url: "/backend/http/",
    headers: { "content-type": "text/json" },
    payload: JSON.stringify({ identity: "1", text: "hi" }),
  });
  assert.equal(response.statusCode, 200);
  await app.close();
  await system.close();
});

test("RapidSMS's server loads no JSON Schema compiler: a route that declares a schema fails when it is added, saying why", async () => {
  const config = await resolveConfig({ installedBackends: { http: { engine: "http" } }, database: testDatabase() });
  const system = await createSystem(config);
  const app = await createServer(system);
  try {
    await app.register(async (scope) => {
      scope.post("/with-a-schema", { schema: { body: { type: "object" } } }, async () => "ok");
    });
    await assert.rejects(async () => app.ready(), /validate their input with zod/);
  } finally {
    await app.close().catch(() => {});
    await system.close();
  }
});
