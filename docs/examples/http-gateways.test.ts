// The generic http engine connected, from config alone, to the documented APIs of two real
// gateways: SMSGlobal's HTTP API (form GET, a text answer, DLRs as GET with msgid/dlrstatus)
// and Clickatell's Platform HTTP API (GET with apiKey, a JSON answer, status callbacks as JSON POST).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { type BackendSettings, createServer, createSystem, resolveConfig, type System } from "rapidsms-ts";
import { FakeGateway } from "../../test/support/fake-gateway.ts";
import { clickatell, smsGlobal } from "./http-gateways.ts";

const TOKEN = "a-token-of-our-own-1234";

async function start(backend: BackendSettings) {
  const config = await resolveConfig({
    installedBackends: { gw: backend },
    apps: ["echo"],
    database: "sqlite::memory:",
    pipeline: { pollMs: 10, baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 },
  });
  const system = await createSystem(config);
  const app = await createServer(system);
  return { system, app };
}

async function transmission(system: System, id: string) {
  await system.pipeline.idle();
  const record = (await system.store.getMessage(id))!;
  return (await system.store.getTransmission(record.transmissions[0].id))!;
}

describe("SMSGlobal's HTTP API, configured", () => {
  const gateway = new FakeGateway();
  let system: System;
  let app: FastifyInstance;
  let ids = 6764842339385521;
  before(async () => {
    await gateway.listen();
    gateway.answerFor = () => `OK: 0; Sent queued message ID: 941596d028699601 SMSGlobalMsgID:${++ids}`;
    ({ system, app } = await start(
      smsGlobal({ SMSGLOBAL_URL: `${gateway.url}/http-api.php`, SMSGLOBAL_USER: "clinic", SMSGLOBAL_PASSWORD: "s3cret-pass", SMSGLOBAL_INBOUND_TOKEN: TOKEN }),
    ));
  });
  after(async () => {
    await app?.close();
    await system?.close();
    await gateway.close();
  });

  test("a send is the documented GET: action, user, password, from, to, text; the SMSGlobalMsgID is kept", async () => {
    const [connection] = await system.router.lookupConnections("gw", ["61400000001"]);
    const msg = await system.router.send("Clinic opens at 8", connection);
    const sent = await transmission(system, msg.id);
    assert.equal(sent.status, "S");
    const request = gateway.requests.at(-1)!;
    assert.equal(request.method, "GET");
    const url = new URL(request.url, "http://x");
    assert.equal(url.pathname, "/http-api.php");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      action: "sendsms",
      user: "clinic",
      password: "s3cret-pass",
      from: "61409317436",
      to: "61400000001",
      text: "Clinic opens at 8",
    });
    assert.equal(sent.externalId, String(ids));
    assert.ok(!JSON.stringify(sent.attemptLog).includes("s3cret-pass"), "the password is not in the attempt log");
  });

  test("its delivery receipt (GET msgid, dlrstatus, dlr_err) marks the message D and is answered OK; UNDELIV marks it E", async () => {
    const [connection] = await system.router.lookupConnections("gw", ["61400000002"]);
    const first = await system.router.send("one", connection);
    const delivered = await transmission(system, first.id);
    const dlr = await app.inject({ url: `/backend/gw/status/?token=${TOKEN}&msgid=${delivered.externalId}&dlrstatus=DELIVRD&dlr_err=000&donedate=2612011200` });
    assert.equal(dlr.statusCode, 200);
    assert.equal(dlr.body, "OK");
    assert.equal((await system.store.getMessage(first.id))?.status, "D");
    const second = await system.router.send("two", connection);
    const failed = await transmission(system, second.id);
    await app.inject({ url: `/backend/gw/status/?token=${TOKEN}&msgid=${failed.externalId}&dlrstatus=UNDELIV&dlr_err=001` });
    const record = await system.store.getTransmission(failed.id);
    assert.equal(record?.status, "E");
    assert.deepEqual(
      record?.deliveryReports.map((r) => r.detail),
      ["UNDELIV: 001"],
    );
  });

  test("a receipt without the token is a 403; an unknown status, or none, is a 400 that says which; an id not sent yet is kept", async () => {
    assert.equal((await app.inject({ url: "/backend/gw/status/?msgid=1&dlrstatus=DELIVRD" })).statusCode, 403);
    assert.equal((await app.inject({ url: `/backend/gw/status/?token=wrong-token-000000000&msgid=1&dlrstatus=DELIVRD` })).statusCode, 403);
    const unknownStatus = await app.inject({ url: `/backend/gw/status/?token=${TOKEN}&msgid=1&dlrstatus=WHATEVER` });
    assert.equal(unknownStatus.statusCode, 400);
    assert.match(unknownStatus.body, /dlrstatus: unknown status "WHATEVER": map it in the backend's status\.statuses option/);
    const missing = await app.inject({ url: `/backend/gw/status/?token=${TOKEN}&dlrstatus=DELIVRD` });
    assert.match(missing.body, /^form failed to validate\nmsgid: This field is required\.$/);
    const early = await app.inject({ url: `/backend/gw/status/?token=${TOKEN}&msgid=99999999999&dlrstatus=DELIVRD` });
    assert.equal(early.statusCode, 200, "a report may overtake its send's answer: it waits for the id");
  });

  test("an inbound message needs the token too, and the token is not kept among the message's fields", async () => {
    assert.equal((await app.inject({ url: "/backend/gw/?identity=61400000009&text=echo+hi" })).statusCode, 403);
    const accepted = await app.inject({ url: `/backend/gw/?identity=61400000009&token=${TOKEN}&text=echo+hi` });
    assert.equal(accepted.statusCode, 200);
    await system.pipeline.idle();
    const [inbound] = await system.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(inbound.text, "echo hi");
    assert.ok(!JSON.stringify(inbound.fields).includes(TOKEN));
  });

  test("an answer without an id (SMSGlobal's ERROR lines) fails the send, with the gateway's words in the attempt log", async () => {
    gateway.answerFor = () => "ERROR: 8 Invalid username or password";
    try {
      const [connection] = await system.router.lookupConnections("gw", ["61400000004"]);
      const msg = await system.router.send("three", connection);
      const failed = await transmission(system, msg.id);
      assert.equal(failed.status, "E");
      assert.match(failed.error ?? "", /holds no message id .*ERROR: 8 Invalid username or password/);
    } finally {
      gateway.answerFor = () => `OK: 0; Sent queued message ID: 941596d028699601 SMSGlobalMsgID:${++ids}`;
    }
  });
});

