import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../src/config/resolve.ts";
import { ConfigError } from "../src/errors.ts";
import { createSystem, signWebhook } from "../src/index.ts";
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

test("the Python verifier takes what RapidSMS.ts signs and refuses a changed body or another secret", () => {
  const body = '{"event":"message","text":"caf\u00e9"}';
  const headers = signWebhook({ secret: SECRET, body, delivery: 1 });
  const script = `
import sys, json
sys.path.insert(0, ${JSON.stringify(EXAMPLES)})
from webhook_receiver import verify_rapidsms
args = json.loads(sys.stdin.read())
print(json.dumps([verify_rapidsms(a[0], a[1].encode(), a[2], a[3]) for a in args]))`;
  const cases = [
    [SECRET, body, headers["x-rapidsms-timestamp"], headers["x-rapidsms-signature"]],
    [SECRET, `${body} `, headers["x-rapidsms-timestamp"], headers["x-rapidsms-signature"]],
    ["another-secret-0123456789", body, headers["x-rapidsms-timestamp"], headers["x-rapidsms-signature"]],
    [SECRET, body, String(Number(headers["x-rapidsms-timestamp"]) - 301), headers["x-rapidsms-signature"]],
  ];
  const answer = execFileSync("python3", ["-c", script], { input: JSON.stringify(cases), encoding: "utf8" });
  assert.deepEqual(JSON.parse(answer), [true, false, false, false]);
});

test("the example receiver answers a forwarded message with replies, which are sent, and drops the same delivery again", async () => {
  const receiver = webhookReceiver(SECRET, ({ text }) => [`You said: ${text}`]);
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
  const again = await fetch(url, { method: "POST", headers: { ...signWebhook({ secret: SECRET, body, delivery: forward.id }) }, body });
  assert.equal(again.status, 204);
  const forged = await fetch(url, { method: "POST", headers: { ...signWebhook({ secret: "not-the-secret-at-all", body, delivery: 99 }) }, body });
  assert.equal(forged.status, 401);
});
