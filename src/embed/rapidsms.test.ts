import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import express from "express";
import pg from "pg";
import { FakeGateway } from "../../test/support/fake-gateway.ts";
import { POSTGRES_MISSING, startPostgres } from "../../test/support/postgres.ts";
import type { StatusChange } from "../pipeline/status-events.ts";
import { InvalidInputError } from "../errors.ts";
import { getRouter, send } from "../router/global.ts";
import { expressRouter } from "./express.ts";
import { fetchHandler } from "./fetch.ts";
import { createRapidSms } from "./rapidsms.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-embed-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the environment sets over the config, as for rapidsms start: DATABASE_URL, RAPIDSMS_API_TOKEN", async () => {
  const database = `sqlite:${join(dir, "from-env.db")}`;
  const sms = await createRapidSms(
    { installedBackends: { http: { engine: "http" } } },
    { env: { DATABASE_URL: database, RAPIDSMS_API_TOKEN: "a-token-from-the-environment" } },
  );
  assert.equal(sms.system.config.database, database);
  assert.equal(sms.system.config.apiToken, "a-token-from-the-environment");
  await sms.close();
});

test("RapidSMS's module-level send() uses the embedded router until it is closed", async () => {
  const sms = await createRapidSms({ installedBackends: { db: { engine: "database" } }, database: "sqlite::memory:" }, { env: {} });
  assert.equal(getRouter(), sms.system.router);
  const [connection] = await sms.system.router.lookupConnections("db", ["111"]);
  assert.ok((await send("from a module-level send", connection)).id);
  await sms.close();
  assert.throws(() => getRouter(), /no router is running/);
});

test("sms.send with sendAt stores it for later, and sms.cancel calls it off", async () => {
  const sms = await createRapidSms({ installedBackends: { db: { engine: "database" } }, database: "sqlite::memory:" }, { env: {} });
  try {
    const sendAt = new Date(Date.now() + 60 * 60_000);
    const id = await sms.send({ backend: "db", to: ["111", "222"], text: "in an hour", sendAt });
    assert.equal((await sms.system.store.getMessage(id))?.sendAt, sendAt.toISOString());
    assert.deepEqual(await sms.cancel(id), { cancelled: 2, sending: 0, sent: 0, failed: 0 });
    assert.deepEqual(
      (await sms.status(id))?.recipients.map((r) => [r.status, r.error]),
      [
        ["E", "cancelled"],
        ["E", "cancelled"],
      ],
    );
    assert.equal(await sms.cancel("unknown"), undefined);
    await assert.rejects(
      sms.send({ backend: "db", to: "111", text: "x", sendAt: "tomorrow" }),
      (error: unknown) => error instanceof InvalidInputError && error.field === "sendAt",
    );
  } finally {
    await sms.close();
  }
});

test("sms.send refuses what it cannot queue with the field named: a number for to, no recipient, an unknown backend", async () => {
  const sms = await createRapidSms(
    { installedBackends: { kannel: { engine: "kannel", sendsmsUrl: "http://127.0.0.1:9/" } }, database: "sqlite::memory:" },
    { env: {} },
  );
  await assert.rejects(sms.send({ backend: "kannel", to: 255700000001 as unknown as string, text: "hi" }), InvalidInputError);
  await assert.rejects(sms.send({ backend: "kannel", to: [], text: "hi" }), /No recipient/);
  await assert.rejects(sms.send({ backend: "kannel", to: "MY BANK", text: "hi" }), /without spaces/);
  await assert.rejects(sms.send({ backend: "nope", to: "1", text: "hi" }), /backend "nope" is not installed; installed: kannel/);
  await sms.close();
});

test("sms.broadcast sends to a group's members from the host's code, and says when there is nobody to send to", async () => {
  const sms = await createRapidSms({ installedBackends: { db: { engine: "database" } }, database: "sqlite::memory:" }, { env: {} });
  await sms.start();
  const { store } = sms.system;
  const nurses = (await store.createGroup({ name: "nurses" }))!;
  await store.createContact({ name: "A", connections: [{ backend: "db", identity: "501" }], groups: [nurses.id] });
  await store.createContact({ name: "B", groups: [nurses.id] });
  const sent = await sms.broadcast({ group: "nurses", text: "Shift change at 6" });
  assert.deepEqual([sent.ids.length, sent.recipients, sent.skipped], [1, 1, 1]);
  await sms.system.pipeline.idle();
  assert.equal((await sms.status(sent.ids[0]))?.status, "S");
  await assert.rejects(
    sms.broadcast({ group: "midwives", text: "x" }),
    (error: Error) => error instanceof InvalidInputError && /no group named "midwives"/.test(error.message),
  );
  await sms.close();
});

test("a host body parser mounted before RapidSMS: the request is answered at once with what to change, not left to hang", async () => {
  const sms = await createRapidSms({ installedBackends: { http: { engine: "http" } }, database: "sqlite::memory:" }, { env: {} });
  const app = express();
  app.use(express.urlencoded());
  app.use("/sms", await expressRouter(sms));
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/sms/backend/http/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "identity=1&text=hi",
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(response.status, 500);
    assert.match(await response.text(), /mount RapidSMS before express\.json\(\), express\.urlencoded\(\)/);
  } finally {
    server.close();
    await sms.close();
  }
});

