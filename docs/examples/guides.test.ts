import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const examples = new URL("./", import.meta.url);

for (const [guide, least] of [
  ["apps.md", 10],
  ["http-gateways.md", 2],
] as const) {
  test(`every TypeScript block in docs/${guide} is an excerpt of a file in docs/examples`, () => {
    const text = readFileSync(new URL(`../${guide}`, import.meta.url), "utf8");
    const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(([, code]) => code.trimEnd());
    assert.ok(blocks.length >= least);
    const files = readdirSync(examples, { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts"))
      .map((name) => readFileSync(join(examples.pathname, name), "utf8"));
    for (const block of blocks)
      assert.ok(
        files.some((file) => file.includes(block)),
        `not found in docs/examples:\n${block}`,
      );
  });
}
