import { parentPort, workerData } from "node:worker_threads";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** The store thread's side (see sqlite-thread.ts): runs each call on the SQLite store and answers. */
const store = openSqliteStore(workerData.path as string);
const port = parentPort!;

port.on("message", async ({ id, method, args }: { id: number; method: keyof Store; args: unknown[] }) => {
  try {
    const result = await (store[method] as (...args: unknown[]) => Promise<unknown>)(...args);
    port.postMessage({ id, result });
  } catch (error) {
    try {
      port.postMessage({ id, error });
    } catch {
      // Not cloneable (it carries functions, say): its message still says what went wrong.
      port.postMessage({ id, error: new Error(error instanceof Error ? error.message : String(error)) });
    }
  }
});
