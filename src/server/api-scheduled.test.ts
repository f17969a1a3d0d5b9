import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../config/resolve.ts";
import type { StatusChange } from "../pipeline/status-events.ts";
import { createSystem, type System } from "../system.ts";
import { testDatabase } from "../../test/support/test-database.ts";
import { createServer } from "./server.ts";

const HOUR = 60 * 60_000;

describe("/api/messages: sendAt and DELETE", () => {
  let system: System;
  let app: FastifyInstance;
  before(async () => {
    const config = await resolveConfig({
      installedBackends: { db: { engine: "database" } },
      apps: ["echo"],
      database: testDatabase(),
      pipeline: { pollMs: 50, baseDelayMs: 10, maxDelayMs: 20 },
    });
    system = await createSystem(config);
    app = await createServer(system);
  });
  after(async () => {
    await app.close();
    await system.close();
  });
  const post = (payload: object) => app.inject({ method: "POST", url: "/api/messages", payload });
  const read = async (id: string) => (await app.inject({ url: `/api/messages/${id}` })).json();

  test("a message with sendAt is stored now, reads back its sendAt and nextAttemptAt, and is sent at its time, not before", async () => {
    const due = new Date(Date.now() + 1_500);
    // The same instant written in +03:00: the answer gives it in UTC.
    const local = new Date(due.getTime() + 3 * HOUR).toISOString().replace("Z", "+03:00");
    const response = await post({ backend: "db", identities: ["111", "222"], text: "at its time", sendAt: local });
    assert.equal(response.statusCode, 202);
    const { id, sendAt } = response.json();
    assert.equal(sendAt, due.toISOString());
    const waiting = await read(id);
    assert.equal(waiting.sendAt, due.toISOString());
    assert.equal(waiting.status, "P");
    assert.deepEqual(
      waiting.transmissions.map((t: { status: string; nextAttemptAt: string }) => [t.status, t.nextAttemptAt]),
      [
        ["Q", due.toISOString()],
        ["Q", due.toISOString()],
      ],
    );
    await system.pipeline.idle();
    const done = await read(id);
    assert.equal(done.status, "S");
    assert.equal(done.sendAt, due.toISOString(), "it still says when it was scheduled for");
    for (const t of done.transmissions) assert.ok(Date.parse(t.sentAt) >= due.getTime(), `sent at ${t.sentAt}, before ${due.toISOString()}`);
  });

  test("sendAt in the past, or now, means send now: no sendAt in the answer, and none on the message", async () => {
    const response = await post({ backend: "db", identities: ["333"], text: "late", sendAt: "2020-01-01T00:00:00Z" });
    assert.equal(response.statusCode, 202);
    assert.equal(response.json().sendAt, undefined);
    await system.pipeline.idle();
    const record = await read(response.json().id);
    assert.deepEqual([record.status, record.sendAt], ["S", null]);
  });

  test("sendAt without a time zone, not a date, or more than a year ahead is refused with a 400 naming the field", async () => {
    const cases = [
      "2030-01-01T08:00:00",
      "2030-01-01",
      "tomorrow",
      "2030-02-30T08:00:00Z",
      new Date(Date.now() + 367 * 24 * HOUR).toISOString(),
      12345,
      "x".repeat(5_000),
    ];
    for (const sendAt of cases) {
      const response = await post({ backend: "db", identities: ["444"], text: "no", sendAt });
      assert.equal(response.statusCode, 400, `sendAt ${JSON.stringify(sendAt).slice(0, 40)}`);
      const body = response.json();
      assert.ok(
        body.issues.some((i: { path: string }) => i.path === "sendAt"),
        body.error,
      );
      assert.match(body.error, /sendAt/);
    }
    assert.equal((await system.store.listMessages({ identity: "444" })).length, 0, "nothing was stored");
  });

  test("DELETE cancels a scheduled message: 200 with the counts, each transmission E cancelled, each recipient reported failed", async () => {
    const changes: StatusChange[] = [];
    const off = system.pipeline.events.on((change) => changes.push(change));
    try {
      const sendAt = new Date(Date.now() + HOUR).toISOString();
      const { id } = (await post({ backend: "db", identities: ["555", "556"], text: "never", sendAt })).json();
      const response = await app.inject({ method: "DELETE", url: `/api/messages/${id}` });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { id, status: "E", cancelled: 2, sending: 0, sent: 0, failed: 0 });
      const record = await read(id);
      assert.deepEqual([record.status, record.error], ["E", "cancelled"]);
      assert.deepEqual(
        record.transmissions.map((t: { status: string; error: string; nextAttemptAt: string | null; attemptLog: unknown[] }) => [
          t.status,
          t.error,
          t.nextAttemptAt,
          t.attemptLog.length,
        ]),
        [
          ["E", "cancelled", null, 0],
          ["E", "cancelled", null, 0],
        ],
      );
      assert.deepEqual(
        changes.filter((c) => c.messageId === id && c.status === "failed").map((c) => [c.identity, c.backend, c.error]),
        [
          ["555", "db", "cancelled"],
          ["556", "db", "cancelled"],
        ],
      );
      const again = await app.inject({ method: "DELETE", url: `/api/messages/${id}` });
      assert.equal(again.statusCode, 409);
      assert.match(again.json().error, /nothing left to cancel/);
    } finally {
      off();
    }
  });

  test("DELETE of a message sent already is 409 and counts it sent; of an inbound one 409; of an unknown id 404", async () => {
    const { id } = (await post({ backend: "db", identities: ["666"], text: "gone" })).json();
    await system.pipeline.idle();
    const sent = await app.inject({ method: "DELETE", url: `/api/messages/${id}` });
    assert.equal(sent.statusCode, 409);
    assert.deepEqual([sent.json().sent, sent.json().cancelled], [1, 0]);
    assert.equal((await read(id)).status, "S");
    const [connection] = await system.router.lookupConnections("db", ["777"]);
    const inbound = await system.router.receive("echo hi", connection);
    const refused = await app.inject({ method: "DELETE", url: `/api/messages/${inbound.id}` });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json().error, /inbound/);
    assert.equal((await app.inject({ method: "DELETE", url: "/api/messages/no-such-id" })).statusCode, 404);
  });

  test("a group broadcast takes sendAt too", async () => {
    const group = await system.store.createGroup({ name: "scheduled-group" });
    const contact = await system.store.createContact({ name: "Amina", connections: [{ backend: "db", identity: "888" }], groups: [group!.id] });
    const sendAt = new Date(Date.now() + HOUR).toISOString();
    const response = await post({ group: "scheduled-group", text: "later, for all", sendAt });
    assert.equal(response.statusCode, 202);
    assert.equal(response.json().sendAt, sendAt);
    const record = await read(response.json().id);
    assert.equal(record.sendAt, sendAt);
    assert.deepEqual(
      record.transmissions.map((t: { identity: string; nextAttemptAt: string }) => [t.identity, t.nextAttemptAt]),
      [[contact.connections[0].identity, sendAt]],
    );
    assert.equal((await app.inject({ method: "DELETE", url: `/api/messages/${response.json().id}` })).statusCode, 200);
  });

  test("the OpenAPI document describes sendAt and DELETE", async () => {
    const document = (await app.inject({ url: "/api/openapi.json" })).json();
    const messages = document.paths["/api/messages"].post.requestBody.content["application/json"].schema;
    assert.ok(messages.properties.sendAt, "POST body has sendAt");
    assert.ok(document.paths["/api/messages/{id}"].delete.responses["200"]);
  });
});
