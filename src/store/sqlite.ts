import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Kysely, SqliteAdapter, SqliteDialect } from "kysely";
import { KyselyStore } from "./kysely-store.ts";
import type { Database } from "./schema.ts";
import { lazyCheckpointer } from "./sqlite-checkpointer.ts";
import { sqliteDialect } from "./sqlite-group-commit.ts";
import { directExecutor, kyselyDatabase } from "./sqlite-dialect.ts";
import { SQLITE_SYNCHRONOUS, type SqliteOptions } from "./sqlite-options.ts";

export { SQLITE_SYNCHRONOUS, type SqliteOptions, type SqliteSynchronous } from "./sqlite-options.ts";

/** The embedded store: one SQLite file in WAL mode (or `:memory:` for tests). */
export function openSqliteStore(path: string, options: SqliteOptions = {}): KyselyStore {
  const file = path !== ":memory:";
  if (file) mkdirSync(dirname(path), { recursive: true });
  const synchronous = options.synchronous ?? "full";
  if (!SQLITE_SYNCHRONOUS.includes(synchronous)) throw new TypeError(`synchronous must be one of ${SQLITE_SYNCHRONOUS.join(", ")}`);
  const database = new DatabaseSync(path);
  database.exec(`pragma journal_mode = wal; pragma synchronous = ${synchronous}; pragma foreign_keys = on; pragma busy_timeout = 5000;`);
  // Checkpoints run in a worker thread while there are writes; the writer's own, at 40 MB of WAL, are only a backstop.
  if (file) database.exec("pragma wal_autocheckpoint = 10000; pragma journal_size_limit = 67108864;");
  const checkpointer = file
    ? lazyCheckpointer(path, (error) => process.emitWarning(`the SQLite checkpoint thread stopped (${error.message}); the writer checkpoints alone`))
    : undefined;
  const adapted = kyselyDatabase(database, { onCommit: checkpointer?.committed });
  const close = adapted.close.bind(adapted);
  adapted.close = async () => {
    await checkpointer?.stop();
    await close();
  };
  const db = new Kysely<Database>({ dialect: new NodeSqliteDialect({ database: adapted }) });
  return new KyselyStore({
    db,
    dialect: (named) => sqliteDialect(named, { syncs: synchronous === "full" }),
    direct: directExecutor(adapted),
    naming: { tablePrefix: options.tablePrefix ?? "" },
  });
}

/** SQLite runs DDL in transactions, which Kysely's adapter does not claim: with it, each migration is all or nothing. */
class NodeSqliteDialect extends SqliteDialect {
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlAdapter();
  }
}

class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
