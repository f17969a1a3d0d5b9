// The API's tests again, on the store `npm start` runs: a SQLite file behind the store thread.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after } from "node:test";
import { onThreadStore, threadStoreFiles } from "../../test/support/test-database.ts";

onThreadStore();
await import("./api.test.ts");

after(() => {
  assert.ok(threadStoreFiles.length > 0, "the tests asked for their database");
  for (const file of threadStoreFiles) assert.ok(existsSync(file), `the tests wrote their messages to ${file}`);
});
