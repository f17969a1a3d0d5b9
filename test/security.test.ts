// Each hole of the security review (issue 12), as it was reproduced: every case here failed
// before the fix. The generated-request fuzz test is security-fuzz.test.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, get, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { BackendBase, type SendRequest } from "../src/backends/backend.ts";
import type { BackendView } from "../src/backends/view.ts";
import type { RapidSmsConfig } from "../src/config/config.ts";
import { resolveConfig } from "../src/config/resolve.ts";
import { configSecrets, createLogger } from "../src/logger.ts";
import { createServer, type ServerOptions } from "../src/server/server.ts";
import { createSystem, type System } from "../src/system.ts";

const TOKEN = "a-token-of-enough-characters";
const BEARER = { authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = { "content-type": "application/json" };
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const repo = resolve(import.meta.dirname, "..");

interface Served {
  system: System;
  app: FastifyInstance;
  close(): Promise<void>;
}

const open: Served[] = [];
after(async () => {
  // A copy: each close takes its server out of `open`.
  for (const served of [...open]) await served.close();
});

/** A system on an in-memory store with the message tester and a few backends, and its server. */
async function serve(extra: RapidSmsConfig = {}, options: ServerOptions = {}): Promise<Served> {
  const config = await resolveConfig({
    installedBackends: { http: { engine: "http" }, httptester: { engine: "httptester" }, db: { engine: "database" } },
    apps: ["echo"],
    database: "sqlite::memory:",
    pipeline: { pollMs: 10, baseDelayMs: 10, maxDelayMs: 20 },
    tester: true,
    ...extra,
  });
  const system = await createSystem(config);
  const app = await createServer(system, options);
  const served = {
    system,
    app,
    async close() {
      open.splice(open.indexOf(served), 1);
      await app.close();
      await system.close();
    },
  };
  open.push(served);
  return served;
}

/** Every protected route, with a body that it would accept. */
const PROTECTED: { method: "GET" | "POST"; path: string; payload?: object }[] = [
  { method: "GET", path: "/api/messages" },
  { method: "POST", path: "/api/messages", payload: { backend: "db", identities: ["5550001"], text: "paid SMS" } },
  { method: "GET", path: "/api/messages/0190a1b2-0000-7000-8000-000000000000" },
  { method: "GET", path: "/tester/" },
  { method: "GET", path: "/tester/123456/" },
  { method: "GET", path: "/tester/static/tester.js" },
  { method: "GET", path: "/tester/api/messages" },
  { method: "POST", path: "/tester/api/send", payload: { identity: "5550002", text: "hello" } },
  { method: "POST", path: "/tester/api/bulk", payload: { identity: "5550003", lines: ["a", "b"] } },
  { method: "POST", path: "/tester/api/clear", payload: {} },
];

/** The same path written every way a router, a proxy or a browser might take as equal. */
function variants(path: string): string[] {
  const letters = [...path].flatMap((c, i) => (/[a-z]/i.test(c) ? [i] : []));
  const encodeAt = (i: number) => `${path.slice(0, i)}%${path.charCodeAt(i).toString(16)}${path.slice(i + 1)}`;
  const encodeAll = [...path].map((c) => (/[a-z]/i.test(c) ? `%${c.charCodeAt(0).toString(16)}` : c)).join("");
  const [, first, rest] = /^\/([^/]+)(.*)$/.exec(path)!;
  return [
    path,
    ...letters.slice(0, 4).map(encodeAt),
    encodeAll,
    encodeAll.toUpperCase(),
    path.toUpperCase(),
    `/${first[0].toUpperCase()}${first.slice(1)}${rest}`,
    `//${path.slice(1)}`,
    `///${path.slice(1)}`,
    `/${first};x${rest}`,
    `${path};x`,
    `${path}?x=1`,
    `${path}%3Fx=1`,
    `/${first}%2F${rest.slice(1)}`,
    `/./${path.slice(1)}`,
    `/x/..${path}`,
    `/${first}/.${rest}`,
  ];
}

/** Served: not refused by the guard (the unknown message id is a 404 of the route itself). */
const passedTheGuard = (status: number) => status < 400 || status === 404;

/** Whether anything a refused request could have done was done. */
async function sideEffects(system: System): Promise<number> {
  const outbound = await system.store.listMessages({ direction: "O", limit: 1000 });
  const tester = await system.store.countBackendMessages({ name: "httptester" });
  return outbound.length + tester;
}

describe("the token protects /api and /tester however the URL is written", () => {
  let served: Served;
  let base: string;
  before(async () => {
    served = await serve({ apiToken: TOKEN });
    base = await served.app.listen({ port: 0, host: "127.0.0.1" });
    await served.app.inject({ method: "POST", url: "/tester/api/send", headers: { ...BEARER, ...JSON_TYPE }, payload: { identity: "1", text: "keep me" } });
  });

  for (const route of PROTECTED) {
    test(`${route.method} ${route.path}: every spelling without the token is refused, from loopback and from afar`, async () => {
      const before = await sideEffects(served.system);
      for (const url of variants(route.path)) {
        for (const remoteAddress of ["127.0.0.1", "192.0.2.7"]) {
          const response = await served.app.inject({ method: route.method, url, remoteAddress, headers: JSON_TYPE, payload: route.payload });
          assert.ok(
            response.statusCode >= 400 && response.statusCode < 500,
            `${route.method} ${url} from ${remoteAddress}: ${response.statusCode} ${response.body}`,
          );
        }
      }
      await served.system.pipeline.idle();
      assert.equal(await sideEffects(served.system), before, "a refused request changed nothing");
    });

    test(`${route.method} ${route.path}: served with the token, from afar too`, async () => {
      const response = await served.app.inject({
        method: route.method,
        url: route.path,
        remoteAddress: "192.0.2.7",
        headers: { ...BEARER, ...JSON_TYPE },
        payload: route.payload,
      });
      assert.ok(passedTheGuard(response.statusCode), `${response.statusCode} ${response.body}`);
    });
  }

  test("the event stream is refused without the token under any spelling, over real HTTP", async () => {
    for (const url of variants("/tester/api/events")) {
      const response = await fetch(`${base}${url}`, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      assert.ok(response.status >= 400, `${url}: ${response.status}`);
    }
  });

  test("the login challenge is two header lines, Bearer and Basic, so that browsers offer their login prompt", async () => {
    const response = await new Promise<IncomingMessage>((done) => get(`${base}/tester/`, done));
    response.resume();
    const challenges = response.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1].toLowerCase() === "www-authenticate");
    assert.deepEqual(challenges, ['Bearer realm="RapidSMS message tester"', 'Basic realm="RapidSMS message tester", charset="UTF-8"']);
  });
});

