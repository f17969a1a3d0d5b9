import { type Kysely, sql, type Transaction } from "kysely";
import type { StoreDialect, WriteOptions } from "./kysely/dialect.ts";
import type { Database } from "./schema.ts";

interface PendingWrite {
  run: (trx: Transaction<Database>) => Promise<unknown>;
  deferSync: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * SQLite: writes asked for during one turn of the event loop share one transaction (group
 * commit), so a burst of requests costs one commit and one turn of the single connection, which
 * the workers share, instead of one each. If the shared transaction fails, each write is tried
 * alone, so that one cannot fail the others.
 *
 * With `syncs` (synchronous = FULL), a batch made only of writes that may defer their sync (see
 * WriteOptions) commits under synchronous = NORMAL: the connection is held from the pragma to
 * the pragma that restores FULL, so no other commit can run between them.
 */
export function sqliteDialect(db: Kysely<Database>, { syncs = false }: { syncs?: boolean } = {}): StoreDialect {
  const pending: PendingWrite[] = [];
  const together = (batch: PendingWrite[]) => async (trx: Transaction<Database>) => {
    const done: unknown[] = [];
    for (const write of batch) done.push(await write.run(trx));
    return done;
  };
  /** Runs `run` in a transaction that commits under NORMAL, holding the connection until FULL is back. */
  const withoutSync = <T>(run: (trx: Transaction<Database>) => Promise<T>) =>
    db.connection().execute(async (connection) => {
      await sql`pragma synchronous = normal`.execute(connection);
      try {
        return await connection.transaction().execute(run);
      } finally {
        await sql`pragma synchronous = full`.execute(connection);
      }
    });
  const commit = async () => {
    const batch = pending.splice(0);
    try {
      const deferrable = syncs && batch.every((write) => write.deferSync);
      const results = await (deferrable ? withoutSync(together(batch)) : db.transaction().execute(together(batch)));
      for (const [i, write] of batch.entries()) write.resolve(results[i]);
    } catch {
      for (const write of batch) await db.transaction().execute(write.run).then(write.resolve, write.reject);
    }
  };
  return {
    name: "sqlite",
    write: <T>(run: (trx: Transaction<Database>) => Promise<T>, options: WriteOptions = {}) =>
      new Promise<T>((resolve, reject) => {
        pending.push({ run, deferSync: options.deferSync ?? false, resolve: resolve as (value: unknown) => void, reject });
        if (pending.length === 1) setImmediate(() => void commit());
      }),
    lockForClaim: (query) => query,
    lockGatewayIds: async () => {},
    lockMessage: async () => {},
    greatest: "max",
    // SQLITE_MAX_VARIABLE_NUMBER is 32,766 in the SQLite that Node 22 and 24 ship.
    maxParameters: 30_000,
  };
}
