import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { classifyStatus, GatewayClient, GatewayError } from "./gateway-client.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A gateway on loopback whose every answer `handler` writes; remembers the requests' headers. */
let handler: Handler = (_req, res) => res.end("ok");
const seen: IncomingMessage["headers"][] = [];
let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    handler(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
});

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => assert.fail("expected the call to fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
  return error;
}

test("GatewayClient: a call after close fails as unreachable, and closing a client that never called is fine", async () => {
  const idle = new GatewayClient({ timeoutMs: 1_000 });
  await idle.close();
  const client = new GatewayClient({ timeoutMs: 1_000 });
  assert.equal((await client.call({ method: "GET", url: `${base}/before` })).status, 200);
  await client.close();
  const error = await rejection(client.call({ method: "GET", url: `${base}/after` }));
  assert.equal(error.failure, "unreachable");
  assert.match(error.message, /client is closed; will retry/);
});

describe("GatewayClient: answers are read up to a cap", () => {
  test("a 1 MB answer is read to 64 KiB, and only 1,000 characters of it are kept for the log", async () => {
    handler = (_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(Buffer.alloc(1024 * 1024, "a"));
    const client = new GatewayClient({ timeoutMs: 10_000 });
    const answer = await client.call({ method: "GET", url: `${base}/big` });
    assert.equal(answer.status, 200);
    assert.equal(answer.truncated, true);
    assert.equal(answer.body.length, 64 * 1024);
    assert.ok(answer.logText.length < 1_100, `log text of ${answer.logText.length} characters`);
    assert.match(answer.logText, /answer cut at 65536 bytes\)$/);
    await client.close();
  });

  test("an answer that never ends is cut at the cap and the call returns", async () => {
    let open: ServerResponse | undefined;
    handler = (_req, res) => {
      open = res;
      res.writeHead(200);
      const drip = setInterval(() => res.write(Buffer.alloc(16 * 1024, "b")), 1);
      res.on("close", () => clearInterval(drip));
    };
    const client = new GatewayClient({ timeoutMs: 60_000 });
    const answer = await client.call({ method: "POST", url: `${base}/endless`, body: "x" });
    assert.equal(answer.truncated, true);
    assert.equal(answer.body.length, 64 * 1024);
    await once(open!, "close");
    await client.close();
  });
});

describe("GatewayClient: one deadline for the whole call", () => {
  test("a gateway that drips its answer a byte at a time is cut at the deadline (a retryable timeout)", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      const drip = setInterval(() => res.write("."), 50);
      res.on("close", () => clearInterval(drip));
    };
    const client = new GatewayClient({ timeoutMs: 300 });
    const error = await rejection(client.call({ method: "GET", url: `${base}/drip` }));
    assert.equal(error.failure, "timeout");
    assert.equal(error.code, "GATEWAY_TIMEOUT");
    assert.equal(error.retryable, true);
    assert.match(error.message, /no complete answer within 300 ms; will retry/);
    await client.close();
  });

  test("a gateway that never sends its headers is cut at the deadline too", async () => {
    handler = () => {};
    const client = new GatewayClient({ timeoutMs: 200 });
    assert.equal((await rejection(client.call({ method: "GET", url: `${base}/silent` }))).failure, "timeout");
    await client.close();
  });

  test("a call cancelled by its caller fails as cancelled, not as a timeout", async () => {
    handler = () => {};
    const client = new GatewayClient({ timeoutMs: 60_000 });
    const controller = new AbortController();
    const call = client.call({ method: "GET", url: `${base}/silent`, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    assert.equal((await rejection(call)).failure, "cancelled");
    await client.close();
  });
});

describe("GatewayClient: the classification table", () => {
  const table: [number, ReturnType<typeof classifyStatus>, boolean | null][] = [
    [200, null, null],
    [202, null, null],
    [204, null, null],
    [301, "rejected", false],
    [400, "rejected", false],
    [401, "credentials", false],
    [403, "credentials", false],
    [404, "rejected", false],
    [408, "unavailable", true],
    [429, "rate-limited", true],
    [500, "unavailable", true],
    [503, "unavailable", true],
  ];
  for (const [status, failure, retryable] of table) {
    test(`${status} → ${failure ?? "success"}`, async () => {
      assert.equal(classifyStatus(status), failure);
      handler = (_req, res) => res.writeHead(status, { "retry-after": "7" }).end("answer");
      const client = new GatewayClient({ timeoutMs: 5_000, credentialsHint: "apiKey" });
      const call = client.call({ method: "GET", url: `${base}/status` });
      if (failure === null) {
        assert.equal((await call).status, status);
      } else {
        const error = await rejection(call);
        assert.equal(error.status, status);
        assert.equal(error.retryable, retryable);
        assert.equal(error.answer, "answer");
        assert.equal(error.retryAfterMs, 7_000);
        if (failure === "credentials") assert.match(error.message, /; check apiKey$/);
      }
      await client.close();
    });
  }

  test("a refused connection is unreachable, retryable", async () => {
    const client = new GatewayClient({ timeoutMs: 5_000 });
    const error = await rejection(client.call({ method: "GET", url: "http://127.0.0.1:9/send" }));
    assert.equal(error.failure, "unreachable");
    assert.equal(error.retryable, true);
    await client.close();
  });
});

describe("GatewayClient: secrets", () => {
  const secret = "s3cr3t/p@ss word";

  test("secrets are redacted from answers and errors, raw, URL-encoded and JSON-escaped", async () => {
    handler = (req, res) => res.writeHead(400).end(`you sent ${req.url} ${JSON.stringify({ password: secret })} ${secret}`);
    const client = new GatewayClient({ timeoutMs: 5_000, secrets: [secret] });
    const error = await rejection(client.call({ method: "GET", url: `${base}/send?password=${encodeURIComponent(secret)}` }));
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      assert.ok(!error.message.includes(form), `${form} in ${error.message}`);
      assert.ok(!error.answer!.includes(form), `${form} in ${error.answer}`);
    }
    assert.match(error.message, /^gateway answered 400 to GET http:\/\/127\.0\.0\.1:\d+\/send: you sent/, "the URL in the error has no query");
    await client.close();
  });

  test("credentials in the URL are sent as HTTP Basic and never shown", async () => {
    handler = (req, res) => res.writeHead(503).end(`auth was ${req.headers.authorization}`);
    const client = new GatewayClient({ timeoutMs: 5_000 });
    const url = `http://clinic:${encodeURIComponent(secret)}@127.0.0.1:${new URL(base).port}/send`;
    const error = await rejection(client.call({ method: "POST", url, body: "x" }));
    const basic = Buffer.from(`clinic:${secret}`).toString("base64");
    assert.equal(seen.at(-1)!.authorization, `Basic ${basic}`);
    for (const form of [secret, encodeURIComponent(secret), basic]) assert.ok(!error.message.includes(form), `${form} in ${error.message}`);
    assert.match(error.message, /^gateway answered 503 to POST http:\/\/127\.0\.0\.1:\d+\/send: auth was Basic \*\*\*; will retry$/);
    await client.close();
  });
});
