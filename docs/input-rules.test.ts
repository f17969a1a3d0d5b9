import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { KannelBackend } from "../src/backends/kannel/index.ts";
import { LIMITS, unfitIdentity, unfitText } from "../src/messages/limits.ts";

const guide = readFileSync(new URL("./input-rules.md", import.meta.url), "utf8");

/** The guide's limits table, by its field column's first words. */
function documentedLimit(field: string): number {
  const row = guide.split("\n").find((line) => line.startsWith(`| ${field}`));
  assert.ok(row, `the guide has a row for ${field}`);
  return Number(/\| (\d+) (characters|identities) \|/.exec(row)![1]);
}

test("the input rules guide gives the limits the code enforces", () => {
  assert.equal(documentedLimit("identity"), LIMITS.identity);
  assert.equal(documentedLimit("gateway message id"), LIMITS.externalId);
  assert.equal(documentedLimit("text"), LIMITS.text);
  assert.equal(documentedLimit("recipients of one API send"), LIMITS.recipients);
});

test("the refusals the guide quotes are the ones given", () => {
  for (const reason of [unfitText("a\0b"), unfitText("\ud83d"), unfitIdentity("7".repeat(3_000))]) {
    assert.ok(reason && guide.includes(reason.replace(/ \(3000\)\.$/, "")), `the guide quotes "${reason}"`);
  }
  assert.ok(guide.includes(`id: ${unfitIdentity("7".repeat(3_000))}`));
  assert.match(guide, /\| Kannel \| no spaces \|/);
  assert.ok(unfitIdentity("2557 0001", KannelBackend.identityPattern, KannelBackend.identityRule));
});