describe("Clickatell's Platform HTTP API, configured", () => {
  const gateway = new FakeGateway();
  let system: System;
  let app: FastifyInstance;
  let ids = 0;
  before(async () => {
    await gateway.listen();
    gateway.answerFor = (request) => {
      const to = new URL(request.url, "http://x").searchParams.get("to");
      return JSON.stringify({
        messages: [{ apiMessageId: `c${++ids}e8a0f1b2`, accepted: true, to, errorCode: null, error: null, errorDescription: null }],
        errorCode: null,
      });
    };
    ({ system, app } = await start(
      clickatell({ CLICKATELL_URL: `${gateway.url}/messages/http/send`, CLICKATELL_API_KEY: "clickatell-api-key-123", CLICKATELL_INBOUND_TOKEN: TOKEN }),
    ));
  });
  after(async () => {
    await app?.close();
    await system?.close();
    await gateway.close();
  });

  test("a send is GET apiKey, to, content; the apiMessageId of the JSON answer is kept", async () => {
    const [connection] = await system.router.lookupConnections("gw", ["27999000001"]);
    const msg = await system.router.send("Your results are ready", connection);
    const sent = await transmission(system, msg.id);
    assert.deepEqual(Object.fromEntries(new URL(gateway.requests.at(-1)!.url, "http://x").searchParams), {
      apiKey: "clickatell-api-key-123",
      to: "27999000001",
      content: "Your results are ready",
    });
    assert.equal(sent.externalId, `c${ids}e8a0f1b2`);
  });

  test("its status callback (JSON POST) moves the message to S then D, keeping the description", async () => {
    const [connection] = await system.router.lookupConnections("gw", ["27999000002"]);
    const msg = await system.router.send("Reminder", connection);
    const sent = await transmission(system, msg.id);
    const callback = (status: string, statusCode: number, statusDescription: string) =>
      app.inject({
        method: "POST",
        url: `/backend/gw/status/?token=${TOKEN}`,
        payload: {
          integrationName: "clinic",
          messageId: sent.externalId,
          requestId: "r1",
          to: "27999000002",
          statusCode,
          status,
          statusDescription,
          timestamp: 1764590400000,
        },
      });
    assert.equal((await callback("DELIVERED_TO_GATEWAY", 3, "Delivered to gateway")).statusCode, 200);
    assert.equal((await system.store.getMessage(msg.id))?.status, "S");
    assert.equal((await callback("RECEIVED_BY_RECIPIENT", 4, "Received by recipient")).statusCode, 200);
    const done = await system.store.getTransmission(sent.id);
    assert.equal(done?.status, "D");
    assert.deepEqual(
      done?.deliveryReports.map((r) => r.detail),
      ["DELIVERED_TO_GATEWAY: Delivered to gateway", "RECEIVED_BY_RECIPIENT: Received by recipient"],
    );
    assert.equal((await app.inject({ url: `/backend/gw/status/?token=${TOKEN}&messageId=x&status=y` })).statusCode, 405, "the callback is POST only");
  });

  test("a JSON body carries the text when sendBody is json", async () => {
    const json = await start({
      engine: "http",
      sendUrl: `${gateway.url}/rest`,
      sendBody: "json",
      sendNames: { identityName: "to", textName: "content" },
      sendHeaders: { authorization: "Bearer rest-key-0001" },
    });
    try {
      const [connection] = await json.system.router.lookupConnections("gw", ["27999000003"]);
      await json.system.router.send("JSON please", connection);
      await json.system.pipeline.idle();
      const request = gateway.requests.at(-1)!;
      assert.equal(request.method, "POST");
      assert.equal(request.headers["content-type"], "application/json");
      assert.equal(request.headers.authorization, "Bearer rest-key-0001");
      assert.deepEqual(JSON.parse(request.body), { to: "27999000003", content: "JSON please" });
    } finally {
      await json.app.close();
      await json.system.close();
    }
  });
});
