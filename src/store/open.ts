import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { redactUrlCredentials } from "../security/secrets.ts";
import type { Store } from "./store.ts";
import { openPostgresStore } from "./postgres.ts";
import { openSqliteStore, SQLITE_SYNCHRONOUS, type SqliteOptions, type SqliteSynchronous } from "./sqlite.ts";
import { openSqliteStoreInThread, type StoreThreadOptions } from "./sqlite-thread.ts";
import { withConnectionCache } from "./connection-cache.ts";

/**
 * Opens the store a `database` URL names: `sqlite:PATH` (relative to `baseDir`), optionally with
 * `?synchronous=normal` (see SqliteSynchronous), `sqlite::memory:`, or `postgres://…`.
 */
export function openStore(url: string, baseDir = process.cwd(), options: Pick<StoreThreadOptions, "onFatal" | "restartsPerMinute"> = {}): Store {
  if (url.startsWith("sqlite:")) {
    const [path, query] = splitQuery(url.slice("sqlite:".length));
    if (path === "") throw new ConfigError(`database "${url}": give a file, as in sqlite:./rapidsms.db, or sqlite::memory:`);
    const sqlite = sqliteOptions(url, query);
    return path === ":memory:"
      ? openSqliteStore(path, sqlite)
      : withConnectionCache(openSqliteStoreInThread(resolve(baseDir, path), { ...options, ...sqlite }));
  }
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresStore(url);
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
