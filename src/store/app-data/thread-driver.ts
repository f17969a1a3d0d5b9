import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";
import type { SqlCall } from "./sessions.ts";

/** How the main thread reaches the store thread's SqlSessions. */
export interface SqlThread {
  execute(call: SqlCall): Promise<QueryResult<unknown>>;
  begin(session: number): Promise<void>;
  end(session: number, commit: boolean): Promise<void>;
}

/**
 * Kysely on the main thread for a SQLite store that lives in its own thread (sqlite-thread.ts):
 * queries are compiled here and run there, on the store's connection (see SqlSessions). A
 * transaction is a session there; the statements of one connection here run in it.
 */
export function threadKysely(thread: SqlThread): Kysely<unknown> {
  return new Kysely<unknown>({
    dialect: {
      createAdapter: () => new TransactionalDdl(),
      createDriver: () => new ThreadDriver(thread),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}

/** SQLite runs DDL in transactions: migrations are all or nothing. */
class TransactionalDdl extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ThreadConnection implements DatabaseConnection {
  private readonly thread: SqlThread;
  session: number | null = null;

  constructor(thread: SqlThread) {
    this.thread = thread;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return (await this.thread.execute({ session: this.session, sql: query.sql, parameters: query.parameters })) as QueryResult<R>;
  }

  // biome-ignore lint/correctness/useYield: it only refuses
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming queries are not supported on the embedded SQLite store: select in pages (limit, offset)");
  }
}

class ThreadDriver implements Driver {
  private readonly thread: SqlThread;
  private sessions = 0;

  constructor(thread: SqlThread) {
    this.thread = thread;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new ThreadConnection(this.thread);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const session = ++this.sessions;
    await this.thread.begin(session);
    (connection as ThreadConnection).session = session;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.finish(connection as ThreadConnection, true);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.finish(connection as ThreadConnection, false);
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}

  private async finish(connection: ThreadConnection, commit: boolean): Promise<void> {
    const { session } = connection;
    connection.session = null;
    if (session !== null) await this.thread.end(session, commit);
  }
}
