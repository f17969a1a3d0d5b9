import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createRapidSms, type RapidSms } from "rapidsms-ts/node";
import { FakeGateway } from "../../test/support/fake-gateway.ts";
import { POSTGRES_MISSING, startPostgres } from "../../test/support/postgres.ts";
import { startExpressApp } from "./embed-express.ts";
import { startFastifyApp } from "./embed-fastify.ts";
import { startHonoApp } from "./embed-hono.ts";
import { rapidsmsInHostDatabase } from "./embed-host-database.ts";
import { startNodeApp } from "./embed-node.ts";
import { followStatus } from "./embed-status-events.ts";

const guide = readFileSync(new URL("../embedding.md", import.meta.url), "utf8");
const dir = mkdtempSync(join(tmpdir(), "rapidsms-embed-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("every TypeScript block in docs/embedding.md is an excerpt of a file in docs/examples", () => {
  const blocks = [...guide.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(([, code]) => code.trimEnd());
  assert.ok(blocks.length >= 4);
  const examples = readdirSync(new URL("./", import.meta.url))
    .filter((name) => name.endsWith(".ts"))
    .map((name) => readFileSync(new URL(name, import.meta.url), "utf8"));
  for (const block of blocks)
    assert.ok(
      examples.some((example) => example.includes(block)),
      `not found in docs/examples:\n${block}`,
    );
});

async function eventually(done: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const hosts = [
  ["Express", startExpressApp],
  ["Fastify", startFastifyApp],
  ["Hono (fetch)", startHonoApp],
  ["node:http", startNodeApp],
] as const;

for (const [host, start] of hosts) {
  describe(`RapidSMS mounted in ${host} under /sms`, () => {
    const gateway = new FakeGateway();
    let app: { url: string; sms: RapidSms; close(): Promise<void> };
    before(async () => {
      await gateway.listen();
      app = await start({
        installedBackends: { kannel: { engine: "kannel", sendsmsUrl: `${gateway.url}/cgi-bin/sendsms` }, http: { engine: "http" } },
        apps: ["echo"],
        database: `sqlite:${join(dir, `${host.replace(/\W/g, "")}.db`)}`,
      });
    });
    after(async () => {
      await app?.close();
      await gateway.close();
    });

    const sentTo = (identity: string, text: string) => gateway.params().some((p) => p.get("to") === identity && p.get("text") === text);

    test("a message from the gateway is answered 200 and its echo goes back through the gateway", async () => {
      const response = await fetch(`${app.url}/sms/backend/kannel/?id=255700000001&text=echo+hi`);
      assert.equal(response.status, 200);
      await eventually(() => sentTo("255700000001", "hi"), "the echo at the gateway");
    });

    test("a form POST is read by RapidSMS itself, strictly in its charset", async () => {
      const form = { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" };
      const ok = await fetch(`${app.url}/sms/backend/http/`, { method: "POST", headers: form, body: "identity=1&text=caf%C3%A9" });
      assert.equal(ok.status, 200);
      const bad = await fetch(`${app.url}/sms/backend/http/`, { method: "POST", headers: form, body: "identity=1&text=caf%E9" });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /^form failed to validate\n/);
    });

    test("the host's own route sends with sms.send, and sms.status follows it to S", async () => {
      const response = await fetch(`${app.url}/appointments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ phone: "255700000002", date: "Monday" }),
      });
      assert.equal(response.status, 202);
      const { id } = (await response.json()) as { id: string };
      await eventually(async () => (await app.sms.status(id))?.status === "S", "the send");
      assert.ok(sentTo("255700000002", "See you on Monday"));
      const status = await app.sms.status(id);
      assert.deepEqual(status?.recipients, [{ backend: "kannel", identity: "255700000002", status: "S", error: null }]);
      const api = await fetch(`${app.url}/sms/api/messages/${id}`);
      assert.equal(api.status, 200, "this machine's client may use /api without a token, as with the server");
    });

    test("/sms/healthz answers, and a path outside RapidSMS's is the host's", async () => {
      const health = await fetch(`${app.url}/sms/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, "ok");
      assert.equal((await fetch(`${app.url}/elsewhere`)).status, 404);
    });
  });
}

for (const [host, start] of hosts) {
  test(`closing the ${host} host is not held up by a client's spare connection that never sent a request`, { timeout: 30_000 }, async () => {
    const app = await start({ installedBackends: { http: { engine: "http" } }, apps: ["echo"], database: "sqlite::memory:" });
    const { hostname, port } = new URL(app.url);
    const spare = connect({ host: hostname, port: Number(port) });
    await once(spare, "connect");
    // A browser opens such sockets ahead of its next request; Node's server does not count them as idle.
    await app.close();
    spare.destroy();
  });
}

test("the guide's status example: staff hear of a failed message, and every change marks the appointment, until the signal aborts", async () => {
  const sms = await createRapidSms(
    {
      installedBackends: { kannel: { engine: "kannel", sendsmsUrl: "http://127.0.0.1:9/cgi-bin/sendsms" } },
      database: "sqlite::memory:",
      pipeline: { maxAttempts: 1 },
    },
    { env: {} },
  );
  const controller = new AbortController();
  const told: string[] = [];
  const marked: string[] = [];
  const following = followStatus(
    sms,
    {
      notifyStaff: (identity, error) => told.push(`${identity}: ${error}`),
      markAppointment: async (change) => {
        marked.push(change.status);
        if (change.status === "failed") controller.abort();
      },
    },
    controller.signal,
  );
  try {
    await sms.start();
    await sms.send({ backend: "kannel", to: "255700000009", text: "See you on Monday" });
    await following;
    assert.deepEqual(marked, ["queued", "failed"]);
    assert.equal(told.length, 1);
    assert.match(told[0], /^255700000009: kannel encountered an error while sending/);
  } finally {
    controller.abort();
    await sms.close();
  }
});

describe("the guide's host database example", { skip: POSTGRES_MISSING }, () => {
  test("RapidSMS's tables get the prefix in the host's database, and a message goes out through the host's pool", async () => {
    const postgres = await startPostgres();
    const gateway = new FakeGateway();
    await gateway.listen();
    const { sms, pool } = await rapidsmsInHostDatabase(await postgres.createDatabase("guide_host"), `${gateway.url}/cgi-bin/sendsms`);
    try {
      await sms.start();
      const id = await sms.send({ backend: "kannel", to: "255700000010", text: "The clinic opens at 9" });
      await eventually(async () => (await sms.status(id))?.status === "S", "the message to be sent");
      const tables = await pool.query("select table_name from information_schema.tables where table_schema = 'public' order by 1");
      assert.ok(tables.rows.length > 10);
      assert.deepEqual(
        tables.rows.filter((row) => !row.table_name.startsWith("rapidsms_")),
        [],
      );
    } finally {
      await sms.close();
      await pool.end();
      await gateway.close();
      await postgres.stop();
    }
  });
});
