import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ConfigError } from "../errors.ts";
import { unfitIdentity } from "../messages/limits.ts";
import { readRecipients } from "./recipients-file.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-recipients-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(content: string): string {
  const path = join(dir, `r${++files}.csv`);
  writeFileSync(path, content);
  return path;
}
const noSpaces = (identity: string) => (/\s/.test(identity) ? "no spaces" : unfitIdentity(identity));

test("a header names the column (phone, identity or number, in any case); other columns and their quotes are read past", async () => {
  const read = await readRecipients(file('\uFEFFName,"Number",Note\r\n"Okello, J",+256700000001,"said ""yes"""\r\nAuma,+256700000002,\r\n'), noSpaces);
  assert.deepEqual(read, { identities: ["+256700000001", "+256700000002"], duplicates: 0, blank: 0, refused: [], column: "Number" });
});

test("without a header the first column is read; blank lines, blank cells and duplicates are skipped, refused rows keep their line", async () => {
  const read = await readRecipients(file("111\n\n222,x\n111\n,only a note\n33 3\n444\n"), noSpaces);
  assert.deepEqual(read.identities, ["111", "222", "444"]);
  assert.equal(read.duplicates, 1);
  assert.equal(read.blank, 1);
  assert.equal(read.column, null);
  assert.deepEqual(read.refused, [{ line: 6, value: "33 3", reason: "no spaces" }]);
});

test("a first row of words naming no identity column is refused as a header it cannot read", async () => {
  await assert.rejects(
    readRecipients(file("name,mobile\nA,111\n"), noSpaces),
    (error: unknown) => error instanceof ConfigError && /no column is named phone, identity or number/.test(error.message),
  );
});

test("a file past the row limit, one that is not CSV, and one that is not there are refused with what to do", async () => {
  await assert.rejects(readRecipients(file("1\n2\n3\n4\n"), noSpaces, { maxRows: 3 }), /more than 3 rows: split it/);
  assert.equal((await readRecipients(file("1\n2\n3\n"), noSpaces, { maxRows: 3 })).identities.length, 3);
  await assert.rejects(readRecipients(file('111\n"222\n'), noSpaces), (error: unknown) => error instanceof ConfigError && /line 2/.test(error.message));
  await assert.rejects(readRecipients(join(dir, "missing.csv"), noSpaces), (error: unknown) => error instanceof ConfigError && /ENOENT/.test(error.message));
  await assert.rejects(readRecipients(file(`${"9".repeat(20_000)}\n`), noSpaces), ConfigError);
});
