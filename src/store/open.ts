import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { redactUrlCredentials } from "../security/secrets.ts";
import type { Store } from "./store.ts";
import type { Kysely } from "kysely";
import type { StoreNaming } from "./kysely/naming.ts";
import type { PgPool } from "./postgres.ts";
import { SQLITE_SYNCHRONOUS, type SqliteOptions, type SqliteSynchronous } from "./sqlite-options.ts";
import { openSqliteStoreInThread, type StoreThreadOptions } from "./sqlite-thread.ts";
import { withConnectionCache } from "./connection-cache.ts";
import { loadNow } from "../load-now.ts";

// The default (a SQLite file, served by the store thread) needs neither of these in this thread.
const postgres = () => loadNow<typeof import("./postgres.ts")>(import.meta.url, "./postgres");
const sqliteHere = () => loadNow<typeof import("./sqlite.ts")>(import.meta.url, "./sqlite");

/** A database the host app already has open: its `pg.Pool`, or its Kysely instance on PostgreSQL. */
// biome-ignore lint/suspicious/noExplicitAny: the host's database type is its own
export type HostDatabase = PgPool | Kysely<any>;

export interface OpenStoreOptions extends Pick<StoreThreadOptions, "onFatal" | "restartsPerMinute" | "started"> {
  naming?: StoreNaming;
}

/**
 * Opens the store a `database` URL names: `sqlite:PATH` (relative to `baseDir`), optionally with
 * `?synchronous=normal` (see SqliteSynchronous), `sqlite::memory:`, or `postgres://…`; or the
 * store on a database the host has open.
 */
export function openStore(url: string | HostDatabase, baseDir = process.cwd(), options: OpenStoreOptions = {}): Store {
  const { naming, ...thread } = options;
  try {
    return openNamed(url, baseDir, naming, thread);
  } finally {
    // A thread started ahead that this database does not use (PostgreSQL, a database in memory) stops.
    options.started?.discard();
  }
}

function openNamed(url: string | HostDatabase, baseDir: string, naming: StoreNaming | undefined, thread: StoreThreadOptions): Store {
  if (typeof url !== "string") {
    if (isKysely(url)) return postgres().openPostgresStoreOnKysely(url, naming);
    if (typeof url?.connect === "function") return postgres().openPostgresStoreOnPool(url, naming);
    throw new ConfigError("database: expected a URL (sqlite:PATH, postgres://…), a pg.Pool or a Kysely instance");
  }
  if (url.startsWith("sqlite:")) {
    if (naming?.schema)
      throw new ConfigError(`databaseSchema "${naming.schema}": schemas are PostgreSQL's; on SQLite use tablePrefix, or a file of RapidSMS's own`);
    const [path, query] = splitQuery(url.slice("sqlite:".length));
    if (path === "") throw new ConfigError(`database "${url}": give a file, as in sqlite:./rapidsms.db, or sqlite::memory:`);
    const sqlite = { ...sqliteOptions(url, query), tablePrefix: naming?.tablePrefix };
    return path === ":memory:"
      ? sqliteHere().openSqliteStore(path, sqlite)
      : withConnectionCache(openSqliteStoreInThread(resolve(baseDir, path), { ...thread, ...sqlite }));
  }
  if (/^postgres(ql)?:\/\//.test(url)) return postgres().openPostgresStore(url, { naming });
  throw new ConfigError(`database "${redactUrl(url)}": expected sqlite:PATH, sqlite::memory: or postgres://user:password@host:port/database`);
}

function splitQuery(rest: string): [string, string] {
  const at = rest.indexOf("?");
  return at < 0 ? [rest, ""] : [rest.slice(0, at), rest.slice(at + 1)];
}

function sqliteOptions(url: string, query: string): SqliteOptions {
  const options: SqliteOptions = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (name !== "synchronous") throw new ConfigError(`database "${url}": unknown option "${name}"; a sqlite: URL takes only ?synchronous=full|normal`);
    const synchronous = value.toLowerCase() as SqliteSynchronous;
    if (!SQLITE_SYNCHRONOUS.includes(synchronous)) throw new ConfigError(`database "${url}": synchronous=${value}; use full (the default) or normal`);
    options.synchronous = synchronous;
  }
  return options;
}

export function redactUrl(url: string): string {
  return redactUrlCredentials(url);
}

// biome-ignore lint/suspicious/noExplicitAny: as for HostDatabase
function isKysely(value: object): value is Kysely<any> {
  const candidate = value as { getExecutor?: unknown; withoutPlugins?: unknown };
  return typeof candidate.getExecutor === "function" && typeof candidate.withoutPlugins === "function";
}
