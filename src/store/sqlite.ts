import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Kysely, SqliteDialect } from "kysely";
import { KyselyStore } from "./kysely-store.ts";
import type { Database } from "./schema.ts";
import { kyselyDatabase } from "./sqlite-dialect.ts";

/** The embedded store: one SQLite file in WAL mode (or `:memory:` for tests). */
export function openSqliteStore(path: string): KyselyStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new DatabaseSync(path);
  database.exec("pragma journal_mode = wal; pragma synchronous = normal; pragma foreign_keys = on; pragma busy_timeout = 5000;");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: kyselyDatabase(database) }) });
  return new KyselyStore(db, "sqlite");
}
