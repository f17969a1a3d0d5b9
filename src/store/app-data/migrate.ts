import type { Kysely } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import { ConfigError, errorText } from "../../errors.ts";
import { SQL_NAME, type StoreNaming, withNaming } from "../kysely/naming.ts";
import { currentSchema, existingTables } from "../migrations.ts";
import { TABLES } from "../schema.ts";
import type { AppDataAccess } from "../store.ts";

/** An app's own tables, and the migrations that make them, in the order of their names. */
export interface AppTables {
  app: string;
  tables: readonly string[];
  migrations: Readonly<Record<string, Migration>>;
}

/** Every app's tables have names of their own: not RapidSMS's, not another app's; and the app a name fit for its migration table. */
export function checkAppTables(apps: readonly AppTables[]): void {
  // RapidSMS's tables, its migration tables, and each app's migration tables are taken.
  const owner = new Map<string, string>([...TABLES, "kysely_migration", "kysely_migration_lock"].map((table) => [table, "RapidSMS"]));
  for (const { app } of apps) for (const table of [`${app}_migration`, `${app}_migration_lock`]) owner.set(table, app);
  for (const { app, tables, migrations } of apps) {
    if (!SQL_NAME.test(app)) throw new ConfigError(`app "${app}" has tables: give it an appName of letters, digits and underscores`);
    if (app.toLowerCase() === "kysely") throw new ConfigError(`app "${app}" has tables: its migration table would be RapidSMS's; give it another appName`);
    if (Object.keys(migrations).length === 0) throw new ConfigError(`app "${app}": it declares tables but no migrations to make them`);
    for (const table of tables) {
      if (!SQL_NAME.test(table)) throw new ConfigError(`app "${app}": table "${table}" is not a plain name (letters, digits, underscores)`);
      const taken = owner.get(table);
      if (taken)
        throw new ConfigError(
          `app "${app}": table "${table}" is ${taken === "RapidSMS" ? "RapidSMS's" : `app "${taken}"'s`}; name it after the app, as in ${app}_${table}`,
        );
      owner.set(table, app);
    }
  }
}

/** The database as the apps see it: their tables and RapidSMS's by the names they declare, prefixed and in the schema as configured. */
// biome-ignore lint/suspicious/noExplicitAny: each app types its own tables
export function appDatabase(access: AppDataAccess, apps: readonly AppTables[]): Kysely<any> {
  return withNaming(access.db, access.naming, [...TABLES, ...apps.flatMap((app) => app.tables)]);
}

/**
 * Runs each app's migrations, after RapidSMS's own (store.migrate), an app's run in one transaction,
 * recorded in a migration table of the app's own (`<prefix><app>_migration`), so that apps
 * come and go without touching each other's history. On an app's first migration, tables of the
 * database with its tables' names stop the start with a ConfigError.
 */
export async function migrateApps(access: AppDataAccess, apps: readonly AppTables[]): Promise<void> {
  checkAppTables(apps);
  // Most installs have no app with tables: their start asks the database nothing more.
  if (apps.length === 0) return;
  const { db, dialect, naming } = access;
  const schema = dialect === "postgres" ? (naming.schema ?? (await currentSchema(db))) : undefined;
  const tablesOfApps = [...TABLES, ...apps.flatMap((app) => app.tables)];
  for (const { app, tables, migrations } of apps) {
    const table = `${naming.tablePrefix}${app}_migration`;
    if ((await existingTables(db, schema, [table])).length === 0) {
      const taken = await existingTables(
        db,
        schema,
        tables.map((t) => naming.tablePrefix + t),
      );
      if (taken.length > 0)
        throw new ConfigError(
          `app "${app}": the database already has tables named ${taken.join(", ")}, which its migrations did not make: rename the app's tables, or set tablePrefix`,
        );
    }
    const { error, results } = await new Migrator({
      db,
      provider: { getMigrations: async () => withNamedTables(migrations, naming, tablesOfApps) },
      migrationTableName: table,
      migrationLockTableName: `${table}_lock`,
      migrationTableSchema: schema,
    }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName;
      throw new Error(`app "${app}": database migration ${failed ?? "set-up"} failed: ${errorText(error)}`, { cause: error });
    }
  }
}

/** The migrations, run on the tables as `naming` names them. */
function withNamedTables(migrations: Readonly<Record<string, Migration>>, naming: StoreNaming, tables: readonly string[]): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(migrations).map(([name, m]): [string, Migration] => [
      name,
      {
        up: (trx) => m.up(withNaming(trx, naming, tables)),
        down: m.down && ((trx) => m.down!(withNaming(trx, naming, tables))),
      },
    ]),
  );
}
