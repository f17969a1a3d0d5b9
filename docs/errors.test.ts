import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ERROR_CODES } from "../src/error-codes.ts";

const guide = readFileSync(new URL("./errors.md", import.meta.url), "utf8");
const rows = [...guide.matchAll(/^\| `([A-Z_]+)` \| `(\w+)` \| (.*) \|$/gm)].map(([, code, , what]) => [code, what] as const);

test("docs/errors.md lists every error code with the same advice as the code, and nothing else", () => {
  assert.deepEqual(Object.fromEntries(rows), ERROR_CODES);
});

test("every error code written in src/ is one of the table's", () => {
  const src = new URL("../src/", import.meta.url).pathname;
  const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"));
  const used = new Set<string>();
  for (const file of files) {
    for (const [, code] of readFileSync(join(src, file), "utf8").matchAll(/\bcode: "([A-Z][A-Z_]+)"|super\([^)]*?, "([A-Z][A-Z_]+)"/g))
      if (code) used.add(code);
  }
  assert.ok(used.size > 5, `found ${[...used].join(", ")}`);
  assert.deepEqual(
    [...used].filter((code) => !(code in ERROR_CODES)),
    [],
  );
});
