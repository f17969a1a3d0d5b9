import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { openSqliteStore } from "../store/sqlite.ts";

const repo = resolve(import.meta.dirname, "../..");
const node = join(repo, "node_modules/.bin/node");
const cli = join(repo, "src/cli/main.ts");
const root = mkdtempSync(join(tmpdir(), "rapidsms-cli-opt-outs-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** The environment without the variables that would override the test's config. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !["PORT", "HOST", "RAPIDSMS_CONFIG", "RAPIDSMS_DATABASE", "DATABASE_URL", "LOG_LEVEL"].includes(key)),
);

let projects = 0;
function project(): string {
  const dir = join(root, `p${++projects}`);
  mkdirSync(dir);
  const config = { installedBackends: { db: { engine: "database" }, other: { engine: "database" } }, apps: ["echo"], database: "sqlite:./rapidsms.db" };
  writeFileSync(join(dir, "rapidsms.config.json"), JSON.stringify(config));
  return dir;
}

async function run(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(node, [cli, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"], timeout: 20_000, killSignal: "SIGKILL" });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

describe("rapidsms opt-out, opt-in, opt-outs", () => {
  test("an operator opts someone out (with who and why), sends to them end E 'opted out', the list shows them, opt-in lifts it", async () => {
    const dir = project();
    const out = await run(["opt-out", "db", "+255700000009", "--reason", "asked at the clinic"], dir);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`^\\+255700000009 on db: opted out since \\S+ \\(operator: ${userInfo().username}: asked at the clinic\\)\\n$`));
    const again = await run(["opt-out", "db", "+255700000009"], dir);
    assert.match(again.stdout, /^already \+255700000009 on db: opted out/);

    const sent = await run(["send", "--backend", "db", "--to", "+255700000009", "hello"], dir);
    assert.equal(sent.code, 1, "a send that ends E exits 1");
    assert.match(sent.stdout, /^E {2}to \+255700000009 via db: hello {2}\(opted out\)$/m);

    await run(["opt-out", "other", "42"], dir);
    const listed = await run(["opt-outs"], dir);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      listed.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(":")[0]),
      ["+255700000009 on db", "42 on other", "2 opted out"],
    );
    const onOther = await run(["opt-outs", "--backend", "other"], dir);
    assert.match(onOther.stdout, /^42 on other: .*\n1 opted out\n$/);

    const lifted = await run(["opt-in", "db", "+255700000009"], dir);
    assert.equal(lifted.code, 0, lifted.stderr);
    assert.equal(lifted.stdout, "+255700000009 on db: opted back in\n");
    const none = await run(["opt-in", "db", "+255700000009"], dir);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, "+255700000009 on db was not opted out\n");
  });

  test("a provider's reason is listed without the terminal escapes and control characters a gateway put in it", async () => {
    const dir = project();
    const store = openSqliteStore(join(dir, "rapidsms.db"));
    try {
      await store.migrate();
      const detail = "db: \x1b[2J\x1b[31m21610\x1b[0m \x1b]0;owned\x07unsubscribed\r\n+255700000008 on db: opted in\x9b1A\x08\x7f\u202eok\u202c";
      await store.optOut({ backend: "db", identity: "+255700000007", source: "provider", detail });
    } finally {
      await store.close();
    }
    const listed = await run(["opt-outs"], dir);
    assert.equal(listed.code, 0, listed.stderr);
    const controls = [...listed.stdout].filter((c) => c !== "\n" && (c < " " || (c >= "\x7f" && c <= "\x9f") || (c >= "\u202a" && c <= "\u202e")));
    assert.deepEqual(controls, [], "nothing but text and the line ends");
    const lines = listed.stdout.split("\n");
    assert.equal(lines.length, 3, "one line per opt-out, then the count");
    assert.match(lines[0], /^\+255700000007 on db: opted out since \S+ \(provider: db: 21610 unsubscribed \+255700000008 on db: opted in ok\)$/);
    assert.equal(lines[1], "1 opted out");
  });

  test("an unknown backend is refused with the installed ones named", async () => {
    const result = await run(["opt-out", "nosuch", "1"], project());
    assert.equal(result.code, 2);
    assert.match(result.stderr, /backend "nosuch" is not installed; installed: db, other/);
  });
});