test("status changes reach the host as they happen: queued and sent per recipient, then delivered or failed as the gateway reports", async () => {
  const gateway = new FakeGateway();
  await gateway.listen();
  const sms = await createRapidSms(
    {
      installedBackends: {
        kannel: { engine: "kannel", sendsmsUrl: `${gateway.url}/cgi-bin/sendsms`, deliveryReportUrl: "http://127.0.0.1:8000" },
      },
      database: `sqlite:${join(dir, "events.db")}`,
    },
    { env: {} },
  );
  const controller = new AbortController();
  const changes: StatusChange[] = [];
  const listened: string[] = [];
  const stop = sms.onStatus((change) => listened.push(`${change.identity} ${change.status}`));
  const reading = (async () => {
    for await (const change of sms.statusChanges({ signal: controller.signal })) {
      changes.push(change);
      if (changes.length === 6) controller.abort();
    }
  })();
  try {
    await sms.start();
    const handle = await fetchHandler(sms);
    const id = await sms.send({ backend: "kannel", to: ["+15550001", "+15550002"], text: "your appointment is at 9" });
    await sms.system.pipeline.waitForMessage(id);
    for (const [identity, type] of [
      ["+15550001", "1"],
      ["+15550002", "16"],
    ]) {
      const query = new URLSearchParams({ message_id: id, identity, status: type, status_text: type === "16" ? "rejected: unknown subscriber" : "ok" });
      const response = await handle(new Request(`http://sms.example.org/backend/kannel/status/?${query}`));
      assert.equal(response.status, 200, await response.text());
    }
    await reading;
    const seen = changes.map((c) => `${c.identity} ${c.status}`);
    assert.deepEqual(seen.slice(0, 2).sort(), ["+15550001 queued", "+15550002 queued"]);
    assert.deepEqual(seen.slice(2, 4).sort(), ["+15550001 sent", "+15550002 sent"]);
    assert.deepEqual(seen.slice(4), ["+15550001 delivered", "+15550002 failed"]);
    assert.ok(changes.every((c) => c.messageId === id && c.backend === "kannel" && !Number.isNaN(Date.parse(c.at))));
    assert.match(changes[5].error ?? "", /16 SMSC reject: rejected: unknown subscriber/);
    assert.deepEqual(listened, seen, "a listener and the iterator see the same changes, in the same order");
    stop();
  } finally {
    controller.abort();
    await sms.close();
    await gateway.close();
  }
});

test("a send the gateway refuses for now is reported queued again with when it is retried", async () => {
  const gateway = new FakeGateway();
  gateway.status = 503;
  await gateway.listen();
  const sms = await createRapidSms(
    {
      installedBackends: { kannel: { engine: "kannel", sendsmsUrl: `${gateway.url}/cgi-bin/sendsms` } },
      database: "sqlite::memory:",
      pipeline: { maxAttempts: 2, baseDelayMs: 60_000 },
    },
    { env: {} },
  );
  const changes: StatusChange[] = [];
  sms.onStatus((change) => changes.push(change));
  try {
    await sms.start();
    const before = Date.now();
    await sms.send({ backend: "kannel", to: "+15550003", text: "hello" });
    const deadline = Date.now() + 10_000;
    while (changes.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(
      changes.map((c) => c.status),
      ["queued", "queued"],
    );
    assert.match(changes[1].error ?? "", /503/);
    assert.ok((changes[1].retryAt ?? 0) >= before + 30_000, `retried at ${changes[1].retryAt}, a backoff after ${before}`);
  } finally {
    await sms.close();
    await gateway.close();
  }
});

describe("createRapidSms on the host's own PostgreSQL pool", { skip: POSTGRES_MISSING }, () => {
  test("RapidSMS's prefixed tables sit beside the host's, its messages go out, and closing it leaves the host's pool open", async () => {
    const postgres = await startPostgres();
    const pool = new pg.Pool({ connectionString: await postgres.createDatabase("host_app"), max: 4 });
    const gateway = new FakeGateway();
    await gateway.listen();
    try {
      await pool.query("create table messages (id serial primary key, subject text)");
      const sms = await createRapidSms(
        { installedBackends: { kannel: { engine: "kannel", sendsmsUrl: `${gateway.url}/cgi-bin/sendsms` } }, tablePrefix: "rapidsms_" },
        { env: { DATABASE_URL: "postgres://nobody@127.0.0.1:9/not-this-one" }, database: pool },
      );
      await sms.start();
      const id = await sms.send({ backend: "kannel", to: "+15550004", text: "from the host's pool" });
      assert.equal((await sms.system.pipeline.waitForMessage(id))?.status, "S");
      assert.equal((await sms.status(id))?.recipients[0].status, "S");
      await sms.close();
      assert.equal(gateway.requests.length, 1);
      const { rows } = await pool.query("select count(*)::int as n from rapidsms_messages where id = $1", [id]);
      assert.equal(rows[0].n, 1);
      assert.deepEqual((await pool.query("select subject from messages")).rows, [], "the host's own messages table is its own");
    } finally {
      await pool.end();
      await gateway.close();
      await postgres.stop();
    }
  });
});
