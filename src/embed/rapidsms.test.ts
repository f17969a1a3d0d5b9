import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import express from "express";
import { InvalidInputError } from "../errors.ts";
import { getRouter, send } from "../router/global.ts";
import { expressRouter } from "./express.ts";
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
