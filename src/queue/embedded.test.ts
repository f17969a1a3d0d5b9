import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { silentLogger } from "../logger.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { EmbeddedQueue } from "./embedded.ts";
import { queueContract } from "./queue.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-queue-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

queueContract("embedded queue on SQLite", async (shared) => {
  const store = shared ?? openSqliteStore(join(dir, `queue-${files++}.db`));
  if (!shared) await store.migrate();
  return { store, queue: new EmbeddedQueue(silentLogger) };
});
