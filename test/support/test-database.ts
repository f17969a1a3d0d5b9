import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The database a server or API test runs on: `sqlite::memory:` (in-process, fast), or, when a
 * `*.thread-store.test.ts` file sets RAPIDSMS_TEST_DATABASE=thread before it imports the tests,
 * a SQLite file behind the store thread, as `npm start` runs it. Each call gets a file of its own.
 */
export function testDatabase(): string {
  if (process.env.RAPIDSMS_TEST_DATABASE !== "thread") return "sqlite::memory:";
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-thread-store-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "rapidsms.db");
  threadStoreFiles.push(file);
  return `sqlite:${file}`;
}

/** The files testDatabase() handed out: a thread-store test checks that its tests used them. */
export const threadStoreFiles: string[] = [];

/** Runs a test file's tests again on the production store (the SQLite thread): import it after this. */
export function onThreadStore(): void {
  process.env.RAPIDSMS_TEST_DATABASE = "thread";
}
