// Sends to 10,000 recipients at once, on both production stores: through the API, and as one
// app's reply. Each store has a limit on bound parameters per statement (SQLite 32,766, PostgreSQL
// 65,535); every bulk write must stay under it, and processing must not become a poison message.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { AppBase } from "../src/apps/app.ts";
import { resolveConfig } from "../src/config/resolve.ts";
import type { IncomingMessage } from "../src/messages/messages.ts";
import { createServer } from "../src/server/server.ts";
import { createSystem, type System } from "../src/system.ts";
import { FakeGateway } from "./support/fake-gateway.ts";
import { productionStores } from "./support/production-stores.ts";

const RECIPIENTS = 10_000;
const identities = (prefix: string) => Array.from({ length: RECIPIENTS }, (_, i) => `${prefix}${String(i).padStart(6, "0")}`);

/** `broadcast` answers every one of 10,000 subscribers, as a survey's or an alert's app would. */
class BroadcastApp extends AppBase {
  static override appName = "broadcast";

  override async handle(msg: IncomingMessage) {
    if (msg.text !== "broadcast") return false;
    const subscribers = await this.router.lookupConnections("kannel", identities("25571"));
    msg.respond("the clinic opens at 9 tomorrow", { connections: subscribers });
    return true;
  }
}

const stores = productionStores("big");

for (const store of stores) {
  describe(`10,000 recipients on ${store.name}`, { skip: store.skip, timeout: 300_000 }, () => {
    const gateway = new FakeGateway();
    let system: System;
    let app: FastifyInstance;

    before(async () => {
      await gateway.listen();
      const config = await resolveConfig({
        installedBackends: { kannel: { engine: "kannel", sendsmsUrl: `${gateway.url}/cgi-bin/sendsms` } },
        apps: [BroadcastApp],
        database: await store.database(),
      });
      system = await createSystem(config);
      app = await createServer(system);
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await system?.close();
      await gateway.close();
    });

    /** Every recipient the gateway was asked to send `text` to. */
    const recipientsOf = (text: string) => gateway.params().flatMap((p) => (p.get("text") === text ? (p.get("to") ?? "").split(" ") : []));

    test("POST /api/messages to 10,000 identities: 202, and each of them is sent once", async (t) => {
      const started = performance.now();
      const response = await app.inject({ method: "POST", url: "/api/messages", payload: { backend: "kannel", identities: identities("25570"), text: "api" } });
      assert.equal(response.statusCode, 202, response.body);
      const accepted = performance.now();
      await system.pipeline.idle();
      const { id } = response.json() as { id: string };
      const message = await system.store.getMessage(id);
      assert.equal(message?.status, "S");
      assert.equal(message?.transmissions.length, RECIPIENTS);
      assert.ok(message?.transmissions.every((tr) => tr.status === "S"));
      assert.deepEqual(recipientsOf("api").sort(), identities("25570"));
      t.diagnostic(`202 after ${(accepted - started).toFixed(0)} ms, all sent after ${(performance.now() - started).toFixed(0)} ms`);
    });

    test("an app's reply to 10,000 connections is stored and sent, and the message it answers is done", async (t) => {
      const started = performance.now();
      const response = await app.inject({ url: "/backend/kannel/?id=255799999999&text=broadcast" });
      assert.equal(response.statusCode, 200, response.body);
      await system.pipeline.idle();
      const [incoming] = await system.store.listMessages({ direction: "I", identity: "255799999999" });
      assert.equal(incoming.status, "R", incoming.error ?? "processed: every transmission received");
      // A listed message carries 20 recipients at most (and their counts); the message itself, all of them.
      const [listed] = await system.store.listMessages({ direction: "O", inResponseTo: incoming.id });
      const reply = (await system.store.getMessage(listed.id))!;
      assert.equal(reply.transmissions.length, RECIPIENTS);
      assert.ok(reply.transmissions.every((tr) => tr.status === "S"));
      assert.deepEqual(recipientsOf("the clinic opens at 9 tomorrow").sort(), identities("25571"));
      t.diagnostic(`processed and sent after ${(performance.now() - started).toFixed(0)} ms`);
    });
  });
}
