import { appTables } from "../apps/app.ts";
import { loadConfig } from "../config/load.ts";
import { migrateApps } from "../store/app-data/migrate.ts";
import { namingOf } from "../store/naming.ts";
import { openStore, redactUrl } from "../store/open.ts";

export async function runMigrate(options: { config?: string }): Promise<void> {
  const config = await loadConfig({ configPath: options.config });
  const store = openStore(config.database, config.baseDir, { naming: namingOf(config) });
  try {
    await store.migrate();
    await migrateApps(store.appData(), appTables(config.apps));
    process.stdout.write(`database ${redactUrl(config.database)} is up to date\n`);
  } finally {
    await store.close();
  }
}
