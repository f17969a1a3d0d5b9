import module from "node:module";
import { Worker } from "node:worker_threads";
import type { Store } from "./store.ts";
import { METHODS, type Answer, type Call, type Method } from "./sqlite-thread-protocol.ts";
// Does nothing here; see there. With every module of the thread already stripped and the compile
// cache written before it starts, the thread needs no TypeScript stripper of its own (15 MiB).
import "./sqlite-thread-worker.ts";

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The SQLite store in a thread of its own. `node:sqlite` is synchronous: on the main thread every
 * statement, and every commit that the kernel holds up behind its disk writes, would stop the
 * HTTP server for as long. Here the server only posts calls and awaits answers, and the database
 * work runs on another core.
 */
export function openSqliteStoreInThread(path: string): Store {
  module.flushCompileCache?.();
  const worker = new Worker(new URL("./sqlite-thread-worker.ts", import.meta.url), { workerData: { sqliteStorePath: path } });
  const pending = new Map<number, Pending>();
  let next = 0;
  let stopped: Error | undefined;
  // The thread keeps the process alive only while a call waits for it.
  worker.unref();
  const settle = (id: number) => {
    const call = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return call;
  };
  worker.on("message", (answers: Answer[]) => {
    for (const { id, result, error } of answers) {
      const call = settle(id);
      if (error !== undefined) call?.reject(error);
      else call?.resolve(result);
    }
  });
  const fail = (error: Error) => {
    stopped = error;
    for (const id of [...pending.keys()]) settle(id)?.reject(error);
  };
  worker.on("error", (error) => fail(new Error(`the SQLite store thread failed: ${error.message}`)));
  worker.on("exit", () => fail(stopped ?? new Error("the SQLite store thread has stopped (the store is closed)")));

  // Calls made in one turn of the event loop (a burst of requests) cross to the thread as one
  // message, and the thread answers a turn's results as one: a message costs more than a call.
  let outbox: Call[] = [];
  const flush = () => {
    const calls = outbox;
    outbox = [];
    worker.postMessage(calls);
  };
  const call = (method: Method, args: unknown[]) =>
    new Promise((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = next++;
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      if (outbox.push({ id, method, args }) === 1) setImmediate(flush);
    });
  const store = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as Store;
  store.close = async () => {
    if (stopped) return;
    await call("close", []);
    await worker.terminate();
  };
  return store;
}
