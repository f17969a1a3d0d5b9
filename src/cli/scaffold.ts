/**
 * The files `rapidsms init DIR` writes: a small project that depends on rapidsms-ts, with a config,
 * an app with a keyword handler, its test, and a README. `npm install && npm start` and `npm test`
 * work there as they are.
 */
export function scaffoldFiles(name: string, version: string): Record<string, string> {
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    engines: { node: "^22.19.0 || >=24" },
    scripts: { start: "rapidsms start", test: 'node --test "apps/**/*.test.ts"' },
    dependencies: { "rapidsms-ts": `^${version}` },
    // For editors and tsc, which read tsconfig.json; Node itself runs the .ts files as they are.
    devDependencies: { "@types/node": "^24.0.0" },
  };
  return {
    "package.json": `${JSON.stringify(pkg, null, 2)}\n`,
    "rapidsms.config.ts": `import { defineConfig } from "rapidsms-ts";
import { RegisterApp } from "./apps/register.ts";

export default defineConfig({
  // The message tester plays the phones: http://127.0.0.1:8000/tester/. Add your gateway here
  // (kannel, vumi, …) when you have one.
  installedBackends: { httptester: { engine: "httptester" } },
  tester: true,
  apps: [RegisterApp, "default"],
  database: "sqlite:./${name}.db",
});
`,
    "apps/register.ts": `import { HandlersApp, KeywordHandler } from "rapidsms-ts";

/** JOIN <name>: welcomes the sender by name. */
export class JoinHandler extends KeywordHandler {
  static override keyword = "join";

  override help(): void {
    this.respond("To register, send: JOIN <YOUR NAME>");
  }

  override handle(text: string): void {
    this.respond(\`Welcome, \${text}!\`);
  }
}

export class RegisterApp extends HandlersApp {
  static override appName = "register";
  static override handlers = [JoinHandler];
}
`,
    "apps/register.test.ts": `import assert from "node:assert/strict";
import { test } from "node:test";
import { testApps } from "rapidsms-ts/testing";
import { RegisterApp } from "./register.ts";

test("JOIN <name> is answered with a welcome, and a bare JOIN with how to register", async () => {
  const t = await testApps({ apps: [RegisterApp] });
  assert.deepEqual(await t.receive("join Amina", "255700000001"), ["Welcome, Amina!"]);
  assert.deepEqual(await t.receive("join", "255700000001"), ["To register, send: JOIN <YOUR NAME>"]);
  await t.close();
});
`,
    "tsconfig.json": `${JSON.stringify(
      {
        compilerOptions: {
          target: "es2023",
          module: "nodenext",
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          erasableSyntaxOnly: true,
          verbatimModuleSyntax: true,
          types: ["node"],
        },
      },
      null,
      2,
    )}\n`,
    ".gitignore": "node_modules/\n*.db\n*.db-wal\n*.db-shm\n",
    "README.md": `# ${name}

An SMS service on [RapidSMS.ts](https://www.npmjs.com/package/rapidsms-ts).

\`\`\`sh
npm install
npm start     # http://127.0.0.1:8000/tester/ plays the phones
npm test
\`\`\`

- \`rapidsms.config.ts\`: the backends (gateways), the apps, the database.
- \`apps/register.ts\`: an app with one keyword handler, \`JOIN <name>\`; \`apps/register.test.ts\` tests it.

Send \`join Amina\` from the tester and the app answers \`Welcome, Amina!\`.
`,
  };
}
