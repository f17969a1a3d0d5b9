import type { Logger } from "pino";
import type { ResolvedConfig } from "./config/config.ts";
import { namingOf } from "./store/naming.ts";
import { type HostDatabase, openStore } from "./store/open.ts";
import type { StartedStoreThread } from "./store/sqlite-thread.ts";
import type { Store } from "./store/store.ts";

/** A system's store, opened and migrating (see openSystemStore). */
export interface OpeningStore {
  store: Store;
  /** The store's migrations (RapidSMS's own); rejects as migrate() does. */
  migrated: Promise<void>;
}

export interface SystemStoreOptions {
  /**
   * Called when the store gives up for good (its SQLite thread keeps dying): a process should
   * exit then, for its supervisor to start it again. By default it is logged.
   */
  onStoreFailed?: (error: Error) => void;
  /** A database the host app has open (its pg.Pool or Kysely instance), used instead of `config.database`. */
  database?: HostDatabase;
  /** A store thread started ahead (startStoreThread), for a SQLite file to take. */
  storeThread?: StartedStoreThread;
}

/**
 * Opens the store the config names and starts its migrations. `rapidsms start` calls this before
 * it loads the server's modules, so that the store thread starts and migrates on the other core
 * meanwhile; createSystem takes what it returns, or calls it itself.
 */
export function openSystemStore(config: ResolvedConfig, logger: Logger, options: SystemStoreOptions = {}): OpeningStore {
  const onFatal = options.onStoreFailed ?? ((error: Error) => logger.fatal({ err: error }, "the store gave up"));
  const store = openStore(options.database ?? config.database, config.baseDir, { onFatal, naming: namingOf(config), started: options.storeThread });
  const migrated = store.migrate();
  // Awaited by createSystem, perhaps after it fails: not an unhandled rejection meanwhile.
  migrated.catch(() => {});
  return { store, migrated };
}
