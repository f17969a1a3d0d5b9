import type { CompiledQuery, Compilable, QueryResult } from "kysely";

const MARK = "\u0000rapidsms-param:";

/** Runs compiled queries: the store's Kysely instance or a transaction of it. */
export interface Executor {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * A query built and compiled by Kysely once, then run with new values. Kysely otherwise builds
 * and compiles every query on every call, which on the hot path (a dozen statements a message)
 * cost a fifth of the time; a compiled query's text is also the same string each time, so the
 * SQLite adapter's statement cache finds it at once.
 *
 * The builder gets `param(name)` for the values that change; everything else it puts in the query
 * stays as built. Each parameter is found by its mark after compiling, so the order of values is
 * Kysely's, never a guess.
 */
export class PreparedQuery<Name extends string, Row> {
  private readonly compiled: CompiledQuery<Row>;
  private readonly slots: ({ name: Name } | { value: unknown })[];
  private readonly direct: Executor | undefined;

  /**
   * `direct`, when given, runs the query instead of the executor passed to `run`: on SQLite, the
   * statement itself on the store's only connection, which is inside the same transaction.
   */
  // biome-ignore lint/suspicious/noExplicitAny: a mark stands in for a value of whatever type the column has
  constructor(build: (param: (name: Name) => any) => Compilable<Row>, direct?: Executor) {
    this.direct = direct;
    this.compiled = build((name) => `${MARK}${name}`).compile();
    this.slots = this.compiled.parameters.map((value) =>
      typeof value === "string" && value.startsWith(MARK) ? { name: value.slice(MARK.length) as Name } : { value },
    );
  }

  /** Runs the query with `values` (by parameter name) on `db`. */
  run(db: Executor, values: Readonly<Record<Name, unknown>>): Promise<QueryResult<Row>> {
    const parameters = this.slots.map((slot) => ("name" in slot ? values[slot.name] : slot.value));
    return (this.direct ?? db).executeQuery({ ...this.compiled, parameters });
  }
}
