import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "../../test/support/postgres.ts";
import { openStore } from "../store/open.ts";
import { freePort } from "../../test/support/free-port.ts";
import { startServer } from "../../test/support/server-process.ts";
import { startNpmSmsc } from "../../test/support/smpp-npm-smsc.ts";

const repo = resolve(import.meta.dirname, "../..");
const node = join(repo, "node_modules/.bin/node");
const cli = join(repo, "src/cli/main.ts");
const bin = join(repo, "bin/rapidsms.js");

const root = mkdtempSync(join(tmpdir(), "rapidsms-cli-"));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

/** The environment without the variables that would override the test's config. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !["PORT", "HOST", "RAPIDSMS_CONFIG", "RAPIDSMS_DATABASE", "DATABASE_URL", "LOG_LEVEL"].includes(key)),
);

const config = {
  installedBackends: {
    httptester: { engine: "httptester" },
    db: { engine: "database" },
    gw: { engine: "http", sendParams: { username: "clinic", password: "s3cret" } },
  },
  apps: ["echo", "ping", "default"],
  database: "sqlite:./rapidsms.db",
};

let projects = 0;
/** A fresh folder with a config file (and its own SQLite file next to it). */
function project(content: object = config, name = "rapidsms.config.json"): string {
  const dir = join(root, `p${++projects}`);
  mkdirSync(dir);
  writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
}

