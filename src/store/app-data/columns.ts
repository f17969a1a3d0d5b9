import { type ColumnDefinitionBuilder, type Kysely, SqliteAdapter } from "kysely";

type ColumnBuild = (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

/**
 * A primary key that numbers new rows itself, on SQLite and on PostgreSQL alike, for an app's
 * migrations: `.addColumn("id", ...idColumn(db))`. More on the column after it, as in
 * `idColumn(db, (c) => c.check(...))`.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations see the database untyped
export function idColumn(db: Kysely<any>, more: ColumnBuild = (c) => c): ["integer" | "serial", ColumnBuild] {
  return db.getExecutor().adapter instanceof SqliteAdapter ? ["integer", (c) => more(c.primaryKey().autoIncrement())] : ["serial", (c) => more(c.primaryKey())];
}
