import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "../../test/support/postgres.ts";
import { resolveConfig } from "../config/resolve.ts";
import { createSystem, type System } from "../system.ts";
import { createServer } from "./server.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-api-contacts-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function contactsApi(name: string, database: () => Promise<string>) {
  describe(`/api/contacts and /api/groups on ${name}`, () => {
    let system: System;
    let app: FastifyInstance;
    before(async () => {
      const config = await resolveConfig({
        installedBackends: { kannel: { engine: "database" }, vumi: { engine: "database" } },
        apps: ["echo"],
        database: await database(),
        pipeline: { pollMs: 10, baseDelayMs: 10, maxDelayMs: 20 },
      });
      system = await createSystem(config);
      app = await createServer(system);
    });
    after(async () => {
      await app?.close();
      await system?.close();
    });
    const call = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) => app.inject({ method, url, payload });

    test("a contact is created with a name, a language, fields and connections, read, changed and deleted", async () => {
      const created = await call("POST", "/api/contacts", {
        name: "Amina",
        language: "sw",
        fields: { age: 34, district: "Ilala" },
        connections: [{ backend: "kannel", identity: "+255700000001" }],
      });
      assert.equal(created.statusCode, 201);
      const amina = created.json();
      assert.equal(created.headers.location, `/api/contacts/${amina.id}`);
      assert.deepEqual(
        { name: amina.name, language: amina.language, fields: amina.fields, connections: amina.connections, groups: amina.groups },
        { name: "Amina", language: "sw", fields: { age: 34, district: "Ilala" }, connections: [{ backend: "kannel", identity: "+255700000001" }], groups: [] },
      );
      assert.deepEqual((await call("GET", `/api/contacts/${amina.id}`)).json(), amina);
      const changed = await call("PATCH", `/api/contacts/${amina.id}`, { language: "en", fields: { age: 35 } });
      assert.equal(changed.statusCode, 200);
      assert.deepEqual([changed.json().name, changed.json().language, changed.json().fields], ["Amina", "en", { age: 35 }]);
      const [connection] = await system.router.lookupConnections("kannel", ["+255700000001"]);
      assert.equal(connection.contactId, amina.id, "the connection the gateway's messages come from is the contact's");
      assert.equal((await call("DELETE", `/api/contacts/${amina.id}`)).statusCode, 204);
      assert.equal((await call("GET", `/api/contacts/${amina.id}`)).statusCode, 404);
      assert.equal((await call("DELETE", `/api/contacts/${amina.id}`)).statusCode, 404);
    });

    test("bad input is a 400 naming the field, never a 500", async () => {
      const cases: [object, RegExp][] = [
        [{ language: "not a language" }, /language: expected a language tag/],
        [{ connections: [{ backend: "twitter", identity: "1" }] }, /connections\.0: backend "twitter" is not installed; installed: kannel, vumi/],
        [{ connections: [{ backend: "kannel", identity: "" }] }, /connections\.0\.identity/],
        [{ fields: { big: "x".repeat(20_000) } }, /fields: at most 16384 characters as JSON/],
        [{ name: "\ud800" }, /name: Not valid text/],
        [{ color: "red" }, /Unrecognized key/],
      ];
      for (const [payload, reason] of cases) {
        const response = await call("POST", "/api/contacts", payload);
        assert.equal(response.statusCode, 400, JSON.stringify(payload));
        assert.match(response.json().error, reason);
      }
      const nested = await app.inject({
        method: "POST",
        url: "/api/contacts",
        headers: { "content-type": "application/json" },
        payload: `{"fields":{"deep":${"[".repeat(5_000)}1${"]".repeat(5_000)}}}`,
      });
      assert.equal(nested.statusCode, 400);
      assert.match(nested.json().error, /fields: nested at most 32 deep/);
      for (const url of ["/api/contacts/3000000000", "/api/contacts?after=3000000000", "/api/groups/3000000000/members"])
        assert.equal((await call("GET", url)).statusCode, 400, `${url}: an id no database column holds`);
      assert.equal((await call("POST", "/api/contacts", { groups: [3_000_000_000] })).statusCode, 400);
      assert.equal((await call("POST", "/api/messages", { group: 3_000_000_000, text: "x" })).statusCode, 400);
      assert.equal((await call("GET", "/api/contacts/abc")).statusCode, 400);
      assert.equal((await call("GET", "/api/contacts?limit=100000")).statusCode, 400);
      assert.equal((await call("PATCH", "/api/contacts/999999", { name: "x" })).statusCode, 404);
    });

    test("contacts and groups are listed in pages: follow next until it is null", async () => {
      const before = (await call("GET", "/api/contacts?limit=500")).json().total;
      for (let i = 0; i < 5; i++) await call("POST", "/api/contacts", { name: `page ${i}` });
      const seen: string[] = [];
      let url = "/api/contacts?limit=2";
      for (;;) {
        const page = (await call("GET", url)).json();
        assert.equal(page.total, before + 5);
        seen.push(...page.contacts.map((c: { name: string }) => c.name));
        if (page.next === null) break;
        url = `/api/contacts?limit=2&after=${page.next}`;
      }
      assert.deepEqual(seen.slice(-5), ["page 0", "page 1", "page 2", "page 3", "page 4"]);
      assert.equal(seen.length, before + 5);
    });

    test("groups: created, renamed, refused twice by name (409), members added and listed, deleted", async () => {
      const created = await call("POST", "/api/groups", { name: "reporters", description: "send weekly reports" });
      assert.equal(created.statusCode, 201);
      const group = created.json();
      assert.deepEqual([group.name, group.description, group.members], ["reporters", "send weekly reports", 0]);
      assert.equal((await call("POST", "/api/groups", { name: "reporters" })).statusCode, 409);
      const a = (await call("POST", "/api/contacts", { name: "A", connections: [{ backend: "kannel", identity: "+1001" }] })).json();
      const b = (await call("POST", "/api/contacts", { name: "B", connections: [{ backend: "vumi", identity: "b" }], groups: [group.id] })).json();
      const grown = await call("POST", `/api/groups/${group.id}/members`, { add: [a.id] });
      assert.equal(grown.json().members, 2);
      const members = (await call("GET", `/api/groups/${group.id}/members`)).json();
      assert.deepEqual(
        members.contacts.map((c: { name: string }) => c.name),
        ["A", "B"],
      );
      assert.deepEqual((await call("GET", `/api/contacts?group=${group.id}`)).json().total, 2);
      const other = (await call("POST", "/api/groups", { name: "nurses" })).json();
      assert.equal((await call("PATCH", `/api/groups/${other.id}`, { name: "reporters" })).statusCode, 409);
      assert.equal((await call("PATCH", `/api/groups/${other.id}`, { name: "midwives" })).json().name, "midwives");
      assert.equal((await call("POST", `/api/groups/${group.id}/members`, {})).statusCode, 400);
      assert.equal((await call("DELETE", `/api/groups/${other.id}`)).statusCode, 204);
      assert.equal((await call("GET", `/api/groups/${other.id}`)).statusCode, 404);
      assert.equal((await call("GET", `/api/contacts/${b.id}`)).json().groups[0].name, "reporters");
    });

    test("POST /api/messages with a group sends to every member at their own connection", async () => {
      const group = (await call("POST", "/api/groups", { name: "broadcast" })).json();
      for (const [name, backend, identity] of [
        ["C", "kannel", "+2001"],
        ["D", "vumi", "d"],
      ])
        await call("POST", "/api/contacts", { name, connections: [{ backend, identity }], groups: [group.id] });
      await call("POST", "/api/contacts", { name: "No phone", groups: [group.id] });
      const response = await call("POST", "/api/messages", { group: "broadcast", text: "Clinic closed on Friday" });
      assert.equal(response.statusCode, 202);
      const body = response.json();
      assert.deepEqual([body.transmissions, body.skipped, body.messages], [2, 1, [body.id]]);
      await system.pipeline.idle();
      const detail = (await call("GET", `/api/messages/${body.id}`)).json();
      assert.deepEqual(
        detail.transmissions.map((t: { backend: string; identity: string; status: string }) => [t.backend, t.identity, t.status]),
        [
          ["kannel", "+2001", "S"],
          ["vumi", "d", "S"],
        ],
      );
      const onVumi = await call("POST", "/api/messages", { group: group.id, backend: "vumi", text: "only vumi" });
      assert.equal(onVumi.json().transmissions, 1);
      assert.equal((await call("POST", "/api/messages", { group: "nobody-here", text: "x" })).statusCode, 404);
      const empty = (await call("POST", "/api/groups", { name: "empty" })).json();
      const refused = await call("POST", "/api/messages", { group: empty.id, text: "x" });
      assert.equal(refused.statusCode, 409);
      assert.match(refused.json().error, /group "empty" has no member with a connection to send to/);
      assert.equal((await call("POST", "/api/messages", { group: "broadcast", identities: ["1"], backend: "kannel", text: "x" })).statusCode, 400);
    });
  });
}

contactsApi("SQLite in memory", async () => "sqlite::memory:");
contactsApi("the SQLite file (the store thread)", async () => `sqlite:${join(dir, "contacts.db")}`);

describe("on PostgreSQL", { skip: POSTGRES_MISSING }, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());
  contactsApi("PostgreSQL", () => server.createDatabase("contacts_api"));
});
