import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { OptOutKeywords } from "../src/apps/opt-out-keywords.ts";
import { Catalog } from "../src/apps/translations.ts";
import { resolveConfig } from "../src/config/resolve.ts";

/** The "3. Opt-outs" section of docs/operations.md. */
const section = /^## 3\. Opt-outs\n([\s\S]*?)^## 4\./m.exec(readFileSync(new URL("operations.md", import.meta.url), "utf8"))![1];

test("the opt-outs section's config is valid, and its keywords and translation work as the section says", async () => {
  const [config] = [...section.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map(([, block]) => JSON.parse(block));
  const resolved = await resolveConfig(config);
  const keywords = new OptOutKeywords(resolved.optOut!);
  for (const text of ["stop", "Stop.", "STOP!!", "¡Pare!", "acha", "arrêter"]) assert.equal(keywords.match(text)?.kind, "stop", text);
  assert.equal(keywords.match("anza")?.kind, "start");
  assert.equal(keywords.match("please stop"), undefined);
  const catalog = new Catalog([resolved.translations]);
  assert.equal(catalog.render({ msgid: resolved.optOut!.confirmation!, params: {} }, "sw"), "Umejiondoa. Tuma ANZA ili ujiunge tena.");
});
