import module from "node:module";
import { Worker } from "node:worker_threads";
import { StoreInterruptedError, StoreUnavailableError } from "../errors.ts";
import type { Kysely, QueryResult } from "kysely";
import type { SqliteOptions } from "./sqlite-options.ts";
import type { Store } from "./store.ts";
import { METHODS, type Answer, type Call, type Method, type SqlMethod } from "./sqlite-thread-protocol.ts";
import { loadNow } from "../load-now.ts";

// The thread's module beside this one: .ts in a checkout, .js as built into dist/ for users.
const SOURCES = import.meta.url.endsWith(".ts");
const WORKER_FILE = new URL(`./sqlite-thread-worker${SOURCES ? ".ts" : ".js"}`, import.meta.url);

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface StoreThreadOptions extends SqliteOptions {
  /** A thread started earlier (see startStoreThread), which the store takes instead of starting one. */
  started?: StartedStoreThread;
  /** Restarts allowed within a minute before the store gives up; default 5. */
  restartsPerMinute?: number;
  /** Called once when the store gives up (the thread keeps dying): the process should exit, for its supervisor to start it again. */
  onFatal?: (error: Error) => void;
}

/** How the thread behind a store fares, for /healthz. */
export interface StoreThreadHealth {
  restarts: number;
  failed: boolean;
}

const threads = new WeakMap<object, { worker(): Worker; health(): StoreThreadHealth }>();

/** The thread behind a store opened by openSqliteStoreInThread (or a wrapper of it), if it is one. */
export function storeThread(store: object): { worker(): Worker; health(): StoreThreadHealth } | undefined {
  for (let at: object | null = store; at !== null; at = Object.getPrototypeOf(at)) {
    const found = threads.get(at);
    if (found) return found;
  }
  return undefined;
}

/** A store thread started before the database it will serve is known. */
export interface StartedStoreThread {
  /** The thread, for the store that will name its database; once. */
  take(): Worker | undefined;
  /** Stops it, if no store took it. */
  discard(): void;
}

/** A store thread: it serves the database its first message names (see sqlite-thread-worker.ts). */
const storeWorker = () => new Worker(WORKER_FILE, { workerData: { rapidsmsStoreThread: true } });

/** A store thread for a store that opens now. */
function newStoreThread(): Worker {
  // In a checkout, the thread's modules are loaded here (where they do nothing) first: with every
  // one already stripped and the compile cache written before the thread starts, the thread needs
  // no TypeScript stripper of its own (15 MiB). Built JavaScript needs neither. A thread started
  // ahead (startStoreThread) cannot wait for this: it strips its own on a first start after a change.
  if (SOURCES) {
    loadNow(import.meta.url, "./sqlite-thread-worker");
    module.flushCompileCache?.();
  }
  return storeWorker();
}

/**
 * Starts a store thread before its database is known: it boots and loads its modules (most of a
 * start's critical path) while the main thread reads the config, then opens the database
 * openSqliteStoreInThread gives it. `rapidsms start` calls this first thing.
 */
export function startStoreThread(): StartedStoreThread {
  let worker: Worker | undefined = storeWorker();
  worker.unref();
  return {
    take() {
      const taken = worker;
      worker = undefined;
      return taken;
    },
    discard() {
      void worker?.terminate();
      worker = undefined;
    },
  };
}

/**
 * The SQLite store in a thread of its own. `node:sqlite` is synchronous: on the main thread every
 * statement, and every commit that the kernel holds up behind its disk writes, would stop the
 * HTTP server for as long. Here the server only posts calls and awaits answers, and the database
 * work runs on another core.
 *
 * If the thread dies, the calls it was answering fail with StoreInterruptedError (the server
 * answers 503, which gateways retry) and a new thread takes the next calls. A thread that keeps
 * dying (more than `restartsPerMinute`) makes the store give up: every call fails with
 * StoreUnavailableError and `onFatal` is called.
 */
