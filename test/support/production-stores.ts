import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "./postgres.ts";

export interface ProductionStore {
  name: string;
  /** Why this store's tests cannot run here, or false (see POSTGRES_MISSING). */
  skip: string | false;
  /** A fresh, empty database on this store, as a `database` URL. */
  database(): Promise<string>;
}

/**
 * The stores users run, for a test file that must hold on both: a SQLite file behind the store
 * thread (as `npm start` runs it) and PostgreSQL (started on first use). Cleaned up after the file.
 */
export function productionStores(prefix: string): ProductionStore[] {
  let postgres: PostgresServer | undefined;
  let databases = 0;
  const dir = mkdtempSync(join(tmpdir(), `rapidsms-${prefix}-`));
  after(async () => {
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return [
    { name: "SQLite file, behind the store thread", skip: false, database: async () => `sqlite:${join(dir, `${prefix}-${databases++}.db`)}` },
    {
      name: "PostgreSQL",
      skip: POSTGRES_MISSING,
      database: async () => {
        postgres ??= await startPostgres();
        return postgres.createDatabase(`${prefix.replaceAll("-", "_")}_${databases++}`);
      },
    },
  ];
}
