// The package as a user gets it: `npm pack`, installed from the tarball into a fresh project of
// its own, then imported, type-checked and started there on Node 22 and Node 24.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "./support/free-port.ts";

const run = promisify(execFile);
const checkout = fileURLToPath(new URL("..", import.meta.url));
/** The checkout's npm scripts (npm test) run on the Node 24 that npm installed into node_modules. */
const node24 = process.execPath;
// Without NODE_TEST_CONTEXT: a scaffold's own `node --test` would report to this test runner, not print.
const { NODE_TEST_CONTEXT: _inherited, ...environment } = process.env;
const npm = (args: string[], cwd: string) =>
  run("npm", args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...environment, npm_config_fund: "false", npm_config_audit: "false" } });

/** The environment with Node 22 first on PATH: npm, and what npm runs, on the older LTS. */
const onNode22 = () => ({ ...environment, PATH: `${dirname(node22)}:${environment.PATH}` });

const dir = mkdtempSync(join(tmpdir(), "rapidsms-package-"));
const project = join(dir, "my-service");
let node22 = "";
let installLog = "";

describe("the package installed from its tarball into a fresh project", { timeout: 600_000 }, () => {
  before(async () => {
    await npm(["pack", "--pack-destination", dir], checkout);
    const [tarball] = readdirSync(dir).filter((name) => name.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote a tarball");
    await run("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-service", version: "1.0.0", private: true, type: "module" }));
    const installed = await npm(["install", "--prefer-offline", join(dir, tarball), "@types/node@24"], project);
    installLog = installed.stdout + installed.stderr;
    // Node 22 from the npm package `node`, as a user's machine might have it.
    const other = join(dir, "node22");
    await run("mkdir", ["-p", other]);
    writeFileSync(join(other, "package.json"), JSON.stringify({ name: "node22", version: "1.0.0", private: true }));
    await npm(["install", "--prefer-offline", "node@22"], other);
    node22 = join(other, "node_modules/.bin/node");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the tarball holds the build, the bin, the README and the licence: no sources, tests or benchmarks", async () => {
    const { stdout } = await run("tar", ["tzf", join(dir, readdirSync(dir).find((name) => name.endsWith(".tgz"))!)]);
    const files = stdout.trim().split("\n");
    assert.deepEqual(files.filter((file) => !file.startsWith("package/dist/")).sort(), [
      "package/LICENSE",
      "package/README.md",
      "package/bin/rapidsms.js",
      "package/package.json",
    ]);
    assert.ok(files.includes("package/dist/index.js") && files.includes("package/dist/index.d.ts"));
    assert.ok(files.includes("package/dist/backends/message-tester/page.html"), "the tester's assets are built in");
    assert.equal(files.filter((file) => /\.test\.|\.contract\./.test(file)).length, 0);
  });

  test("the installed build loads zod and uuid as one file each: no module of it imports their 95 and 20", () => {
    const built = join(project, "node_modules/rapidsms-ts/dist");
    const modules = readdirSync(built, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".js"))
      .map((file) => ({ file, code: readFileSync(join(built, file), "utf8") }));
    const importing = modules.filter(({ code }) => /(\bfrom\s*|\bimport\s*\(?\s*)["'`](zod|uuid)(\/[^"'`]*)?["'`]/.test(code.replace(/^\/\/.*$/gm, "")));
    assert.deepEqual(
      importing.map(({ file }) => file),
      [],
    );
    assert.ok(
      modules.some(({ code }) => code.includes('from "../vendor/zod.js"')),
      "the config's schemas import the bundled zod",
    );
    assert.ok(
      modules.some(({ code }) => code.includes('from "../vendor/uuid.js"')),
      "message ids come from the bundled uuid",
    );
  });

  test("npm install prints no warning", () => {
    assert.doesNotMatch(installLog, /npm warn/i);
  });

  // A message through the embedded system, as a host's own code would use it (typed in a .ts file).
  const script = (database: string, typed: boolean) => `
    import { createSystem, resolveConfig${typed ? ", type System" : ""} } from "rapidsms-ts";
    const system${typed ? ": System" : ""} = await createSystem(await resolveConfig({ installedBackends: { http: { engine: "http" } }, apps: ["echo"], database: ${JSON.stringify(database)} }));
    const [connection] = await system.router.lookupConnections("http", ["111"]);
    const message = await system.router.receive("echo hi", connection);
    await system.pipeline.idle();
    const record = await system.store.getMessage(message.id);
    const [reply] = await system.store.listMessages({ direction: "O", inResponseTo: message.id });
    console.log(JSON.stringify([record${typed ? "!" : ""}.status, reply.text]));
    await system.close();
  `;
  for (const [label, nodeOf] of [
    ["Node 24", () => node24],
    ["Node 22", () => node22],
  ] as const) {
    for (const extension of ["js", "ts"]) {
      test(`${label} imports it from a .${extension} file and a message goes through the embedded store`, async () => {
        const name = `${label.replace(" ", "")}-${extension}`;
        writeFileSync(join(project, `${name}.${extension}`), script(`sqlite:./${name}.db`, extension === "ts"));
        // Node 22 calls node:sqlite experimental; the warning is the runtime's, not ours.
        const { stdout } = await run(nodeOf(), ["--disable-warning=ExperimentalWarning", `${name}.${extension}`], { cwd: project });
        assert.deepEqual(JSON.parse(stdout), ["R", "hi"]);
      });
    }
  }

  test("a consumer's tsc, with skipLibCheck off, passes on the shipped declarations", async () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "es2022", module: "nodenext", strict: true, noEmit: true, skipLibCheck: false, types: ["node"] },
        include: ["consumer.ts"],
      }),
    );
    writeFileSync(
      join(project, "consumer.ts"),
      [
        'import { AppBase, BackendBase, createSystem, defineConfig, type IncomingMessage, type SendRequest } from "rapidsms-ts";',
        'import { createTestRouter } from "rapidsms-ts/testing";',
        'import { expressRouter } from "rapidsms-ts/express";',
        'import { fetchHandler } from "rapidsms-ts/fetch";',
        'import { rapidsmsPlugin } from "rapidsms-ts/fastify";',
        'import { createRapidSms, nodeHandler } from "rapidsms-ts/node";',
        "export class Hello extends AppBase {",
        '  override handle(msg: IncomingMessage): boolean { msg.respond("hello"); return true; }',
        "}",
        "export class Acme extends BackendBase<Record<string, never>> {",
        "  override async send(_request: SendRequest): Promise<void> {}",
        "}",
        'export const config = defineConfig({ installedBackends: { acme: { engine: "http" } }, apps: [Hello] });',
        "export const make = createSystem;",
        "export const harness = createTestRouter;",
        "export const mounts = [expressRouter, fetchHandler, rapidsmsPlugin, nodeHandler] as const;",
        'export const sms = () => createRapidSms({ installedBackends: { http: { engine: "http" } } });',
      ].join("\n"),
    );
    await run(node24, [join(checkout, "node_modules/typescript/bin/tsc"), "-p", project], { cwd: project });
  });

  test("a Redis queue without bullmq and ioredis installed: the start stops with one line naming them", async () => {
    writeFileSync(join(project, "redis.config.json"), JSON.stringify({ installedBackends: { http: { engine: "http" } }, queue: "redis://127.0.0.1:9" }));
    const failed = await run("npm", ["exec", "--", "rapidsms", "start", "--config", "redis.config.json", "--port", "0"], { cwd: project }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    assert.ok(failed, "the start failed");
    assert.match(failed.stderr, /a Redis queue needs the packages bullmq and ioredis in your project: npm install bullmq ioredis/);
  });

  test("the embedding guide's Express, Fastify, Hono and node:http examples run from the installed package", async () => {
    await npm(["install", "--prefer-offline", "express@5", "fastify@5", "hono@4", "@hono/node-server"], project);
    const hosts = {
      "embed-express.ts": "startExpressApp",
      "embed-fastify.ts": "startFastifyApp",
      "embed-hono.ts": "startHonoApp",
      "embed-node.ts": "startNodeApp",
    };
    for (const file of Object.keys(hosts)) copyFileSync(join(checkout, "docs/examples", file), join(project, file));
    writeFileSync(
      join(project, "hosts.ts"),
      `
      import { once } from "node:events";
      import { createServer } from "node:http";
      ${Object.entries(hosts)
        .map(([file, start]) => `import { ${start} } from "./${file}";`)
        .join("\n")}
      // A gateway that records what it is asked to send.
      const sent: string[] = [];
      const gateway = createServer((request, response) => {
        sent.push(new URL(request.url!, "http://x").searchParams.get("text") ?? "");
        response.end("0: Accepted for delivery");
      }).listen(0, "127.0.0.1");
      await once(gateway, "listening");
      const sendsmsUrl = \`http://127.0.0.1:\${(gateway.address() as { port: number }).port}/cgi-bin/sendsms\`;
      const results: string[] = [];
      for (const [name, start] of Object.entries({ ${Object.values(hosts).join(", ")} })) {
        const app = await start({ installedBackends: { kannel: { engine: "kannel", sendsmsUrl } }, apps: ["echo"], database: \`sqlite:./\${name}.db\` });
        const inbound = await fetch(\`\${app.url}/sms/backend/kannel/?id=255700000001&text=echo+\${name}\`);
        for (let i = 0; i < 200 && !sent.includes(name); i++) await new Promise((resolve) => setTimeout(resolve, 25));
        results.push(\`\${name} \${inbound.status} \${sent.includes(name) ? "echoed" : "no echo"}\`);
        await app.close();
      }
      gateway.close();
      console.log(JSON.stringify(results));
      `,
    );
    const { stdout } = await run(node24, ["hosts.ts"], { cwd: project });
    assert.deepEqual(JSON.parse(stdout), ["startExpressApp 200 echoed", "startFastifyApp 200 echoed", "startHonoApp 200 echoed", "startNodeApp 200 echoed"]);
  });

  test("npx rapidsms init on Node 22 writes a project whose own npm test passes and whose config starts", async () => {
    await run("npm", ["exec", "--", "rapidsms", "init", "clinic"], { cwd: project, env: onNode22() });
    const clinic = join(project, "clinic");
    // Its dependency on rapidsms-ts, from this tarball rather than the registry.
    const tarball = join(dir, readdirSync(dir).find((name) => name.endsWith(".tgz"))!);
    await npm(["install", "--prefer-offline", tarball], clinic);
    const tested = await run("npm", ["test"], { cwd: clinic, env: onNode22() });
    assert.match(tested.stdout, /pass 1/);
    const { stdout } = await run("npm", ["exec", "--", "rapidsms", "backends"], { cwd: clinic, env: onNode22() });
    assert.match(stdout, /httptester/);
  });

  test("npx rapidsms start on Node 22 serves from the installed package, and killing the PID it was started with (SIGKILL) stops the server", async () => {
    const port = await freePort();
    const started = spawn("npm", ["exec", "--", "rapidsms", "start", "--port", String(port)], {
      cwd: project,
      stdio: "ignore",
      env: onNode22(),
    });
    try {
      let health: { status?: string } = {};
      for (let i = 0; i < 100 && health.status !== "ok"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        health = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.json(),
          () => ({}),
        );
      }
      assert.equal(health.status, "ok");
      // npm passes SIGTERM on; SIGKILL it cannot, and the server must not run on as an orphan.
      started.kill("SIGKILL");
      let listening = true;
      for (let i = 0; i < 50 && listening; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        listening = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          () => true,
          () => false,
        );
      }
      assert.equal(listening, false, "no server left behind");
    } finally {
      started.kill("SIGKILL");
    }
  });
});