export function openSqliteStoreInThread(path: string, options: StoreThreadOptions = {}): Store {
  const restartsPerMinute = options.restartsPerMinute ?? 5;
  const pending = new Map<number, Pending>();
  const recentRestarts: number[] = [];
  let restarts = 0;
  let next = 0;
  let closing = false;
  let stopped: Error | undefined;
  let worker: Worker;

  const settle = (id: number) => {
    const call = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return call;
  };
  /** Calls posted to the current thread: if it dies, these (and only these) have an unknown outcome. */
  let posted = new Set<number>();
  const rejectPosted = (error: Error) => {
    for (const id of posted) settle(id)?.reject(error);
    posted = new Set();
  };
  const start = () => {
    const started = (restarts === 0 && options.started?.take()) || newStoreThread();
    // Before any call: the thread opens the database this message names first.
    started.postMessage({ sqliteStorePath: path, sqliteOptions: { synchronous: options.synchronous, tablePrefix: options.tablePrefix } });
    worker = started;
    // The thread keeps the process alive only while a call waits for it.
    if (pending.size === 0) started.unref();
    started.on("message", (answers: Answer[]) => {
      for (const { id, result, error } of answers) {
        posted.delete(id);
        const call = settle(id);
        if (error !== undefined) call?.reject(rebuilt(error));
        else call?.resolve(result);
      }
    });
    let reason: string | undefined;
    started.on("error", (error) => {
      reason = error.message;
    });
    started.on("exit", (code) => {
      if (closing || stopped || worker !== started) return;
      const why = reason ?? `it exited with code ${code}`;
      // Calls not yet posted wait in the outbox for the next thread; those the dead one had may or may not be done.
      rejectPosted(new StoreInterruptedError(`the SQLite store thread stopped (${why}) while answering; whether the call took effect is unknown, try again`));
      const now = Date.now();
      recentRestarts.push(now);
      while (recentRestarts.length > 0 && recentRestarts[0] < now - 60_000) recentRestarts.shift();
      if (recentRestarts.length > restartsPerMinute) {
        stopped = new StoreUnavailableError(
          `the SQLite store thread stopped ${recentRestarts.length} times within a minute (last: ${why}); restart the process`,
        );
        for (const id of [...pending.keys()]) settle(id)?.reject(stopped);
        outbox = [];
        options.onFatal?.(stopped);
        return;
      }
      restarts++;
      start();
    });
  };
  start();

  // Calls made in one turn of the event loop (a burst of requests) cross to the thread as one
  // message, and the thread answers a turn's results as one: a message costs more than a call.
  let outbox: Call[] = [];
  const flush = () => {
    const calls = outbox;
    outbox = [];
    if (stopped || calls.length === 0) return;
    for (const { id } of calls) posted.add(id);
    worker.postMessage(calls);
  };
  const call = (method: Method | SqlMethod, args: unknown[]) =>
    new Promise((resolve, reject) => {
      if (stopped) return reject(stopped);
      if (closing) return reject(new StoreUnavailableError("the store is closed"));
      const id = next++;
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      if (outbox.push({ id, method, args }) === 1) setImmediate(flush);
    });
  const store = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as Store;
  // A start asks for the migrations and then loads the server's modules, which keeps this thread
  // from turning its event loop for a good part of the start: posted at once, they run meanwhile.
  store.migrate = () => {
    const migrated = call("migrate", []) as Promise<void>;
    flush();
    return migrated;
  };
  // Kysely is loaded in this thread only for apps with tables of their own.
  let appDb: Kysely<unknown> | undefined;
  const appData = () =>
    (appDb ??= loadNow<typeof import("./app-data/thread-driver.ts")>(import.meta.url, "./app-data/thread-driver").threadKysely({
      execute: (sql) => call("sqlExecute", [sql]) as Promise<QueryResult<unknown>>,
      begin: (session) => call("sqlBegin", [session]) as Promise<void>,
      end: (session, commit) => call("sqlEnd", [session, commit]) as Promise<void>,
    }));
  store.appData = () => ({
    get db() {
      return appData();
    },
    dialect: "sqlite",
    naming: { tablePrefix: options.tablePrefix ?? "" },
  });
  store.close = async () => {
    if (closing || stopped) return;
    try {
      await call("close", []);
    } finally {
      closing = true;
      await worker.terminate();
    }
  };
  threads.set(store, { worker: () => worker, health: () => ({ restarts, failed: stopped !== undefined }) });
  return store;
}

/** The store thread's error (see `portable` in sqlite-thread-worker.ts) as an Error again, its code kept. */
function rebuilt(error: unknown): unknown {
  if (typeof error !== "object" || error === null || !("portableError" in error)) return error;
  const { name, message, stack, code, errcode, errstr } = error as Record<string, unknown>;
  const restored = Object.assign(new Error(String(message)), { code, errcode, errstr });
  restored.name = String(name);
  if (typeof stack === "string") restored.stack = stack;
  return restored;
}
