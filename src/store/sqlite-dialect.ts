import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/**
 * Kysely's SqliteDialect expects a better-sqlite3-shaped database; this adapts `node:sqlite` to it.
 * Statements are cached: Kysely compiles the same SQL again and again on hot paths.
 */
export function kyselyDatabase(db: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sql) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = adapt(db.prepare(sql));
        if (cache.size > 500) cache.clear();
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

function adapt(statement: StatementSync): SqliteStatement {
  const reader = statement.columns().length > 0;
  return {
    reader,
    all: (parameters) => statement.all(...(parameters as SqlParameter[])),
    run: (parameters) => statement.run(...(parameters as SqlParameter[])),
    iterate: (parameters) => statement.iterate(...(parameters as SqlParameter[])),
  };
}

type SqlParameter = null | number | bigint | string | NodeJS.ArrayBufferView;
