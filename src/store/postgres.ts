import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from "kysely";
import pg from "pg";
import { ConfigError } from "../errors.ts";
import { postgresDialect } from "./kysely/dialect.ts";
import { DEFAULT_NAMING, type StoreNaming } from "./kysely/naming.ts";
import { KyselyStore } from "./kysely-store.ts";
import type { Database } from "./schema.ts";

const INT8 = 20;

// Our bigints are epoch milliseconds and counts: well within a double.
const types = { getTypeParser: (oid: number, format?: string) => (oid === INT8 ? Number : pg.types.getTypeParser(oid, format as "text")) };

/** The part of a `pg.Pool` RapidSMS uses, so that the public types do not need @types/pg. */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
}
export interface PgPoolClient {
  query(config: { text: string; values: unknown[]; types?: unknown }): Promise<{ rows: unknown[]; rowCount: number | null; command: string }>;
  release(error?: Error | boolean): void;
}

/**
 * The scale-out store: PostgreSQL through a connection pool, with the same Kysely code as SQLite.
 * Claims lock rows with SKIP LOCKED, so any number of processes can share the work.
 */
export function openPostgresStore(url: string, options: { poolSize?: number; naming?: StoreNaming } = {}): KyselyStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 20,
    // A database that does not answer (a host gone, a network black hole) fails the call in 10 s
    // (a 503, which gateways retry) instead of holding the request for minutes.
    connectionTimeoutMillis: 10_000,
    types,
  });
  // An idle connection that the server closes (a restart, a failover) must not crash the process:
  // the pool drops it and the next query opens a new one.
  pool.on("error", () => {});
  return store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), options.naming, true);
}

/**
 * The store on the host's own `pg.Pool`: RapidSMS borrows its connections (reading bigints as
 * numbers on its own queries only) and never ends it.
 */
export function openPostgresStoreOnPool(pool: PgPool, naming?: StoreNaming): KyselyStore {
  // One wrapper per connection of the pool: Kysely keeps its state per client object.
  const wrappers = new WeakMap<PgPoolClient, PostgresPoolClient>();
  const borrowed: PostgresPool = {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = {
          query: ((text: string, values: unknown[]) => client.query({ text, values, types })) as PostgresPoolClient["query"],
          release: () => client.release(),
        };
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: async () => {},
    options: {},
  };
  return store(new Kysely<Database>({ dialect: new PostgresDialect({ pool: borrowed }) }), naming, true);
}

/**
 * The store on the host's own Kysely instance (on PostgreSQL), without the host's plugins: its
 * transactions and pool are the host's, which closing the store leaves open.
 */
// biome-ignore lint/suspicious/noExplicitAny: the host's database type is its own
export function openPostgresStoreOnKysely(db: Kysely<any>, naming?: StoreNaming): KyselyStore {
  const adapter = db.getExecutor().adapter;
  if (adapter.constructor.name !== "PostgresAdapter")
    throw new ConfigError(
      `database: a Kysely instance given to RapidSMS must be on PostgreSQL (its PostgresDialect), not ${adapter.constructor.name}; for SQLite give a sqlite: URL`,
    );
  return store(db.withoutPlugins() as Kysely<Database>, naming, false);
}

function store(db: Kysely<Database>, naming: StoreNaming = DEFAULT_NAMING, owned: boolean): KyselyStore {
  const lockSpace = naming.schema || naming.tablePrefix ? `${naming.schema ?? ""}.${naming.tablePrefix}:` : "";
  return new KyselyStore({ db, dialect: (named) => postgresDialect(named, lockSpace), naming, owned });
}
