import type { Kysely, SelectQueryBuilder, Transaction } from "kysely";
import type { Database } from "../schema.ts";

/**
 * What differs between the databases, in one place; every query outside it is the same Kysely
 * code for both.
 */
export interface StoreDialect {
  readonly name: "sqlite" | "postgres";
  /** Runs a write in a transaction (on SQLite, in the group commit of its turn: see sqlite.ts). */
  write<T>(run: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Locks the rows a claim selects so that concurrent claimers skip them; SQLite has one writer and needs nothing. */
  lockForClaim<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, table: string): SelectQueryBuilder<DB, TB, O>;
  /** The larger of a column and a number, in this database's SQL. */
  greatest: "max" | "greatest";
  /** How many values one statement may bind; bulk writes are cut into statements below it. */
  readonly maxParameters: number;
}

/** PostgreSQL: one transaction per write, claims with SKIP LOCKED. */
export function postgresDialect(db: Kysely<Database>): StoreDialect {
  return {
    name: "postgres",
    write: (run) => db.transaction().execute(run),
    lockForClaim: (query, table) => query.forUpdate(table as never).skipLocked(),
    greatest: "greatest",
    // The protocol's limit is 65,535 bound values per statement.
    maxParameters: 30_000,
  };
}
