/**
 * Where RapidSMS's tables live in a database it may share with the host app: every table, index
 * and constraint name starts with `tablePrefix` (both databases), and on PostgreSQL they sit in
 * `schema` (created when missing) instead of the connection's current schema.
 */
export interface StoreNaming {
  tablePrefix: string;
  schema?: string;
}

export const DEFAULT_NAMING: StoreNaming = { tablePrefix: "" };

/** The naming a resolved config asks for (its `tablePrefix` and `databaseSchema`). */
export function namingOf(config: { tablePrefix: string; databaseSchema: string | null }): StoreNaming {
  return config.databaseSchema ? { tablePrefix: config.tablePrefix, schema: config.databaseSchema } : { tablePrefix: config.tablePrefix };
}

/** Letters, digits and underscores, not starting with a digit: a name that needs no quoting anywhere. */
export const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The migration tables, named after the tables they migrate (Kysely's default names when there is no prefix). */
export function migrationTables(naming: StoreNaming): { table: string; lock: string } {
  return { table: `${naming.tablePrefix}kysely_migration`, lock: `${naming.tablePrefix}kysely_migration_lock` };
}
