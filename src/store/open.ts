import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { redactUrlCredentials } from "../security/secrets.ts";
import type { Store } from "./store.ts";
import { openPostgresStore } from "./postgres.ts";
import { openSqliteStore } from "./sqlite.ts";
import { openSqliteStoreInThread, type StoreThreadOptions } from "./sqlite-thread.ts";
import { withConnectionCache } from "./connection-cache.ts";

/** Opens the store a `database` URL names: `sqlite:PATH` (relative to `baseDir`) or `sqlite::memory:`. */
export function openStore(url: string, baseDir = process.cwd(), options: StoreThreadOptions = {}): Store {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path === "") throw new ConfigError(`database "${url}": give a file, as in sqlite:./rapidsms.db, or sqlite::memory:`);
    return path === ":memory:" ? openSqliteStore(path) : withConnectionCache(openSqliteStoreInThread(resolve(baseDir, path), options));
  }
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresStore(url);
  throw new ConfigError(`database "${redactUrl(url)}": expected sqlite:PATH, sqlite::memory: or postgres://user:password@host:port/database`);
}

export function redactUrl(url: string): string {
  return redactUrlCredentials(url);
}
