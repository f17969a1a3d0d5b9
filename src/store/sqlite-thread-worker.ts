import { isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { openSqliteStore, type SqliteOptions } from "./sqlite.ts";
import { keepCompiledCode } from "../load-now.ts";
import type { Kysely } from "kysely";
import { SqlSessions } from "./app-data/sessions.ts";
import { type Answer, type Call, type Method, SQL_METHODS, type SqlMethod } from "./sqlite-thread-protocol.ts";
import type { Store } from "./store.ts";

/**
 * The store thread's side (see sqlite-thread.ts): runs each call on the SQLite store and answers.
 * On the main thread this module does nothing: it is imported there only so that Node has already
 * stripped its types (and put them in the compile cache) when the thread starts.
 */
// The first message names the database: a thread may start before it is known (startStoreThread).
if (!isMainThread && workerData?.rapidsmsStoreThread)
  parentPort!.once("message", (open: { sqliteStorePath: string; sqliteOptions: SqliteOptions }) => {
    serve(openSqliteStore(open.sqliteStorePath, open.sqliteOptions), parentPort!);
    keepCompiledCode();
  });

function serve(store: Store, port: MessagePort): void {
  let answers: Answer[] = [];

  const flush = () => {
    const batch = answers;
    answers = [];
    try {
      port.postMessage(batch);
    } catch {
      // Something in it is not cloneable (an error carrying functions, say): send them one by one,
      // such an error as its message, which still says what went wrong.
      for (const reply of batch) {
        try {
          port.postMessage([reply]);
        } catch {
          const error = reply.error instanceof Error ? reply.error.message : String(reply.error ?? "the store's answer could not be passed back");
          port.postMessage([{ id: reply.id, error: new Error(error) }]);
        }
      }
    }
  };

  const answer = (reply: Answer) => {
    if (answers.push(reply) === 1) setImmediate(flush);
  };

  const sessions = new SqlSessions(store.appData().db as Kysely<unknown>);
  port.on("message", (calls: Call[]) => {
    for (const { id, method, args } of calls) {
      const run =
        method in SQL_METHODS
          ? (sessions[SQL_METHODS[method as SqlMethod]] as (...args: unknown[]) => Promise<unknown>).bind(sessions)
          : (store[method as Method] as (...args: unknown[]) => Promise<unknown>).bind(store);
      run(...args).then(
        (result) => answer({ id, result }),
        (error: unknown) => answer({ id, error: portable(error) }),
      );
    }
  });
}

/**
 * An error as it can cross to the main thread: a structured clone keeps an Error's message and
 * stack but drops its own properties, and the server tells a busy or full database (a 503) from a
 * bug (a 500) by `code` and `errcode`.
 */
function portable(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code, errcode, errstr } = error as { code?: unknown; errcode?: unknown; errstr?: unknown };
  return { portableError: true, name: error.name, message: error.message, stack: error.stack, code, errcode, errstr };
}