function spawnCli(args: readonly string[], cwd: string, script = cli): ChildProcess {
  const child = spawn(node, [script, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"], timeout: 20_000, killSignal: "SIGKILL" });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(args: readonly string[], cwd: string, script = cli): Promise<Result> {
  const child = spawnCli(args, cwd, script);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

describe("rapidsms CLI", { concurrency: 4 }, () => {
  test("backends lists each backend's name, engine and inbound URL, with sendParams values redacted", async () => {
    const result = await run(["backends"], project());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^httptester\n {2}engine: {2}httptester\n {2}inbound: \/backend\/httptester\/$/m);
    assert.match(result.stdout, /^db\n {2}engine: {2}database\n {2}inbound: none \(send only\)$/m);
    assert.match(result.stdout, /^gw\n {2}engine: {2}http\n {2}inbound: \/backend\/gw\/$/m);
    assert.match(result.stdout, /"sendParams":\{"username":"\*\*\*","password":"\*\*\*"\}/);
    assert.ok(!result.stdout.includes("s3cret") && !result.stderr.includes("s3cret"));
  });

  test("backends prints the whole URLs to give each provider when publicUrl is set, and never a provider's secret", async () => {
    const twilio = { engine: "twilio", accountSid: `AC${"0".repeat(32)}`, authToken: "tw-auth-token-secret-0123", from: "+14155550199" };
    const result = await run(
      ["backends"],
      project({ installedBackends: { tw: twilio }, publicUrl: "https://sms.example.org/rapidsms", apiToken: "cli-api-token-0123456789" }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^tw\n {2}engine: {2}twilio\n {2}inbound: https:\/\/sms\.example\.org\/rapidsms\/backend\/tw\/, https:\/\/sms\.example\.org\/rapidsms\/backend\/tw\/status\/$/m,
    );
    assert.ok(!result.stdout.includes("tw-auth-token-secret-0123") && !result.stderr.includes("tw-auth-token-secret-0123"));
  });

  test("backends shows each SMPP bind's state in the server running at the config's port, and says so when none runs", async () => {
    const smsc = await startNpmSmsc();
    const port = await freePort();
    const dir = project({
      installedBackends: { operator: { engine: "smpp", host: "127.0.0.1", port: smsc.port, systemId: "rapidsms", password: "secret", binds: 2 } },
      database: "sqlite:./rapidsms.db",
      port,
    });
    try {
      const offline = await run(["backends"], dir);
      assert.equal(offline.code, 0, offline.stderr);
      assert.match(offline.stdout, new RegExp(`live:    no server answers at http://127.0.0.1:${port}/healthz`));
      const server = await startServer(join(dir, "rapidsms.config.json"), port);
      try {
        let live = "";
        for (let i = 0; i < 100 && !/transceiver 2: bound/.test(live); i++) live = (await run(["backends"], dir)).stdout;
        assert.match(live, /live: {4}ok\n {4}transceiver 1: bound since \S+\n {4}transceiver 2: bound since /);
        assert.match(live, /counts: pdusSent \d+/);
        assert.doesNotMatch(live, /secret/);
      } finally {
        server.child.kill("SIGTERM");
        await server.exited;
      }
    } finally {
      await smsc.stop();
    }
  });

  test("backends lists a backend of each provider's engine with every URL to give the provider: inbound, reports, USSD", async () => {
    const installedBackends = {
      at: { engine: "africastalking", username: "clinic", apiKey: "atsk_cli_0123456789", inboundToken: "cli-inbound-token-0123" },
      ib: { engine: "infobip", baseUrl: "https://x.api.infobip.com", apiKey: "ib-cli-key-0123456" },
      asg: { engine: "android-sms-gateway", username: "u", password: "asg-cli-password-0123" },
      tr: { engine: "telerivet", apiKey: "tr-cli-key-0123456", projectId: "PJ1" },
      vn: { engine: "vonage", apiKey: "abcd1234", apiSecret: "vn-cli-secret-0123", from: "Acme" },
    };
    const result = await run(["backends"], project({ installedBackends, publicUrl: "https://sms.example.org", apiToken: "cli-api-token-0123456789" }));
    assert.equal(result.code, 0, result.stderr);
    const base = "https://sms.example.org/backend";
    for (const [name, views] of [
      ["at", ["", "status/", "ussd/"]],
      ["ib", ["", "status/"]],
      ["asg", ["", "status/"]],
      ["tr", ["", "status/"]],
      ["vn", ["", "status/"]],
    ] as const) {
      assert.ok(result.stdout.includes(`inbound: ${views.map((v) => `${base}/${name}/${v}`).join(", ")}\n`), `${name}:\n${result.stdout}`);
    }
    for (const secret of [
      "atsk_cli_0123456789",
      "cli-inbound-token-0123",
      "ib-cli-key-0123456",
      "asg-cli-password-0123",
      "tr-cli-key-0123456",
      "vn-cli-secret-0123",
    ])
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), secret);
  });

  test("receive runs the message through the apps and prints the echo reply with status S", async () => {
    const result = await run(["receive", "--backend", "httptester", "--from", "555", "echo hi"], project());
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.match(lines[0], /^message [0-9a-f]{32}: R$/);
    assert.deepEqual(lines.slice(1), ["S  to 555 via httptester: hi"]);
  });

  test("receive of text no app understands prints the default response", async () => {
    const result = await run(["receive", "--backend", "httptester", "--from", "556", "what is this"], project());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^S {2}to 556 via httptester: Sorry, RapidSMS could not understand your message\.$/m);
  });

  test("send through a database backend prints S for the recipient and exits 0", async () => {
    const result = await run(["send", "--backend", "db", "--to", "111", "hello"], project());
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.match(lines[0], /^message [0-9a-f]{32}: S$/);
    assert.deepEqual(lines.slice(1), ["S  to 111 via db: hello"]);
  });

  test("send --to takes several identities, repeated or separated by commas", async () => {
    const result = await run(["send", "--backend", "db", "--to", "111,112", "--to", "113", "hello all"], project());
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n").slice(1).sort();
    assert.deepEqual(lines, ["S  to 111 via db: hello all", "S  to 112 via db: hello all", "S  to 113 via db: hello all"]);
  });

  test("send --group sends to every member at their own connection, and says who has none", async () => {
    const dir = project();
    const store = openStore("sqlite:./rapidsms.db", dir);
    await store.migrate();
    const reporters = (await store.createGroup({ name: "reporters" }))!;
    await store.createContact({ name: "A", connections: [{ backend: "db", identity: "301" }], groups: [reporters.id] });
    await store.createContact({ name: "B", connections: [{ backend: "db", identity: "302" }], groups: [reporters.id] });
    await store.createContact({ name: "No phone", groups: [reporters.id] });
    await store.close();
    const result = await run(["send", "--group", "reporters", "Reports are due Friday"], dir);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines[0], "1 member(s) of reporters have no connection to send to");
    assert.match(lines[1], /^message [0-9a-f]{32}: S$/);
    assert.deepEqual(lines.slice(2).sort(), ["S  to 301 via db: Reports are due Friday", "S  to 302 via db: Reports are due Friday"]);
    const unknown = await run(["send", "--group", "nurses", "x"], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /send --group: no group named "nurses"/);
    const both = await run(["send", "--group", "reporters", "--backend", "db", "--to", "1", "x"], dir);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --to with --backend, or --group \(not both\)/);
  });

  test("send through an http backend without sendUrl exits 1 and prints why, without the password", async () => {
    const result = await run(["send", "--backend", "gw", "--to", "111", "hello"], project());
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^message [0-9a-f]{32}: E$/m);
    assert.match(result.stdout, /^E {2}to 111 via gw: hello {2}\(.*has no sendUrl.*\)$/m);
    assert.ok(!result.stdout.includes("s3cret") && !result.stderr.includes("s3cret"));
  });

  test("send through a backend that is not installed fails with one line listing the installed backends and exit code 2", async () => {
    const result = await run(["send", "--backend", "nope", "--to", "111", "hello"], project());
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, 'rapidsms: no backend named "nope" is installed (installed: httptester, db, gw)\n');
  });

  test("start with a config naming an unknown engine exits non-zero with one line on stderr naming the backend", async () => {
    const dir = project({ installedBackends: { sms: { engine: "carrier-pigeon" } } }, "broken.json");
    const result = await run(["--config", "broken.json", "start", "--port", "0"], dir);
    assert.notEqual(result.code, 0);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], /^rapidsms: backend "sms": unknown engine "carrier-pigeon": installed engines are .*httptester/);
  });

  test("--config with a path that does not exist exits 2 naming the path", async () => {
    const result = await run(["--config", "missing.json", "backends"], project());
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^rapidsms: config file .*missing\.json does not exist/);
  });

  test("start --port 0 serves /healthz and exits 0 on SIGTERM after shutting down", async () => {
    const child = spawnCli(["start", "--port", "0"], project());
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    const logs: { msg?: string }[] = [];
    let base: string | undefined;
    for await (const line of createInterface({ input: child.stdout! })) {
      const entry = JSON.parse(line) as { msg?: string };
      logs.push(entry);
      const listening = /^RapidSMS listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(entry.msg ?? "");
      if (listening) {
        base = listening[1];
        break;
      }
    }
    assert.ok(base, `the server never said where it listens; stderr:\n${stderr}`);
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { status: string }).status, "ok");
    const tester = await fetch(`${base}/backend/httptester/`, { method: "POST", body: new URLSearchParams({ identity: "700", text: "ping" }) });
    assert.equal(tester.status, 200);

    let rest = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (rest += chunk));
    child.kill("SIGTERM");
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, stderr);
    assert.match(rest, /"msg":"stopped"/);
  });

  test("bin/rapidsms.js runs the CLI", async () => {
    const result = await run(["backends"], project(), bin);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^httptester\n {2}engine: {2}httptester$/m);
  });

  test("bin/rapidsms.js in a project that links this checkout: the config's rapidsms-ts is the same sources the CLI runs", async () => {
    const dir = project({}, "unused.json");
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(repo, join(dir, "node_modules", "rapidsms-ts"), "dir");
    writeFileSync(
      join(dir, "rapidsms.config.ts"),
      [
        'import { AppBase, defineConfig } from "rapidsms-ts";',
        "class Greeter extends AppBase {}",
        'export default defineConfig({ installedBackends: { db: { engine: "database" } }, apps: [Greeter], database: "sqlite::memory:" });',
      ].join("\n"),
    );
    const result = await run(["backends"], dir, bin);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^db\n {2}engine: {2}database$/m);
  });

  test("bin/rapidsms.js keeps what Node compiled in its compile cache, in the temporary folder", async () => {
    const temp = mkdtempSync(join(root, "tmp-"));
    const { NODE_COMPILE_CACHE: _, ...rest } = env;
    const child = spawn(node, [bin, "backends"], { cwd: project(), env: { ...rest, TMPDIR: temp }, stdio: "ignore" });
    const [code] = await once(child, "close");
    assert.equal(code, 0);
    const [version] = readdirSync(join(temp, "node-compile-cache"));
    assert.ok(readdirSync(join(temp, "node-compile-cache", version)).length > 10, "the CLI's modules are in the cache");
  });

  test("a server killed with SIGKILL has kept what both its threads compiled in the compile cache, as a stopped one does", async () => {
    const { NODE_COMPILE_CACHE: _, ...rest } = env;
    /** The cache's entries (not its folders, nor a file Node is still writing). */
    const cached = (temp: string) => {
      try {
        const dir = join(temp, "node-compile-cache");
        return new Set(
          readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((entry) => entry.isFile() && !/\.tmp|\.partial|~$/.test(entry.name))
            .map((entry) => join(entry.parentPath, entry.name).slice(dir.length)),
        );
      } catch {
        return new Set<string>();
      }
    };
    const missing = (from: Set<string>, expected: Set<string>) => [...expected].filter((entry) => !from.has(entry));
    const serve = async (temp: string) => {
      const child = spawn(node, [bin, "start", "--port", "0"], {
        cwd: project(),
        env: { ...rest, TMPDIR: temp, LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.add(child);
      for await (const line of createInterface({ input: child.stdout! })) if (line.includes("RapidSMS listening")) break;
      return child;
    };
    const stoppedTemp = mkdtempSync(join(root, "tmp-"));
    const stopped = await serve(stoppedTemp);
    stopped.kill("SIGTERM");
    assert.equal((await once(stopped, "close"))[0], 0);
    const expected = cached(stoppedTemp);
    assert.ok(expected.size > 10, "a stopped server wrote its cache");

    const killedTemp = mkdtempSync(join(root, "tmp-"));
    const killed = await serve(killedTemp);
    const deadline = Date.now() + 15_000;
    while (missing(cached(killedTemp), expected).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    killed.kill("SIGKILL");
    await once(killed, "close");
    assert.deepEqual(missing(cached(killedTemp), expected), [], "the killed server's cache has every entry the stopped one's has");
  });
});

describe("rapidsms send --group on PostgreSQL", { skip: POSTGRES_MISSING }, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  test("a group's members made through the store are each sent to, from the command line", async () => {
    const database = await server.createDatabase("cli_group");
    const store = openStore(database);
    await store.migrate();
    const nurses = (await store.createGroup({ name: "nurses" }))!;
    for (const identity of ["401", "402"]) await store.createContact({ connections: [{ backend: "db", identity }], groups: [nurses.id] });
    await store.close();
    const result = await run(["send", "--group", String(nurses.id), "Staff meeting at 3"], project({ ...config, database }));
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.match(lines[0], /^message [0-9a-f]{32}: S$/);
    assert.deepEqual(lines.slice(1).sort(), ["S  to 401 via db: Staff meeting at 3", "S  to 402 via db: Staff meeting at 3"]);
  });
});
