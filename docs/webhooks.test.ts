import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../src/config/resolve.ts";
import { ConfigError } from "../src/errors.ts";
import { createSystem, signWebhook } from "../src/index.ts";
import { FakeGateway } from "../test/support/fake-gateway.ts";
import { testDatabase } from "../test/support/test-database.ts";
import { webhookReceiver } from "./examples/webhook-receiver.ts";

const guide = readFileSync(new URL("./operations.md", import.meta.url), "utf8");
const section = guide.slice(guide.indexOf("## 4. Webhooks to other apps"), guide.indexOf("## 5."));
const blocks = (language: string) => [...section.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map(([, code]) => code.trimEnd());
const EXAMPLES = fileURLToPath(new URL("./examples/", import.meta.url));
const SECRET = "docs-webhook-secret-0123456789";

test("the webhooks section's config is valid, and does not start without a secret, saying what to set", async () => {
  const [config] = blocks("json");
  const resolved = await resolveConfig({ ...JSON.parse(config), database: testDatabase() });
  assert.deepEqual(resolved.webhooks.allowedHosts, ["app.example.org"]);
  await assert.rejects(createSystem(resolved), (e: unknown) => e instanceof ConfigError && /RAPIDSMS_WEBHOOK_SECRET/.test(e.message));
  const payloads = blocks("json")
    .slice(1)
    .map((block) => JSON.parse(block));
  assert.deepEqual(
    payloads.map((p) => p.event),
    ["message", "status"],
  );
});

test("the section's Node and Python verifiers are the files in docs/examples", () => {
  const [node] = blocks("ts");
  assert.ok(readFileSync(new URL("./examples/webhook-receiver.ts", import.meta.url), "utf8").includes(node));
  const [python] = blocks("python");
  assert.equal(python, readFileSync(new URL("./examples/webhook_receiver.py", import.meta.url), "utf8").trimEnd());
});

test("the Python verifier takes what RapidSMS.ts signs and refuses a changed body, another delivery id or another secret", () => {
  const body = '{"event":"message","text":"caf\u00e9"}';
  const headers = signWebhook({ secret: SECRET, body, delivery: 1 });
  const script = `
import sys, json
sys.path.insert(0, ${JSON.stringify(EXAMPLES)})
from webhook_receiver import verify_rapidsms
args = json.loads(sys.stdin.read())
print(json.dumps([verify_rapidsms(a[0], a[1].encode(), a[2], a[3], a[4]) for a in args]))`;
  const { "x-rapidsms-timestamp": timestamp, "x-rapidsms-delivery": delivery, "x-rapidsms-signature": signature } = headers;
  const cases = [
    [SECRET, body, timestamp, delivery, signature],
    [SECRET, `${body} `, timestamp, delivery, signature],
    [SECRET, body, timestamp, "2", signature],
    ["another-secret-0123456789", body, timestamp, delivery, signature],
    [SECRET, body, String(Number(timestamp) - 301), delivery, signature],
  ];
  const answer = execFileSync("python3", ["-c", script], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.deepEqual(JSON.parse(answer), [true, false, false, false, false]);
});

test("the example receiver answers a forwarded message with replies, which are sent, answers the same delivery again with the same answer, and refuses a replay with another delivery id", async () => {
  let made = 0;
  const receiver = webhookReceiver(SECRET, ({ text }) => {
    made++;
    return [`You said: ${text}`];
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  after(() => receiver.close());
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/inbound`;
  const config = await resolveConfig({
    installedBackends: { db: { engine: "database" } },
    apps: ["webhook", "default"],
    appSettings: { webhook: { url } },
    webhooks: { secret: SECRET },
    database: testDatabase(),
    pipeline: { pollMs: 20 },
  });
  const sms = await createSystem(config);
  after(() => sms.close());
  const [connection] = await sms.router.lookupConnections("db", ["+15550100"]);
  const msg = await sms.router.receive("hello", connection);
  const deadline = Date.now() + 10_000;
  while ((await sms.store.listMessages({ direction: "O", inResponseTo: msg.id })).length === 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const [reply] = await sms.store.listMessages({ direction: "O", inResponseTo: msg.id });
  assert.equal(reply?.text, "You said: hello");
  const [forward] = await sms.store.listWebhooks(msg.id);
  const body = JSON.stringify({ event: "message", id: msg.id, backend: "db", from: "+15550100", text: "hello", date: "", fields: {} });
  const signed = signWebhook({ secret: SECRET, body, delivery: forward.id });
  const again = await fetch(url, { method: "POST", headers: signed, body });
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { replies: [{ text: "You said: hello" }] });
  assert.equal(made, 1, "the repeat is answered from what was kept, not handled again");
  const replayed = await fetch(url, { method: "POST", headers: { ...signed, "x-rapidsms-delivery": String(forward.id + 1) }, body });
  assert.equal(replayed.status, 401);
  const forged = await fetch(url, { method: "POST", headers: { ...signWebhook({ secret: "not-the-secret-at-all", body, delivery: 99 }) }, body });
  assert.equal(forged.status, 401);
  assert.equal(made, 1);
});

/** A proxy in front of a receiver that relays its first answer only after `delayMs` (the receiver took the message meanwhile). */
function slowFirstAnswer(target: number, delayMs: number): Server {
  let first = true;
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const wait = first ? delayMs : 0;
      first = false;
      const upstream = httpRequest({ host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const body: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => body.push(chunk));
        answer.on("end", () =>
          setTimeout(() => {
            if (!res.destroyed) res.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(body));
          }, wait),
        );
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
}

test("when the receiver's first answer comes after timeoutMs, the POST is repeated, the example receiver answers it the same, and the replies are sent exactly once", async () => {
  const gateway = new FakeGateway();
  await gateway.listen();
  after(() => gateway.close());
  let made = 0;
  const receiver = webhookReceiver(SECRET, ({ text }) => {
    made++;
    return [`Got: ${text}`];
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  after(() => receiver.close());
  const proxy = slowFirstAnswer((receiver.address() as AddressInfo).port, 800);
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  after(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  const sms = await createSystem(
    await resolveConfig({
      database: testDatabase(),
      pipeline: { pollMs: 20 },
      installedBackends: { gw: { engine: "http", sendUrl: `${gateway.url}/send` } },
      apps: ["webhook"],
      appSettings: { webhook: { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/hook` } },
      webhooks: { secret: SECRET, timeoutMs: 300, baseDelayMs: 50, maxDelayMs: 100 },
    }),
  );
  after(() => sms.close());
  const [connection] = await sms.router.lookupConnections("gw", ["+255700000001"]);
  const msg = await sms.router.receive("REPORT 12 cases", connection);
  const deadline = Date.now() + 10_000;
  while (gateway.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  // Past the late first answer: had it been recorded as well, a second reply would be on its way.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const [forward] = await sms.store.listWebhooks(msg.id);
  assert.equal(forward.status, "S");
  assert.ok(forward.attempts >= 2, `the POST was repeated (${forward.attempts} attempts)`);
  assert.equal(made, 1, "the receiver handled the message once");
  assert.equal(gateway.requests.length, 1, "the reply was sent exactly once");
  assert.equal((await sms.store.listMessages({ direction: "O", inResponseTo: msg.id })).length, 1);
});
