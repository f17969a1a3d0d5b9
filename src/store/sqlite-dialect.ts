import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { CompiledQuery, QueryResult, SqliteDatabase, SqliteStatement } from "kysely";
import type { Executor } from "./prepared.ts";

/**
 * Kysely's SqliteDialect expects a better-sqlite3-shaped database; this adapts `node:sqlite` to it.
 * Statements are cached: Kysely compiles the same SQL again and again on hot paths. `onCommit` is
 * called after each statement that commits (a COMMIT, or a write outside a transaction).
 */
export function kyselyDatabase(db: DatabaseSync, { onCommit }: { onCommit?: () => void } = {}): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  // A write run outside a transaction is committed, and so is a transaction its COMMIT ends.
  const afterRun = onCommit && (() => db.isTransaction || onCommit());
  return {
    close: () => db.close(),
    prepare(sql) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = adapt(db.prepare(sql), afterRun);
        if (cache.size > 500) cache.clear();
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Runs compiled queries on the adapted database itself, as Kysely's SQLite driver would but
 * without its connection and transaction layers: for the hot statements, which run inside the
 * store's group-commit transaction on its only connection (see PreparedQuery).
 */
export function directExecutor(db: SqliteDatabase): Executor {
  return {
    executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
      const statement = db.prepare(query.sql);
      if (statement.reader) return Promise.resolve({ rows: statement.all(query.parameters) as R[] });
      const { changes, lastInsertRowid } = statement.run(query.parameters);
      return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) });
    },
  };
}

function adapt(statement: StatementSync, afterRun?: () => void): SqliteStatement {
  const reader = statement.columns().length > 0;
  return {
    reader,
    all: (parameters) => statement.all(...(parameters as SqlParameter[])),
    run: afterRun
      ? (parameters) => {
          const result = statement.run(...(parameters as SqlParameter[]));
          afterRun();
          return result;
        }
      : (parameters) => statement.run(...(parameters as SqlParameter[])),
    iterate: (parameters) => statement.iterate(...(parameters as SqlParameter[])),
  };
}

type SqlParameter = null | number | bigint | string | NodeJS.ArrayBufferView;
