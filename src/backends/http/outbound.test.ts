import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { MessageSendingError } from "../../errors.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import { HttpBackend } from "./index.ts";

interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  form: Record<string, string>;
}

type Answer = { status: number; body?: string } | "hang";

/** A fake SMS gateway on loopback: records every request and answers what `answer` says. */
class FakeGateway {
  readonly requests: Received[] = [];
  answer: (request: Received) => Answer = () => ({ status: 202, body: "Accepted" });
  private readonly server: Server;
  private readonly hanging: ServerResponse[] = [];

  constructor() {
    this.server = createServer((req, res) => void this.onRequest(req, res));
  }

  async listen(): Promise<void> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/send`;
  }

  reset(): void {
    this.requests.length = 0;
    this.answer = () => ({ status: 202, body: "Accepted" });
    for (const res of this.hanging.splice(0)) res.destroy();
  }

  async close(): Promise<void> {
    this.reset();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? "/", "http://gateway");
    const received: Received = {
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers["content-type"],
      form: Object.fromEntries(new URLSearchParams(body)),
    };
    this.requests.push(received);
    const answer = this.answer(received);
    if (answer === "hang") {
      this.hanging.push(res);
      return;
    }
    res.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.body ?? "");
  }
}

const gateway = new FakeGateway();
const routers: TestRouter[] = [];

before(() => gateway.listen());
afterEach(() => gateway.reset());
after(async () => {
  for (const t of routers) await t.close();
  await gateway.close();
});

/** A router with one http backend named `gw` with these options (sendUrl defaults to the fake gateway). */
async function httpBackend(options: Record<string, unknown> = {}) {
  const t = await createTestRouter({
    backends: { gw: { engine: HttpBackend, options: { sendUrl: gateway.url, ...options } } },
    pipeline: { maxAttempts: 3 },
  });
  routers.push(t);
  return { t, backend: t.backends.get("gw") as HttpBackend };
}

async function sendError(backend: HttpBackend, identities: string[], text = "hi"): Promise<MessageSendingError> {
  const error = await backend.send({ id: "m1", text, identities, context: {} }).then(
    () => assert.fail("expected the send to fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof MessageSendingError, `expected a MessageSendingError, got ${String(error)}`);
  return error;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

describe("http engine: the requests it sends", () => {
  test("POST by default, form-encoded, with sendParams plus identity and text, one request per identity", async () => {
    const { backend } = await httpBackend({ sendParams: { username: "clinic", password: "s3cret" } });
    await backend.send({ id: "m1", text: "Hello & welcome", identities: ["111", "222"], context: {} });
    assert.equal(gateway.requests.length, 2);
    const sorted = [...gateway.requests].sort((a, b) => a.form.identity.localeCompare(b.form.identity));
    for (const [i, identity] of ["111", "222"].entries()) {
      assert.equal(sorted[i].method, "POST");
      assert.equal(sorted[i].path, "/send");
      assert.equal(sorted[i].contentType, "application/x-www-form-urlencoded");
      assert.deepEqual(sorted[i].query, {});
      assert.deepEqual(sorted[i].form, { username: "clinic", password: "s3cret", identity, text: "Hello & welcome" });
    }
  });

  test("the identity and text go under the configured parameter names", async () => {
    const { backend } = await httpBackend({ params: { identityName: "phone", textName: "message" } });
    await backend.send({ id: "m1", text: "hi", identities: ["333"], context: {} });
    assert.deepEqual(
      gateway.requests.map((r) => r.form),
      [{ phone: "333", message: "hi" }],
    );
  });

  test("sendMethod GET puts sendParams, identity and text in the query, keeping the sendUrl's own query", async () => {
    const { backend } = await httpBackend({ sendUrl: `${gateway.url}?api=2`, sendMethod: "get", sendParams: { key: "k" } });
    await backend.send({ id: "m1", text: "hi there", identities: ["444"], context: {} });
    assert.equal(gateway.requests.length, 1);
    assert.equal(gateway.requests[0].method, "GET");
    assert.deepEqual(gateway.requests[0].query, { api: "2", key: "k", identity: "444", text: "hi there" });
    assert.deepEqual(gateway.requests[0].form, {});
  });

  for (const status of [200, 201, 202, 204]) {
    test(`a ${status} answer is a success`, async () => {
      const { backend } = await httpBackend();
      gateway.answer = () => ({ status });
      await backend.send({ id: "m1", text: "hi", identities: ["555"], context: {} });
      assert.equal(gateway.requests.length, 1);
    });
  }
});

describe("http engine: failures", () => {
  for (const status of [500, 503, 429]) {
    test(`a ${status} answer is a retryable MessageSendingError`, async () => {
      const { backend } = await httpBackend();
      gateway.answer = () => ({ status, body: "busy" });
      const error = await sendError(backend, ["666"]);
      assert.equal(error.retryable, true);
      assert.deepEqual(error.failedIdentities, []);
      assert.match(error.message, new RegExp(`gateway answered ${status}.*busy`));
    });
  }

  for (const status of [400, 401, 404]) {
    test(`a ${status} answer is a permanent MessageSendingError (not retryable)`, async () => {
      const { backend } = await httpBackend();
      gateway.answer = () => ({ status, body: "bad number" });
      const error = await sendError(backend, ["666"]);
      assert.equal(error.retryable, false);
      assert.match(error.message, new RegExp(`gateway answered ${status}.*bad number`));
    });
  }

  test("a refused connection is a retryable MessageSendingError", async () => {
    const { backend } = await httpBackend({ sendUrl: `http://127.0.0.1:${await closedPort()}/send` });
    const error = await sendError(backend, ["777"]);
    assert.equal(error.retryable, true);
    assert.match(error.message, /gateway unreachable/);
  });

  test("a gateway that does not answer within timeoutMs is a retryable MessageSendingError", async () => {
    // Long enough that the gateway (in this process) has read the request before the client gives up.
    const { backend } = await httpBackend({ timeoutMs: 1_000 });
    gateway.answer = () => "hang";
    const error = await sendError(backend, ["778"]);
    assert.equal(error.retryable, true);
    assert.equal(gateway.requests.length, 1);
  });

  test("when the gateway fails one identity, failedIdentities lists only that one", async () => {
    const { backend } = await httpBackend();
    gateway.answer = (r) => (r.form.identity === "222" ? { status: 400, body: "invalid destination" } : { status: 200 });
    const error = await sendError(backend, ["111", "222", "333"]);
    assert.deepEqual(error.failedIdentities, ["222"]);
    assert.equal(error.retryable, false);
    assert.match(error.message, /1 of 3 identities failed/);
    assert.equal(gateway.requests.length, 3);
  });

  test("a partial failure is retryable when a failed identity's answer was retryable", async () => {
    const { backend } = await httpBackend();
    gateway.answer = (r) => (r.form.identity === "111" ? { status: 200 } : r.form.identity === "222" ? { status: 400 } : { status: 503 });
    const error = await sendError(backend, ["111", "222", "333"]);
    assert.deepEqual([...error.failedIdentities].sort(), ["222", "333"]);
    assert.equal(error.retryable, true);
  });

  const secret = "p@ss w0rd&x=1";
  const secretForms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];

  test("a POST gateway echoing the request in its error answer never puts the password in the error", async () => {
    const { backend } = await httpBackend({ sendParams: { user: "u", password: secret } });
    gateway.answer = (r) => ({ status: 400, body: `rejected: ${new URLSearchParams(r.form).toString()} password=${r.form.password}` });
    const error = await sendError(backend, ["888"]);
    assert.equal(gateway.requests[0].form.password, secret);
    for (const form of secretForms) assert.ok(!error.message.includes(form), `${form} leaked into: ${error.message}`);
    assert.match(error.message, /\*\*\*/);
  });

  test("a GET gateway's error (URL with the password in its query) never puts the password in the error", async () => {
    const { backend } = await httpBackend({ sendMethod: "GET", sendParams: { password: secret } });
    gateway.answer = () => ({ status: 503, body: "down" });
    const error = await sendError(backend, ["889"]);
    for (const form of secretForms) assert.ok(!error.message.includes(form), `${form} leaked into: ${error.message}`);
  });

  test("an unreachable GET gateway's error never puts the password in the error", async () => {
    const { backend } = await httpBackend({ sendUrl: `http://127.0.0.1:${await closedPort()}/send`, sendMethod: "GET", sendParams: { password: secret } });
    const error = await sendError(backend, ["890"]);
    assert.match(error.message, /gateway unreachable/);
    for (const form of secretForms) assert.ok(!error.message.includes(form), `${form} leaked into: ${error.message}`);
  });

  test("a backend without sendUrl fails every send with a permanent MessageSendingError saying so", async () => {
    const t = await createTestRouter({ backends: { inbound: { engine: HttpBackend, options: {} } } });
    routers.push(t);
    const error = await sendError(t.backends.get("inbound") as HttpBackend, ["999"]);
    assert.equal(error.retryable, false);
    assert.equal(error.code, "BACKEND_CANNOT_SEND");
    assert.match(error.message, /backend "inbound" \(engine http\) has no sendUrl/);
    assert.equal(gateway.requests.length, 0);
  });
});

