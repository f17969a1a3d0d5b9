import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { runInit } from "./init.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-init-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = () => {};

test("init writes a project named after its folder that depends on this version of rapidsms-ts", () => {
  runInit(join(dir, "Clinic Reminders"), quiet);
  const project = join(dir, "Clinic Reminders");
  assert.deepEqual(readdirSync(project, { recursive: true }).map(String).sort(), [
    ".gitignore",
    "README.md",
    "apps",
    "apps/register.test.ts",
    "apps/register.ts",
    "package.json",
    "rapidsms.config.ts",
    "tsconfig.json",
  ]);
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  const own = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.name, "clinic-reminders");
  assert.deepEqual(pkg.dependencies, { "rapidsms-ts": `^${own.version}` });
  assert.deepEqual(pkg.scripts, { start: "rapidsms start", test: 'node --test "apps/**/*.test.ts"' });
  assert.match(readFileSync(join(project, "rapidsms.config.ts"), "utf8"), /database: "sqlite:\.\/clinic-reminders\.db"/);
});

test("init refuses a folder that is not empty, and writes nothing there", () => {
  const taken = join(dir, "taken");
  mkdirSync(taken);
  writeFileSync(join(taken, "notes.txt"), "mine");
  assert.throws(
    () => runInit(taken, quiet),
    (error: unknown) => error instanceof ConfigError && /is not empty/.test(error.message),
  );
  assert.deepEqual(readdirSync(taken), ["notes.txt"]);
});
