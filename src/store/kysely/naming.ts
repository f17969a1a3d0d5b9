import {
  type CreateIndexNode,
  type DropIndexNode,
  IdentifierNode,
  type Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimaryKeyConstraintNode,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type UniqueConstraintNode,
  type UnknownRow,
  WithSchemaPlugin,
} from "kysely";
import type { StoreNaming } from "../naming.ts";

export { DEFAULT_NAMING, migrationTables, namingOf, SQL_NAME, type StoreNaming } from "../naming.ts";

/** `db` with RapidSMS's table names: its queries name the tables as schema.ts does, and run on the prefixed ones in the schema. */
export function withNaming<DB>(db: Kysely<DB>, naming: StoreNaming, tables: readonly string[]): Kysely<DB> {
  let named = db;
  if (naming.tablePrefix !== "") named = named.withPlugin(new TablePrefixPlugin(naming.tablePrefix, tables));
  if (naming.schema) named = named.withPlugin(new WithSchemaPlugin(naming.schema));
  return named;
}

/**
 * Prefixes the names of the given tables wherever a query names them (from, into, joins,
 * references, `for update of`), and the name of every index and constraint a migration creates
 * or drops: PostgreSQL keeps index names per schema, so two prefixes in one schema must not clash.
 * Other names (aliases, columns) are left alone.
 */
class TablePrefixPlugin implements KyselyPlugin {
  private readonly transformer: PrefixTransformer;

  constructor(prefix: string, tables: readonly string[]) {
    this.transformer = new PrefixTransformer(prefix, new Set(tables));
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node, args.queryId);
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}

class PrefixTransformer extends OperationNodeTransformer {
  private readonly prefix: string;
  private readonly tables: ReadonlySet<string>;

  constructor(prefix: string, tables: ReadonlySet<string>) {
    super();
    this.prefix = prefix;
    this.tables = tables;
  }

  private name(node: IdentifierNode): IdentifierNode {
    return IdentifierNode.create(this.prefix + node.name);
  }

  protected override transformTable(node: TableNode): TableNode {
    const { identifier } = node.table;
    if (!this.tables.has(identifier.name)) return node;
    return { ...node, table: { ...node.table, identifier: this.name(identifier) } };
  }

  protected override transformCreateIndex(node: CreateIndexNode, queryId?: QueryId): CreateIndexNode {
    const transformed = super.transformCreateIndex(node, queryId);
    return { ...transformed, name: this.name(node.name) };
  }

  protected override transformDropIndex(node: DropIndexNode, queryId?: QueryId): DropIndexNode {
    const transformed = super.transformDropIndex(node, queryId);
    return { ...transformed, name: { ...transformed.name, identifier: this.name(node.name.identifier) } };
  }

  protected override transformUniqueConstraint(node: UniqueConstraintNode, queryId?: QueryId): UniqueConstraintNode {
    const transformed = super.transformUniqueConstraint(node, queryId);
    return node.name ? { ...transformed, name: this.name(node.name) } : transformed;
  }

  protected override transformPrimaryKeyConstraint(node: PrimaryKeyConstraintNode, queryId?: QueryId): PrimaryKeyConstraintNode {
    const transformed = super.transformPrimaryKeyConstraint(node, queryId);
    return node.name ? { ...transformed, name: this.name(node.name) } : transformed;
  }
}
