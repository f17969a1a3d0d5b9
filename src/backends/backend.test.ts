import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { createTestRouter } from "../testing/harness.ts";
import { BackendBase, type SendRequest } from "./backend.ts";
import { DatabaseBackend } from "./database/index.ts";
import { engineNames, registerEngine } from "./engines.ts";
import { HttpBackend } from "./http/index.ts";
import "./registry.ts";

test("BackendBase.find resolves engine names and RapidSMS dotted paths", () => {
  assert.equal(BackendBase.find("http"), HttpBackend);
  assert.equal(BackendBase.find("database"), DatabaseBackend);
  assert.equal(BackendBase.find("rapidsms.backends.database.DatabaseBackend"), DatabaseBackend);
});

test("BackendBase.find of an unknown engine throws a ConfigError listing the installed engines", () => {
  assert.throws(
    () => BackendBase.find("carrier-pigeon"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /unknown engine "carrier-pigeon": installed engines are .*database.*http/);
      return true;
    },
  );
});

test("a registered engine is found by name and alias; configure receives the options once", async () => {
  const configured: object[] = [];
  class Pigeon extends BackendBase<{ loft: string }> {
    static override engine = "pigeon";
    static override aliases = ["myproject.backends.Pigeon"];
    static override optionsSchema = z.object({ loft: z.string() });
    override configure(options: { loft: string }) {
      configured.push(options);
    }
    override async send(_request: SendRequest) {}
  }
  registerEngine(Pigeon);
  assert.ok(engineNames().includes("pigeon"));
  assert.equal(BackendBase.find("myproject.backends.Pigeon"), Pigeon);
  const t = await createTestRouter({ backends: { coop: { engine: Pigeon, options: { loft: "north" } } } });
  const backend = t.router.backends.get("coop")!;
  assert.deepEqual(configured, [{ loft: "north" }]);
  assert.equal(backend.name, "coop");
  assert.equal(String(backend), "coop");
  assert.deepEqual(backend.config, { loft: "north" });
  await t.close();
});

test("a backend's model is its persisted Backend row, created on first use", async () => {
  const t = await createTestRouter();
  const backend = t.router.backends.get("mockbackend")!;
  const row = await backend.model;
  assert.equal(row.name, "mockbackend");
  assert.deepEqual(await backend.model, row);
  assert.deepEqual(await t.store.getOrCreateBackend("mockbackend"), row);
  await t.close();
});

test("what configure sets survives the subclass's own field initialisers", async () => {
  class Keeper extends BackendBase<{ url: string }> {
    static override engine = "keeper";
    static override optionsSchema = z.object({ url: z.string() });
    target: string | undefined = undefined;
    override configure(options: { url: string }) {
      this.target = options.url;
    }
    override async send(_request: SendRequest) {}
  }
  const t = await createTestRouter({ backends: { k: { engine: Keeper, options: { url: "http://127.0.0.1:9/" } } } });
  assert.equal((t.router.backends.get("k") as Keeper).target, "http://127.0.0.1:9/");
  await t.close();
});
