import type { Kysely, Transaction } from "kysely";
import type { StoreDialect } from "./kysely/dialect.ts";
import type { Database } from "./schema.ts";

interface PendingWrite {
  run: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * SQLite: writes asked for during one turn of the event loop share one transaction (group
 * commit), so a burst of requests costs one commit and one turn of the single connection, which
 * the workers share, instead of one each. If the shared transaction fails, each write is tried
 * alone, so that one cannot fail the others.
 */
export function sqliteDialect(db: Kysely<Database>): StoreDialect {
  const pending: PendingWrite[] = [];
  const commit = async () => {
    const batch = pending.splice(0);
    try {
      const results = await db.transaction().execute(async (trx) => {
        const done: unknown[] = [];
        for (const write of batch) done.push(await write.run(trx));
        return done;
      });
      for (const [i, write] of batch.entries()) write.resolve(results[i]);
    } catch {
      for (const write of batch) await db.transaction().execute(write.run).then(write.resolve, write.reject);
    }
  };
  return {
    name: "sqlite",
    write: <T>(run: (trx: Transaction<Database>) => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
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
