import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { docJsonBlocks } from "../../test/support/doc-config.ts";
import { shippedEngines } from "../../src/backends/shipped-engines.ts";
import { resolveConfig } from "../../src/config/resolve.ts";
import type { RapidSmsConfig } from "../../src/config/config.ts";

const here = new URL("./", import.meta.url);
const guides = readdirSync(here).filter((name) => name.endsWith(".md"));
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
/** The engines whose guides live elsewhere (docs/kannel.md, docs/vumi.md, docs/http-gateways.md) or that need none. */
const OLDER = new Set(["http", "httptester", "database", "kannel", "vumi"]);

test("every provider's engine has its guide in docs/gateways/ and a row in the README's engine table that links it", () => {
  const engines = shippedEngines.map((engine) => engine.engine).filter((name) => !OLDER.has(name));
  assert.ok(engines.length > 0);
  for (const engine of engines) {
    assert.ok(guides.includes(`${engine}.md`), `docs/gateways/${engine}.md is missing`);
    assert.match(readme, new RegExp(`^\\| \`${engine}\` \\|.*\\(docs/gateways/${engine}\\.md\\)`, "m"), `README row for ${engine}`);
  }
});

for (const guide of guides) {
  test(`docs/gateways/${guide}: its config example resolves as written, with a backend of the guide's engine`, async () => {
    const blocks = docJsonBlocks(new URL(guide, here)) as RapidSmsConfig[];
    assert.ok(blocks.length > 0, "the guide has a ```json config example");
    const engine = guide.replace(/\.md$/, "");
    const resolved = await resolveConfig(blocks[0]);
    assert.ok(Object.values(resolved.backends).some((backend) => backend.engine.engine === engine));
  });
}
