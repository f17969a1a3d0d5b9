import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, test } from "node:test";
import { ConfigError, resolveConfig, shippedEngines } from "../../src/index.ts";
import { createTestRouter, type TestRouter } from "../../src/testing/harness.ts";
import { JsonGatewayBackend } from "./custom-outbound-backend.ts";

const TOKEN = "gateway-token-123";

interface GatewayRequest {
  authorization: string | undefined;
  body: { reference: string; inReplyTo: string | null; to: string[]; text: string };
}

/** A local stand-in for the gateway: records each request and answers with the next queued answer, else 200 `{}`. */
const requests: GatewayRequest[] = [];
let answers: { status: number; body: object }[] = [];
const gateway = createServer(async (request: IncomingMessage, response: ServerResponse) => {
  let raw = "";
  for await (const chunk of request) raw += chunk;
  requests.push({ authorization: request.headers.authorization, body: JSON.parse(raw) });
  const { status, body } = answers.shift() ?? { status: 200, body: {} };
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
});

let url: string;
let t: TestRouter;

before(async () => {
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/messages`;
  t = await createTestRouter({ backends: { gateway: { engine: JsonGatewayBackend, options: { url, token: TOKEN } } } });
});
after(async () => {
  await t.close();
  gateway.close();
});
beforeEach(() => {
  requests.length = 0;
  answers = [];
});

async function sendAndWait(text: string, identities: string[]) {
  const msg = await t.router.send(text, await t.connections(identities, "gateway"));
  await t.idle();
  const record = await t.store.getMessage(msg.id);
  assert.ok(record);
  return record;
}

test("json gateway backend sends one request with every identity, the text and the bearer token", async () => {
  const record = await sendAndWait("hello", ["1112223333", "4445556666"]);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(requests[0].body, { reference: record.id, inReplyTo: null, to: ["1112223333", "4445556666"], text: "hello" });
  assert.deepEqual(
    record.transmissions.map((tr) => tr.status),
    ["S", "S"],
  );
});

test("numbers the gateway rejects are failedIdentities: marked E, the others S, without retry", async () => {
  answers = [{ status: 200, body: { rejected: ["4445556666"] } }];
  const record = await sendAndWait("hello", ["1112223333", "4445556666"]);
  assert.equal(requests.length, 1);
  const byIdentity = Object.fromEntries(record.transmissions.map((tr) => [tr.identity, [tr.status, tr.error]]));
  assert.deepEqual(byIdentity, { "1112223333": ["S", null], "4445556666": ["E", "gateway rejected 4445556666"] });
});

test("a 503 answer is retried until the gateway takes the message", async () => {
  answers = [{ status: 503, body: {} }];
  const record = await sendAndWait("hello", ["1112223333"]);
  assert.equal(requests.length, 2);
  assert.deepEqual(
    record.transmissions.map((tr) => [tr.status, tr.attempts]),
    [["S", 2]],
  );
});

test("a 400 answer is not retried: the message fails at once, without the token in the error", async () => {
  answers = [{ status: 400, body: {} }];
  const record = await sendAndWait("hello", ["1112223333"]);
  assert.equal(requests.length, 1);
  const [transmission] = record.transmissions;
  assert.equal(transmission.status, "E");
  assert.match(transmission.error ?? "", /^gateway encountered an error while sending: gateway answered 400 to POST http:\/\/127\.0\.0\.1:\d+\/messages/);
  assert.doesNotMatch(transmission.error ?? "", new RegExp(TOKEN));
});

test("given among the engines, the backend is installable by its engine name, its options checked", async () => {
  const engines = [...shippedEngines, JsonGatewayBackend];
  const config = await resolveConfig({ installedBackends: { gateway: { engine: "json-gateway", url, token: TOKEN } } }, { engines });
  assert.equal(config.backends.gateway.engine, JsonGatewayBackend);
  await assert.rejects(
    resolveConfig({ installedBackends: { gateway: { engine: "json-gateway", url: "ftp://example.org/" } } }, { engines }),
    (error: unknown) => error instanceof ConfigError && /backend "gateway" \(engine json-gateway\): option "url"/.test(error.message),
  );
});
