import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { createServer, createSystem, loadConfig, type System } from "../../src/index.ts";

const examplesDir = new URL("./", import.meta.url);
const guide = readFileSync(new URL("../custom-backends.md", import.meta.url), "utf8");
const blocks = [...guide.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, language, code]) => ({ language, code }));

/** Lines trimmed, so an excerpt matches whatever its indentation in the file. */
const trimmedLines = (text: string) =>
  `\n${text
    .split("\n")
    .map((line) => line.trim())
    .join("\n")}\n`;

test("every code block in docs/custom-backends.md is TypeScript or shell", () => {
  assert.ok(blocks.length > 0);
  assert.deepEqual(
    blocks.filter((block) => block.language !== "ts" && block.language !== "sh"),
    [],
  );
});

test("every TypeScript block in docs/custom-backends.md is an excerpt of a file in docs/examples", () => {
  const examples = readdirSync(examplesDir)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => trimmedLines(readFileSync(new URL(name, examplesDir), "utf8")));
  for (const { code } of blocks.filter((block) => block.language === "ts")) {
    const excerpt = trimmedLines(code.trimEnd());
    assert.ok(
      examples.some((example) => example.includes(excerpt)),
      `not found in docs/examples:\n${code}`,
    );
  }
});

let system: System;
let app: FastifyInstance;

before(async () => {
  process.env.GATEWAY_TOKEN = "test-token";
  const configPath = fileURLToPath(new URL("rapidsms.config.ts", examplesDir));
  const config = await loadConfig({ configPath, env: {}, overrides: { database: "sqlite::memory:" } });
  system = await createSystem(config);
  app = await createServer(system);
});
after(async () => {
  await app.close();
  await system.close();
});

// Each `curl` line of the guide, run against the examples' config, answers the `# ` lines below it.
const shellLines = blocks.filter((block) => block.language === "sh").flatMap((block) => block.code.trimEnd().split("\n"));
shellLines.forEach((line, index) => {
  if (!line.startsWith("curl ")) return;
  const command = /^curl (?:-d '([^']*)' )?'?http:\/\/127\.0\.0\.1:8000([^' ]+)'?$/.exec(line);
  const expected: string[] = [];
  for (const next of shellLines.slice(index + 1)) {
    if (!next.startsWith("# ")) break;
    expected.push(next.slice(2));
  }
  test(`the guide's "${line}" answers ${JSON.stringify(expected.join("\n"))}`, async () => {
    assert.ok(command, "a curl example is `curl [-d 'DATA'] URL`");
    assert.ok(expected.length > 0, "a curl example is followed by its output as `# ` lines");
    const [, payload, url] = command;
    const response = await app.inject(
      payload === undefined ? { method: "GET", url } : { method: "POST", url, payload, headers: { "content-type": "application/x-www-form-urlencoded" } },
    );
    assert.equal(response.body, expected.join("\n"));
  });
});

test("the guide's message tester example stores the echo reply hello for 1112223333", async () => {
  await system.pipeline.idle();
  const replies = await system.store.listBackendMessages({ name: "httptester", direction: "O" });
  assert.deepEqual(
    replies.map((row) => [row.identity, row.text]),
    [["1112223333", "hello"]],
  );
});
