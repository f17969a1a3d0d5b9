import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { DefaultResponseApp } from "../apps/default-response.ts";
import { EchoApp, PingApp } from "../apps/echo.ts";
import { DatabaseBackend } from "../backends/database/index.ts";
import { HttpTesterBackend } from "../backends/message-tester/index.ts";
import { ConfigError } from "../errors.ts";
import { loadConfig } from "./load.ts";

const root = mkdtempSync(join(tmpdir(), "rapidsms-load-"));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
/** A fresh folder holding the given files. */
function project(files: Record<string, string | object> = {}): string {
  const dir = join(root, `p${++dirs}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return dir;
}

const dbConfig = { installedBackends: { db: { engine: "database" } }, apps: ["echo"], database: "sqlite:./from-file.db", port: 8100 };

test("finds rapidsms.config.json in the working directory and resolves relative paths from its folder", async () => {
  const cwd = project({ "rapidsms.config.json": dbConfig });
  const config = await loadConfig({ cwd, env: {} });
  assert.equal(config.source, join(cwd, "rapidsms.config.json"));
  assert.equal(config.baseDir, cwd);
  assert.equal(config.backends.db.engine, DatabaseBackend);
  assert.deepEqual(config.apps, [EchoApp]);
  assert.equal(config.database, "sqlite:./from-file.db");
  assert.equal(config.port, 8100);
});

test("--config PATH wins over the working directory's config file and over RAPIDSMS_CONFIG", async () => {
  const cwd = project({
    "rapidsms.config.json": dbConfig,
    "other/chosen.json": { installedBackends: { tester: { engine: "httptester" } } },
    "env.json": { installedBackends: { fromenv: { engine: "httptester" } } },
  });
  const config = await loadConfig({ cwd, configPath: "other/chosen.json", env: { RAPIDSMS_CONFIG: join(cwd, "env.json") } });
  assert.deepEqual(Object.keys(config.backends), ["tester"]);
  assert.equal(config.source, join(cwd, "other", "chosen.json"));
  assert.equal(config.baseDir, join(cwd, "other"));
});

test("RAPIDSMS_CONFIG wins over the working directory's config file", async () => {
  const cwd = project({ "rapidsms.config.json": dbConfig, "env.json": { installedBackends: { fromenv: { engine: "httptester" } } } });
  const config = await loadConfig({ cwd, env: { RAPIDSMS_CONFIG: "env.json" } });
  assert.deepEqual(Object.keys(config.backends), ["fromenv"]);
});

test("a --config path that does not exist is a ConfigError naming the path", async () => {
  const cwd = project();
  await assert.rejects(
    loadConfig({ cwd, configPath: "missing.json", env: {} }),
    (error: unknown) => error instanceof ConfigError && error.message.includes(join(cwd, "missing.json")) && error.message.includes("does not exist"),
  );
});

test("a config file that is not valid JSON is a ConfigError naming the file", async () => {
  const cwd = project({ "rapidsms.config.json": "{ installedBackends: " });
  await assert.rejects(
    loadConfig({ cwd, env: {} }),
    (error: unknown) => error instanceof ConfigError && error.message.includes("rapidsms.config.json") && error.message.includes("not valid JSON"),
  );
});

test("an invalid backend in a config file is a ConfigError naming the backend and the engine", async () => {
  const cwd = project({ "rapidsms.config.json": { installedBackends: { sms: { engine: "nope" } } } });
  await assert.rejects(
    loadConfig({ cwd, env: {} }),
    (error: unknown) => error instanceof ConfigError && /backend "sms": unknown engine "nope"/.test(error.message),
  );
});

test("PORT, HOST and RAPIDSMS_DATABASE in the environment override the file", async () => {
  const cwd = project({ "rapidsms.config.json": { ...dbConfig, host: "0.0.0.0" } });
  const config = await loadConfig({ cwd, env: { PORT: "9123", HOST: "127.0.0.5", RAPIDSMS_DATABASE: "sqlite::memory:" } });
  assert.equal(config.port, 9123);
  assert.equal(config.host, "127.0.0.5");
  assert.equal(config.database, "sqlite::memory:");
});

test("command-line overrides win over the environment", async () => {
  const cwd = project({ "rapidsms.config.json": dbConfig });
  const config = await loadConfig({ cwd, env: { PORT: "9123" }, overrides: { port: 9200, host: undefined } });
  assert.equal(config.port, 9200);
  assert.equal(config.host, "127.0.0.1");
});

test("a PORT that is not a number is a ConfigError naming port", async () => {
  const cwd = project({ "rapidsms.config.json": dbConfig });
  await assert.rejects(loadConfig({ cwd, env: { PORT: "http" } }), (error: unknown) => error instanceof ConfigError && /port/.test(error.message));
});

test("without a config file the embedded default runs the message tester with echo, ping and default on ./rapidsms.db", async () => {
  const cwd = project();
  const config = await loadConfig({ cwd, env: {} });
  assert.equal(config.source, null);
  assert.equal(config.baseDir, cwd);
  assert.deepEqual(Object.keys(config.backends), ["httptester"]);
  assert.equal(config.backends.httptester.engine, HttpTesterBackend);
  assert.deepEqual(config.apps, [EchoApp, PingApp, DefaultResponseApp]);
  assert.equal(config.database, "sqlite:./rapidsms.db");
});

test("a rapidsms.config.ts exporting defineConfig({...}) is loaded, with apps relative to it", async () => {
  const src = join(import.meta.dirname, "..");
  const cwd = project({
    "rapidsms.config.ts": [
      `import { defineConfig } from ${JSON.stringify(pathToFileURL(join(src, "config/config.ts")).href)};`,
      `import { DatabaseBackend } from ${JSON.stringify(pathToFileURL(join(src, "backends/database/index.ts")).href)};`,
      `export default defineConfig({`,
      `  installedBackends: { db: { engine: DatabaseBackend }, tester: { engine: "httptester" } },`,
      `  apps: ["ping", "./apps/quiet.ts"],`,
      `  projectName: "Clinic",`,
      `});`,
    ].join("\n"),
    "apps/quiet.ts": `import { AppBase } from ${JSON.stringify(pathToFileURL(join(src, "apps/app.ts")).href)};\nexport class QuietApp extends AppBase {}\n`,
  });
  const config = await loadConfig({ cwd, env: {} });
  assert.equal(config.source, join(cwd, "rapidsms.config.ts"));
  assert.equal(config.backends.db.engine, DatabaseBackend);
  assert.equal(config.backends.tester.engine, HttpTesterBackend);
  assert.equal(config.apps[0], PingApp);
  assert.equal(config.apps[1].name, "QuietApp");
  assert.equal(config.projectName, "Clinic");
});

test("a .ts config file without a default export is a ConfigError saying how to export it", async () => {
  const cwd = project({ "rapidsms.config.ts": "export const config = {};\n" });
  await assert.rejects(loadConfig({ cwd, env: {} }), (error: unknown) => error instanceof ConfigError && error.message.includes("export default defineConfig"));
});