describe("without a token, only this machine is served", () => {
  let served: Served;
  before(async () => (served = await serve()));

  for (const route of PROTECTED) {
    test(`${route.method} ${route.path}: every spelling from another address is refused; loopback is served`, async () => {
      const before = await sideEffects(served.system);
      for (const url of variants(route.path)) {
        const response = await served.app.inject({ method: route.method, url, remoteAddress: "192.0.2.7", headers: JSON_TYPE, payload: route.payload });
        assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${route.method} ${url}: ${response.statusCode} ${response.body}`);
      }
      assert.equal(await sideEffects(served.system), before);
      const local = await served.app.inject({ method: route.method, url: route.path, headers: JSON_TYPE, payload: route.payload });
      assert.ok(passedTheGuard(local.statusCode), `${local.statusCode} ${local.body}`);
    });
  }

  const forwarded: [string, Record<string, string>][] = [
    ["X-Forwarded-For", { "x-forwarded-for": "203.0.113.9" }],
    ["X-Forwarded-For naming loopback", { "x-forwarded-for": "127.0.0.1" }],
    ["Forwarded", { forwarded: "for=203.0.113.9" }],
    ["X-Real-IP", { "x-real-ip": "203.0.113.9" }],
  ];
  for (const [name, headers] of forwarded) {
    test(`a request through a proxy (${name}) is not taken as local unless the proxy is trusted`, async () => {
      const response = await served.app.inject({ url: "/api/messages", headers });
      assert.equal(response.statusCode, 403);
      assert.match(response.json().error, /trustedProxies/);
    });
  }

  test("a trusted proxy's X-Forwarded-For decides: its local clients are served, the others are not", async () => {
    const proxied = await serve({ trustedProxies: ["127.0.0.1", "10.0.0.0/8"] });
    assert.equal((await proxied.app.inject({ url: "/api/messages", headers: { "x-forwarded-for": "127.0.0.1" } })).statusCode, 200);
    assert.equal((await proxied.app.inject({ url: "/api/messages", headers: { "x-forwarded-for": "203.0.113.9" } })).statusCode, 403);
    assert.equal((await proxied.app.inject({ url: "/api/messages", headers: { "x-forwarded-for": "203.0.113.9, 127.0.0.1" } })).statusCode, 403);
    assert.equal((await proxied.app.inject({ url: "/api/messages", headers: { forwarded: "for=127.0.0.1" } })).statusCode, 403);
    await proxied.close();
  });

  test("a Host this server does not answer to is refused (DNS rebinding), loopback names are served", async () => {
    for (const host of ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "10.1.2.3:8000"]) {
      const response = await served.app.inject({ url: "/api/messages", headers: { host } });
      assert.equal(response.statusCode, 403, host);
      assert.match(response.json().error, /allowedHosts/);
    }
    for (const host of ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"]) {
      assert.equal((await served.app.inject({ url: "/api/messages", headers: { host } })).statusCode, 200, host);
    }
    const named = await serve({ allowedHosts: ["sms.lan"] });
    assert.equal((await named.app.inject({ url: "/tester/api/messages", headers: { host: "sms.lan:8000" } })).statusCode, 200);
    await named.close();
  });
});

describe("cross-site requests change nothing", () => {
  let served: Served;
  before(async () => (served = await serve()));
  const send = { backend: "db", identities: ["5551234"], text: "paid SMS" };

  test("a form posted to /api/messages is a 415 and sends nothing", async () => {
    const response = await served.app.inject({ method: "POST", url: "/api/messages", headers: FORM, payload: "backend=db&identities=5551234&text=paid" });
    assert.equal(response.statusCode, 415);
    assert.match(response.json().error, /application\/json/);
    assert.deepEqual(await served.system.store.listMessages({ direction: "O" }), []);
  });

  const writes = ["/api/messages", "/tester/api/send", "/tester/api/bulk", "/tester/api/clear"];
  for (const url of writes) {
    test(`POST ${url} as text/plain, or with no content type at all (a no-cors fetch), is a 415`, async () => {
      for (const headers of [{ "content-type": "text/plain" }, {}, { "content-type": "multipart/form-data; boundary=x" }]) {
        const response = await served.app.inject({
          method: "POST",
          url,
          headers,
          payload: headers["content-type" as never] ? JSON.stringify(send) : undefined,
        });
        assert.equal(response.statusCode, 415, `${JSON.stringify(headers)}: ${response.body}`);
      }
    });

    test(`POST ${url} from a page on another site (Origin, Sec-Fetch-Site) is a 403`, async () => {
      for (const headers of [{ origin: "http://evil.example" }, { origin: "null" }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }]) {
        const response = await served.app.inject({ method: "POST", url, headers: { ...JSON_TYPE, ...headers }, payload: send });
        assert.equal(response.statusCode, 403, `${JSON.stringify(headers)}: ${response.body}`);
      }
    });
  }

  test("the server's own page (same Origin, Sec-Fetch-Site same-origin) is served", async () => {
    const response = await served.app.inject({
      method: "POST",
      url: "/tester/api/send",
      headers: { ...JSON_TYPE, host: "127.0.0.1:8000", origin: "http://127.0.0.1:8000", "sec-fetch-site": "same-origin" },
      payload: { identity: "77", text: "hi" },
    });
    assert.equal(response.statusCode, 200, response.body);
  });

  test("clearing the tester from another site does not clear it, even with the browser's saved login", async () => {
    const withToken = await serve({ apiToken: TOKEN });
    const basic = { authorization: `Basic ${Buffer.from(`tester:${TOKEN}`).toString("base64")}` };
    await withToken.app.inject({ method: "POST", url: "/tester/api/send", headers: { ...basic, ...JSON_TYPE }, payload: { identity: "78", text: "keep" } });
    for (const headers of [{ ...basic, ...FORM, origin: "http://evil.example" }, { ...basic }, { ...basic, "sec-fetch-site": "cross-site", ...JSON_TYPE }]) {
      const response = await withToken.app.inject({
        method: "POST",
        url: "/tester/api/clear",
        headers,
        payload: headers["content-type" as never] === FORM["content-type"] ? "" : undefined,
      });
      assert.ok([403, 415].includes(response.statusCode), `${JSON.stringify(headers)}: ${response.statusCode}`);
    }
    assert.ok((await withToken.system.store.countBackendMessages({ name: "httptester" })) > 0);
    await withToken.close();
  });

  test("tester pages may not be framed and load nothing from elsewhere", async () => {
    const response = await served.app.inject({ url: "/tester/123456/" });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-security-policy"]), /frame-ancestors 'none'/);
    assert.match(String(response.headers["content-security-policy"]), /default-src 'none'/);
    assert.equal(response.headers["x-frame-options"], "DENY");
  });
});

describe("refusing to start open to the network", () => {
  test("a non-loopback host without a token is refused with one line saying how to fix it", async () => {
    await assert.rejects(
      resolveConfig({ installedBackends: { httptester: { engine: "httptester" } }, host: "0.0.0.0", tester: true }),
      /host "0\.0\.0\.0" is reachable from the network and no apiToken is set, so \/api and the message tester would be open to anyone: set apiToken \(or RAPIDSMS_API_TOKEN\), or turn them off with "api": false and "tester": false/,
    );
  });

  test("a publicUrl (a proxy in front) without a token or a trusted proxy is refused", async () => {
    await assert.rejects(resolveConfig({ publicUrl: "https://sms.example.org" }), /publicUrl is set.*no apiToken is set.*trustedProxies/);
    await resolveConfig({ publicUrl: "https://sms.example.org", trustedProxies: ["127.0.0.1"] });
  });

  test("the network is fine with a token, or with /api and the tester off", async () => {
    await resolveConfig({ host: "0.0.0.0", apiToken: TOKEN });
    const off = await resolveConfig({ host: "0.0.0.0", api: false, tester: false });
    const served = await serve({ api: false, tester: false });
    assert.equal(off.api, false);
    assert.equal((await served.app.inject({ url: "/api/messages" })).statusCode, 404);
    assert.equal((await served.app.inject({ url: "/backend/http/?identity=1&text=hi" })).statusCode, 200);
    await served.close();
  });

  test("rapidsms start with HOST=0.0.0.0 on the embedded default exits 2 with that one line", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "rapidsms-open-"));
    const result = await runCli(["start"], cwd, { HOST: "0.0.0.0" });
    rmSync(cwd, { recursive: true, force: true });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^rapidsms: host "0\.0\.0\.0" is reachable from the network and no apiToken is set/);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  });
});

describe("lone UTF-16 surrogates are a 400, never a 500", () => {
  let served: Served;
  before(async () => {
    served = await serve({
      installedBackends: {
        http: { engine: "http" },
        httptester: { engine: "httptester" },
        db: { engine: "database" },
        vumi: { engine: "vumi", sendsmsUrl: "http://127.0.0.1:9/send" },
        kannel: { engine: "kannel" },
      },
    });
  });
  const vumi = (from: string, content: string) =>
    JSON.stringify({ message_id: `m-${Math.random()}`, to_addr: "1", from_addr: from, content, transport_name: "t", transport_type: "sms" }).replace(
      /\\\\u/g,
      "\\u",
    );
  const cases: [string, () => Promise<{ statusCode: number; body: string }>][] = [
    [
      "/backend/http/ identity",
      () => served.app.inject({ method: "POST", url: "/backend/http/", headers: JSON_TYPE, payload: '{"identity":"1\\ud800","text":"x"}' }),
    ],
    [
      "/backend/http/ text",
      () => served.app.inject({ method: "POST", url: "/backend/http/", headers: JSON_TYPE, payload: '{"identity":"1","text":"\\udc00x"}' }),
    ],
    [
      "/backend/httptester/",
      () => served.app.inject({ method: "POST", url: "/backend/httptester/", headers: JSON_TYPE, payload: '{"identity":"5\\ud800","text":"x"}' }),
    ],
    ["/backend/vumi/ from_addr", () => served.app.inject({ method: "POST", url: "/backend/vumi/", headers: JSON_TYPE, payload: vumi("\\ud83d", "hi") })],
    ["/backend/vumi/ content", () => served.app.inject({ method: "POST", url: "/backend/vumi/", headers: JSON_TYPE, payload: vumi("2", "a\\ud83d") })],
    ["/backend/kannel/ UCS-2 text", () => served.app.inject({ url: "/backend/kannel/?id=1&text=%D8%00%00a&charset=UTF-16BE&coding=2" })],
  ];
  for (const [name, request] of cases) {
    test(`${name}: 400, form failed to validate, nothing stored`, async () => {
      const before = (await served.system.store.listMessages({ direction: "I", limit: 1000 })).length;
      const response = await request();
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(response.body.split("\n")[0], "form failed to validate");
      // Kannel's decoder already refuses such UTF-16 bytes, with its own reason.
      if (!name.includes("kannel")) assert.match(response.body, /lone UTF-16 surrogate/);
      assert.equal((await served.system.store.listMessages({ direction: "I", limit: 1000 })).length, before);
    });
  }

  test("/api/messages with a lone surrogate in an identity or the text: 400 naming the field", async () => {
    for (const [field, payload] of [
      ["identities.0", '{"backend":"db","identities":["\\ud800"],"text":"x"}'],
      ["text", '{"backend":"db","identities":["1"],"text":"\\udfff"}'],
    ]) {
      const response = await served.app.inject({ method: "POST", url: "/api/messages", headers: JSON_TYPE, payload });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().issues[0].path, field);
    }
  });

  test("/tester/api/send with a lone surrogate: 400", async () => {
    const response = await served.app.inject({ method: "POST", url: "/tester/api/send", headers: JSON_TYPE, payload: '{"identity":"12","text":"\\ud800"}' });
    assert.equal(response.statusCode, 400);
  });
});

/** A backend whose inbound view fails with an error that names its password. */
class BrokenViewBackend extends BackendBase<{ password: string }> {
  static override engine = "broken-view";
  static override optionsSchema = z.object({ password: z.string() });
  static override secretOptions = ["password"];
  override async send(_request: SendRequest): Promise<void> {}
  override views(): BackendView[] {
    return [{ path: "", handle: async () => Promise.reject(new Error(`could not log in with ${this.config.password}`)) }];
  }
}

describe("secrets never reach the logs", () => {
  test("a failed request logs its path without the query, and no configured secret on any line", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const password = "gateway-pass-9871";
    const config = await resolveConfig({
      installedBackends: {
        broken: { engine: BrokenViewBackend, password },
        kannel: { engine: "kannel", sendsmsParams: { username: "u", password: "kannel-pass-2233" } },
      },
      database: "sqlite::memory:",
      apiToken: TOKEN,
    });
    const logger = createLogger("info", configSecrets(config), sink);
    const system = await createSystem(config, logger);
    const app = await createServer(system, { logger });
    const response = await app.inject({ url: `/backend/broken/?token=${TOKEN}&key=abc` });
    assert.equal(response.statusCode, 500);
    assert.doesNotMatch(response.body, new RegExp(password));
    logger.info({ note: `token ${TOKEN}, kannel kannel-pass-2233, encoded ${encodeURIComponent(TOKEN)}` }, `and ${password}`);
    await app.close();
    await system.close();
    const log = lines.join("");
    assert.match(log, /"path":"\/backend\/broken\/"/);
    for (const secret of [TOKEN, password, "kannel-pass-2233", "?token"]) assert.ok(!log.includes(secret), `${secret} in the log:\n${log}`);
  });
});

describe("tester event streams", () => {
  test("at most testerStreams are open at once; one more gets a 503", async () => {
    const served = await serve({}, { limits: { testerStreams: 3 } });
    const base = await served.app.listen({ port: 0, host: "127.0.0.1" });
    const streams = await Promise.all([1, 2, 3].map(() => fetch(`${base}/tester/api/events`)));
    assert.deepEqual(
      streams.map((s) => s.status),
      [200, 200, 200],
    );
    const refused = await fetch(`${base}/tester/api/events`);
    assert.equal(refused.status, 503);
    assert.match((await refused.json()).error, /too many tester pages/);
    for (const stream of streams) await stream.body!.cancel();
    await served.close();
  });

  test("20 open pages read the store as often as one, and each hears of a new message", async () => {
    const served = await serve();
    const base = await served.app.listen({ port: 0, host: "127.0.0.1" });
    const store = served.system.store;
    let reads = 0;
    const count = store.countBackendMessages.bind(store);
    store.countBackendMessages = (query) => {
      reads++;
      return count(query);
    };
    const readers = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${base}/tester/api/events`)).body!.getReader()));
    const decoder = new TextDecoder();
    for (const reader of readers) assert.match(decoder.decode((await reader.read()).value), /^data: \d+:\d+\n\n$/);
    reads = 0;
    await new Promise((done) => setTimeout(done, 1_000));
    assert.ok(reads <= 1, `${reads} reads of the store in a second with 20 pages open and nothing new`);
    await served.app.inject({ method: "POST", url: "/tester/api/send", headers: JSON_TYPE, payload: { identity: "42", text: "hi" } });
    for (const reader of readers) assert.match(decoder.decode((await reader.read()).value), /^data: 1:\d+\n\n$/);
    for (const reader of readers) await reader.cancel();
    await served.close();
  });
});

