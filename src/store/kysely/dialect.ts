import { type Kysely, type SelectQueryBuilder, sql, type Transaction } from "kysely";
import type { Database } from "../schema.ts";

export interface WriteOptions {
  /**
   * The write may reach the disk with the next commit that syncs instead of a sync of its own. Only
   * for a write that is done again when it is found missing (a connection's row: every lookup
   * inserts it if it is not there) and that nothing durable can depend on before a later write,
   * whose sync then covers it too: the WAL is one file, written and synced in order. Lost only to
   * a power loss or an OS crash, never to the process dying.
   */
  deferSync?: boolean;
}

/**
 * What differs between the databases, in one place; every query outside it is the same Kysely
 * code for both.
 */
export interface StoreDialect {
  readonly name: "sqlite" | "postgres";
  /** Runs a write in a transaction (on SQLite, in the group commit of its turn: see sqlite-group-commit.ts). */
  write<T>(run: (trx: Transaction<Database>) => Promise<T>, options?: WriteOptions): Promise<T>;
  /** Locks the rows a claim selects so that concurrent claimers skip them; SQLite has one writer and needs nothing. */
  lockForClaim<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, table: string): SelectQueryBuilder<DB, TB, O>;
  /**
   * Holds, until the transaction ends, a lock on each of these gateway ids: a delivery report that
   * finds no transmission with the id, and a send's answer that brings it, must not pass each
   * other unseen (under READ COMMITTED both would look before the other commits). SQLite has one
   * writer and needs nothing.
   */
  lockGatewayIds(trx: Transaction<Database>, ids: readonly string[]): Promise<void>;
  /**
   * Locks a message's row until the transaction ends, before its status is derived from its
   * transmissions: two sends of one message recorded at once would each miss the other's
   * transmissions (READ COMMITTED) and leave it P with every transmission S. SQLite needs nothing.
   */
  lockMessage(trx: Transaction<Database>, id: string): Promise<void>;
  /** The larger of a column and a number, in this database's SQL. */
  greatest: "max" | "greatest";
  /** How many values one statement may bind; bulk writes are cut into statements below it. */
  readonly maxParameters: number;
}

/**
 * PostgreSQL: one transaction per write, claims with SKIP LOCKED. `lockSpace` keeps the advisory
 * locks of RapidSMS installs that share a database (other prefixes or schemas) apart.
 */
export function postgresDialect(db: Kysely<Database>, lockSpace = ""): StoreDialect {
  return {
    name: "postgres",
    // deferSync is not taken: it would cost PostgreSQL a statement (synchronous_commit) where it saves a sync.
    write: (run) => db.transaction().execute(run),
    lockForClaim: (query, table) => query.forUpdate(table as never).skipLocked(),
    lockMessage: async (trx, id) => {
      await trx.selectFrom("messages").select("id").where("id", "=", id).forUpdate().execute();
    },
    lockGatewayIds: async (trx, ids) => {
      if (ids.length === 0) return;
      // In one order, so that two transactions locking several never wait for each other in a circle.
      const sorted = [...new Set(ids)].map((id) => lockSpace + id).sort();
      await sql`select pg_advisory_xact_lock(hashtext(id)) from (select unnest(${sorted}::text[]) as id order by 1) as ids`.execute(trx);
    },
    greatest: "greatest",
    // The protocol's limit is 65,535 bound values per statement.
    maxParameters: 30_000,
  };
}
