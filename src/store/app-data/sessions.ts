import { CompiledQuery, type Kysely, type QueryResult, type Transaction } from "kysely";

/** A statement for the store thread: SQL with its values, in a transaction (`session`) or on its own. */
export interface SqlCall {
  session: number | null;
  sql: string;
  parameters: readonly unknown[];
}

/** Thrown inside a transaction's callback to make Kysely roll it back. */
const ROLLBACK = Symbol("rollback");

interface Session {
  trx: Transaction<unknown>;
  finish(commit: boolean): void;
  done: Promise<void>;
  timer: NodeJS.Timeout;
}

/**
 * The store thread's side of the apps' database (see thread-driver.ts): statements run on the
 * store's own Kysely, so they take turns with the store's group commits on its one connection.
 * A transaction holds that connection from `begin` to `end`; one that is left without a
 * statement for `idleMs` is rolled back, so that a forgotten transaction cannot stop the store.
 */
export class SqlSessions {
  private readonly db: Kysely<unknown>;
  private readonly idleMs: number;
  private readonly sessions = new Map<number, Session>();
  private readonly expired = new Set<number>();

  constructor(db: Kysely<unknown>, idleMs = 10_000) {
    this.db = db;
    this.idleMs = idleMs;
  }

  async execute({ session, sql, parameters }: SqlCall): Promise<QueryResult<unknown>> {
    const query = CompiledQuery.raw(sql, [...parameters]);
    if (session === null) return this.db.executeQuery(query);
    const open = this.sessions.get(session);
    if (!open) throw this.gone(session);
    open.timer.refresh();
    try {
      return await open.trx.executeQuery(query);
    } finally {
      // Idle time counts from the end of the statement: a long one is no idle transaction.
      open.timer.refresh();
    }
  }

  /** Opens a transaction for `session`: resolves once it holds the connection. */
  begin(session: number): Promise<void> {
    let finish!: (commit: boolean) => void;
    const ended = new Promise<boolean>((resolve) => {
      finish = resolve;
    });
    return new Promise((ready, fail) => {
      const done = this.db.transaction().execute(async (trx) => {
        const timer = setTimeout(() => this.expire(session), this.idleMs);
        this.sessions.set(session, { trx, finish, done: settled, timer });
        ready();
        if (!(await ended)) throw ROLLBACK;
      });
      const settled: Promise<void> = done.then(
        () => {},
        (error: unknown) => {
          if (error !== ROLLBACK) throw error;
        },
      );
      // Before it is ready, a failure (BEGIN itself) is begin's; after, it is end's.
      settled.catch((error: unknown) => {
        if (!this.sessions.has(session)) fail(error);
      });
    });
  }

  /** Commits (or rolls back) the session's transaction; what the commit fails with is the caller's. */
  async end(session: number, commit: boolean): Promise<void> {
    const open = this.sessions.get(session);
    if (!open) {
      const expired = this.expired.has(session);
      if (expired && !commit) return void this.expired.delete(session);
      const error = this.gone(session);
      this.expired.delete(session);
      throw error;
    }
    this.sessions.delete(session);
    clearTimeout(open.timer);
    open.finish(commit);
    await open.done;
  }

  private expire(session: number): void {
    const open = this.sessions.get(session);
    if (!open) return;
    this.sessions.delete(session);
    this.expired.add(session);
    open.finish(false);
    open.done.catch(() => {});
  }

  private gone(session: number): Error {
    return new Error(
      this.expired.has(session)
        ? `the transaction was rolled back: ${this.idleMs} ms passed without a statement in it; keep transactions short, and inside one use only its trx (a call that waits for the store waits behind it)`
        : "the transaction is over",
    );
  }
}
