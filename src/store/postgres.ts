import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { postgresDialect } from "./kysely/dialect.ts";
import { KyselyStore } from "./kysely-store.ts";
import type { Database } from "./schema.ts";

const INT8 = 20;

/**
 * The scale-out store: PostgreSQL through a connection pool, with the same Kysely code as SQLite.
 * Claims lock rows with SKIP LOCKED, so any number of processes can share the work.
 */
export function openPostgresStore(url: string, poolSize = 20): KyselyStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // A database that does not answer (a host gone, a network black hole) fails the call in 10 s
    // (a 503, which gateways retry) instead of holding the request for minutes.
    connectionTimeoutMillis: 10_000,
    // Our bigints are epoch milliseconds and counts: well within a double.
    types: { getTypeParser: (oid: number, format?: string) => (oid === INT8 ? Number : pg.types.getTypeParser(oid, format as "text")) },
  });
  // An idle connection that the server closes (a restart, a failover) must not crash the process:
  // the pool drops it and the next query opens a new one.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, postgresDialect(db));
}