describe("http engine through the router", () => {
  test("transmissions end S for the identities the gateway took and E for the one it refused", async () => {
    const { t } = await httpBackend();
    gateway.answer = (r) => (r.form.identity === "222" ? { status: 400, body: "invalid destination" } : { status: 200, body: "ok" });
    const msg = await t.router.send("hello", await t.connections(["111", "222", "333"], "gw"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    assert.ok(record);
    const byIdentity = Object.fromEntries(record.transmissions.map((tr) => [tr.identity, tr.status]));
    assert.deepEqual(byIdentity, { "111": "S", "222": "E", "333": "S" });
    const failed = record.transmissions.find((tr) => tr.identity === "222")!;
    assert.match(failed.error ?? "", /400/);
    assert.equal(gateway.requests.filter((r) => r.form.identity === "222").length, 1, "a permanent failure is not retried");
  });

  test("a recipient whose answer had no id is not sent again when another recipient of the same send is retried", async () => {
    const { t } = await httpBackend({ messageIdPattern: "id=(\\w+)" });
    let refused = 0;
    gateway.answer = (r) => {
      if (r.form.identity === "111") return { status: 200, body: "queued, no id given" };
      return refused++ === 0 ? { status: 503, body: "busy" } : { status: 200, body: "id=gw222" };
    };
    const msg = await t.router.send("hello", await t.connections(["111", "222"], "gw"));
    await t.idle();
    const record = (await t.store.getMessage(msg.id))!;
    const byIdentity = Object.fromEntries(record.transmissions.map((tr) => [tr.identity, [tr.status, tr.externalId]]));
    assert.deepEqual(byIdentity, { "111": ["E", null], "222": ["S", "gw222"] });
    assert.equal(gateway.requests.filter((r) => r.form.identity === "111").length, 1, "the gateway may have taken it: once is all");
    assert.equal(gateway.requests.filter((r) => r.form.identity === "222").length, 2);
  });

  test("a 503 is retried and the transmission ends S once the gateway takes it", async () => {
    const { t } = await httpBackend();
    let calls = 0;
    gateway.answer = () => (++calls === 1 ? { status: 503, body: "busy" } : { status: 200 });
    const msg = await t.router.send("retry me", await t.connections(["444"], "gw"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    assert.equal(record?.status, "S");
    assert.equal(record?.transmissions[0].status, "S");
    assert.equal(record?.transmissions[0].attempts, 2);
    assert.equal(gateway.requests.length, 2);
  });

  test("a gateway that keeps answering 503 ends E after maxAttempts", async () => {
    const { t } = await httpBackend();
    gateway.answer = () => ({ status: 503, body: "busy" });
    const msg = await t.router.send("never", await t.connections(["445"], "gw"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    assert.equal(record?.status, "E");
    assert.equal(record?.transmissions[0].attempts, 3);
    assert.equal(gateway.requests.length, 3);
  });
});