/**
 * Opens a raw connection, writes `head`, then a byte every `everyMs` until the server answers;
 * resolves with what the server answered when it closed. A byte written after the server closed
 * would make it reset the connection (ECONNRESET here), so the drip stops at the first answer.
 */
async function slowClient(port: number, head: string, everyMs: number): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(head);
  const drip = setInterval(() => socket.writable && socket.write("a"), everyMs);
  let answer = "";
  socket.on("data", (chunk) => {
    clearInterval(drip);
    answer += chunk;
  });
  socket.on("error", () => {});
  try {
    // Not events.once: it would reject on a reset, which still ends with what was answered before it.
    await new Promise((resolve) => socket.once("close", resolve));
  } finally {
    clearInterval(drip);
  }
  return answer;
}

describe("slow clients are cut off", () => {
  test("a request whose headers dribble in is closed with a 408", async () => {
    const served = await serve({}, { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    await served.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = served.app.server.address() as AddressInfo;
    assert.match(await slowClient(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", 100), /^HTTP\/1\.1 408/);
    await served.close();
  });

  test("a request whose body dribbles in is closed with a 408", async () => {
    const served = await serve({}, { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    await served.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = served.app.server.address() as AddressInfo;
    const head =
      "POST /backend/http/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nidentity=1&text=";
    assert.match(await slowClient(port, head, 100), /^HTTP\/1\.1 408/);
    await served.close();
  });
});

/** A gateway on loopback whose answers `answer` writes. */
async function gateway(
  answer: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: string; requests: { url: string; headers: IncomingMessage["headers"] }[]; server: Server }> {
  const requests: { url: string; headers: IncomingMessage["headers"] }[] = [];
  const server = createHttpServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    requests.push({ url: req.url ?? "", headers: req.headers });
    answer(req, res, body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

/** Sends one message through `backend` by the API and waits until it is final; returns its detail. */
async function sendAndWait(served: Served, backend: string) {
  const sent = await served.app.inject({
    method: "POST",
    url: "/api/messages",
    headers: JSON_TYPE,
    payload: { backend, identities: ["5559999"], text: "hello" },
  });
  assert.equal(sent.statusCode, 202, sent.body);
  await served.system.pipeline.idle();
  const detail = await served.app.inject({ url: `/api/messages/${sent.json().id}` });
  return { detail: detail.json(), size: detail.body.length };
}

describe("hostile gateways", () => {
  test("a 50 MB answer is kept as at most a few hundred bytes in the attempt log and the API", async () => {
    const big = await gateway((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(1024 * 1024, "z");
      let sent = 0;
      const write = () => {
        while (sent < 50 && res.write(chunk)) sent++;
        if (sent < 50) res.once("drain", write);
        else res.end();
      };
      write();
    });
    const served = await serve({ installedBackends: { gw: { engine: "http", sendUrl: `${big.url}/send` } }, tester: false });
    const { detail, size } = await sendAndWait(served, "gw");
    assert.equal(detail.status, "S");
    assert.ok(size < 4_000, `the API answer is ${size} bytes`);
    assert.match(detail.transmissions[0].attemptLog[0].answer, /answer cut at 65536 bytes\)$/);
    await served.close();
  });

  test("an answer that never ends is cut, and the message is sent", { timeout: 60_000 }, async () => {
    const endless = await gateway((_req, res) => {
      res.writeHead(200);
      const drip = setInterval(() => res.write(Buffer.alloc(8 * 1024, "y")), 1);
      res.on("close", () => clearInterval(drip));
    });
    const served = await serve({ installedBackends: { gw: { engine: "http", sendUrl: `${endless.url}/send`, timeoutMs: 30_000 } }, tester: false });
    const { detail } = await sendAndWait(served, "gw");
    assert.equal(detail.status, "S");
    await served.close();
  });

  test("a gateway that drips its answer forever is cut at timeoutMs: the send is retried and ends E, never stuck in P", { timeout: 60_000 }, async () => {
    const drip = await gateway((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("."), 100);
      res.on("close", () => clearInterval(timer));
    });
    const served = await serve({
      installedBackends: { gw: { engine: "http", sendUrl: `${drip.url}/send`, timeoutMs: 400 } },
      tester: false,
      pipeline: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20, pollMs: 10 },
    });
    const { detail } = await sendAndWait(served, "gw");
    assert.equal(detail.status, "E");
    assert.deepEqual(
      detail.transmissions[0].attemptLog.map((a: { outcome: string }) => a.outcome),
      ["retry", "E"],
    );
    assert.match(detail.transmissions[0].error, /no complete answer within 400 ms/);
    await served.close();
  });

  test("a Kannel that echoes the request in its 202 does not put the password in the attempt log", async () => {
    const kannel = await gateway((req, res) => res.writeHead(202).end(`0: Accepted for delivery (${req.url})`));
    const served = await serve({
      installedBackends: {
        kannel: { engine: "kannel", sendsmsUrl: `${kannel.url}/cgi-bin/sendsms`, sendsmsParams: { username: "clinic", password: "p@ss w0rd!" } },
      },
      tester: false,
    });
    const { detail } = await sendAndWait(served, "kannel");
    assert.equal(detail.status, "S");
    assert.match(kannel.requests[0].url, /password=p%40ss%20w0rd!/);
    const answer: string = detail.transmissions[0].attemptLog[0].answer;
    assert.match(answer, /^0: Accepted for delivery/);
    for (const form of ["p@ss w0rd!", "p%40ss%20w0rd!", "p%40ss+w0rd!"]) assert.ok(!answer.includes(form), answer);
    await served.close();
  });

  test("credentials in a sendUrl are sent as HTTP Basic, and shown nowhere", async () => {
    const refusing = await gateway((req, res) => res.writeHead(403).end(`no entry for ${req.headers.authorization}`));
    const url = `http://clinic:url-secret-77@${refusing.url.slice("http://".length)}/send`;
    const served = await serve({ installedBackends: { gw: { engine: "http", sendUrl: url } }, tester: false });
    const { detail } = await sendAndWait(served, "gw");
    assert.equal(refusing.requests[0].headers.authorization, `Basic ${Buffer.from("clinic:url-secret-77").toString("base64")}`);
    assert.equal(detail.status, "E");
    const text = JSON.stringify(detail);
    assert.ok(!text.includes("url-secret-77") && !text.includes(Buffer.from("clinic:url-secret-77").toString("base64")), text);
    await served.close();

    const cwd = mkdtempSync(join(tmpdir(), "rapidsms-url-"));
    writeFileSync(join(cwd, "rapidsms.config.json"), JSON.stringify({ installedBackends: { gw: { engine: "http", sendUrl: url } } }));
    const listed = await runCli(["backends"], cwd);
    rmSync(cwd, { recursive: true, force: true });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /clinic:\*\*\*@/);
    assert.ok(!listed.stdout.includes("url-secret-77"), listed.stdout);
  });
});

describe("start-up errors", () => {
  test("an unreachable PostgreSQL is one line, without the password or a stack trace", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "rapidsms-pg-down-"));
    const result = await runCli(["start"], cwd, { RAPIDSMS_DATABASE: "postgres://clinic:db-secret-5@127.0.0.1:9/rapidsms" });
    rmSync(cwd, { recursive: true, force: true });
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0],
      /^rapidsms: cannot open the database postgres:\/\/clinic:\*\*\*@127\.0\.0\.1:9\/rapidsms: .*ECONNREFUSED.*: check that it is running/,
    );
  });
});

async function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !["PORT", "HOST", "RAPIDSMS_CONFIG", "RAPIDSMS_DATABASE", "DATABASE_URL", "RAPIDSMS_API_TOKEN"].includes(key),
    ),
  );
  const child = spawn(join(repo, "node_modules/.bin/node"), [join(repo, "src/cli/main.ts"), ...args], {
    cwd,
    env: { ...clean, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 20_000,
    killSignal: "SIGKILL",
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}
