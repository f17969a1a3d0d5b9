// The reporting service as it runs: its config, a Kannel in front (a local stand-in that records
// what it is asked to send), the HTTP server, and staff broadcasting to every reporter.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { createServer, createSystem, resolveConfig, type System } from "rapidsms-ts";
import { FakeGateway } from "../../../test/support/fake-gateway.ts";

const kannel = new FakeGateway();
let system: System;
let app: FastifyInstance;

before(async () => {
  await kannel.listen();
  process.env.KANNEL_SENDSMS_URL = `${kannel.url}/cgi-bin/sendsms`;
  process.env.KANNEL_PASSWORD = "kannel-pass";
  const { default: config } = await import("./rapidsms.config.ts");
  system = await createSystem(await resolveConfig({ ...config, database: "sqlite::memory:", pipeline: { pollMs: 10 } }));
  app = await createServer(system);
});
after(async () => {
  await app?.close();
  await system?.close();
  await kannel.close();
});

/** What Kannel was asked to send to `identity` (one sendsms request may name several, space-separated). */
const sentTo = (identity: string) =>
  kannel
    .params()
    .filter((p) => p.get("to")?.split(" ").includes(identity))
    .map((p) => p.get("text"));

test("reporters register through Kannel, and staff broadcast to all of them through the API", async () => {
  for (const [phone, text] of [
    ["255700000001", "REG Amina 34"],
    ["255700000002", "REG Juma 41 sw"],
  ]) {
    const response = await app.inject({ url: `/backend/kannel/?id=${phone}&text=${encodeURIComponent(text)}` });
    assert.equal(response.statusCode, 200);
  }
  await system.pipeline.idle();
  assert.deepEqual(sentTo("255700000001"), ["Thank you Amina, you are registered"]);
  assert.deepEqual(sentTo("255700000002"), ["Asante Juma, umesajiliwa"]);

  const broadcast = await app.inject({ method: "POST", url: "/api/messages", payload: { group: "reporters", text: "Reports are due on Friday" } });
  assert.equal(broadcast.statusCode, 202);
  assert.equal(broadcast.json().transmissions, 2);
  await system.pipeline.idle();
  assert.deepEqual(sentTo("255700000001").at(-1), "Reports are due on Friday");
  assert.deepEqual(sentTo("255700000002").at(-1), "Reports are due on Friday");
});

test("the config's own translation of the default response reaches a Swahili speaker", async () => {
  await app.inject({ url: "/backend/kannel/?id=255700000002&text=habari" });
  await system.pipeline.idle();
  assert.equal(sentTo("255700000002").at(-1), "Samahani, hatukuelewa. Tuma REG <JINA> <UMRI> au REPORT <IDADI>.");
  await app.inject({ url: "/backend/kannel/?id=255700000001&text=hello" });
  await system.pipeline.idle();
  assert.equal(sentTo("255700000001").at(-1), "Sorry, Afya Reports could not understand your message.");
});
