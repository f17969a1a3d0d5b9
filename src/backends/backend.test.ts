import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { resolveConfig } from "../config/resolve.ts";
import { ConfigError } from "../errors.ts";
import { createTestRouter } from "../testing/harness.ts";
import { BackendBase, type SendRequest } from "./backend.ts";
import { DatabaseBackend } from "./database/index.ts";
import { engineNames, findEngine } from "./engines.ts";
import { HttpBackend } from "./http/index.ts";
import { shippedEngineLoaders } from "./registry.ts";
import { shippedEngines } from "./shipped-engines.ts";

test("findEngine resolves engine names and RapidSMS dotted paths among the engines it is given", () => {
  assert.equal(findEngine("http", shippedEngines), HttpBackend);
  assert.equal(findEngine("database", shippedEngines), DatabaseBackend);
  assert.equal(findEngine("rapidsms.backends.database.DatabaseBackend", shippedEngines), DatabaseBackend);
  assert.deepEqual(engineNames(shippedEngines), [
    "africastalking",
    "android-sms-gateway",
    "database",
    "http",
    "httptester",
    "infobip",
    "kannel",
    "smpp",
    "telerivet",
    "twilio",
    "vonage",
    "vumi",
  ]);
});

test("findEngine of an unknown engine throws a ConfigError listing the installed engines", () => {
  assert.throws(
    () => findEngine("carrier-pigeon", shippedEngines),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /unknown engine "carrier-pigeon": installed engines are .*database.*http/);
      return true;
    },
  );
});

class Pigeon extends BackendBase<{ loft: string }> {
  static override engine = "pigeon";
  static override aliases = ["myproject.backends.Pigeon"];
  static override optionsSchema = z.object({ loft: z.string() });
  static configured: object[] = [];
  override configure(options: { loft: string }) {
    Pigeon.configured.push(options);
  }
  override async send(_request: SendRequest) {}
}

test("an engine of one's own is given to the config, by class or among the engines; nothing is registered globally", async () => {
  const byClass = await resolveConfig({ installedBackends: { coop: { engine: Pigeon, loft: "north" } } });
  assert.equal(byClass.backends.coop.engine, Pigeon);
  const byAlias = await resolveConfig(
    { installedBackends: { coop: { ENGINE: "myproject.backends.Pigeon", loft: "south" } } },
    { engines: [...shippedEngines, Pigeon] },
  );
  assert.deepEqual(byAlias.backends.coop, { engine: Pigeon, options: { loft: "south" } });
  await assert.rejects(resolveConfig({ installedBackends: { coop: { engine: "pigeon", loft: "x" } } }), /unknown engine "pigeon"/);
});

test("the framework builds a backend from validated options and configures it once", async () => {
  Pigeon.configured = [];
  const t = await createTestRouter({ backends: { coop: { engine: Pigeon, options: { loft: "north" } } } });
  const backend = t.backends.get("coop")!;
  assert.deepEqual(Pigeon.configured, [{ loft: "north" }]);
  assert.deepEqual([backend.name, String(backend), backend.config], ["coop", "coop", { loft: "north" }]);
  await t.close();
  await assert.rejects(createTestRouter({ backends: { coop: { engine: Pigeon, options: { loft: 7 } } } }), /loft/);
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
  assert.equal((t.backends.get("k") as Keeper).target, "http://127.0.0.1:9/");
  await t.close();
});

test("a backend's gateway client keeps every value of the backend's secret options out of what it returns", async () => {
  class Secretive extends BackendBase<{ credentials: Record<string, string> }> {
    static override engine = "secretive";
    static override optionsSchema = z.object({ credentials: z.record(z.string(), z.string()) });
    static override secretOptions = ["credentials"];
    readonly client = this.port.gatewayClient({ timeoutMs: 1_000 });
    override async send(_request: SendRequest) {}
  }
  const s = await createTestRouter({ backends: { s: { engine: Secretive, options: { credentials: { user: "clinic-user", key: "k3y-of-the-clinic" } } } } });
  const { client } = s.backends.get("s") as Secretive;
  assert.equal(client.redact("user clinic-user with k3y-of-the-clinic"), "user *** with ***");
  await s.close();
});

test("the registry loads, by each engine's name and aliases, the class shippedEngines lists, and lists no other", async () => {
  assert.deepEqual(
    shippedEngineLoaders.map((shipped) => shipped.engine),
    shippedEngines.map((engine) => engine.engine),
  );
  for (const shipped of shippedEngineLoaders) {
    const expected = findEngine(shipped.engine, shippedEngines);
    assert.equal(await shipped.load(), expected, shipped.engine);
    assert.deepEqual(shipped.aliases ?? [], expected.aliases, `${shipped.engine}'s aliases`);
  }
});
