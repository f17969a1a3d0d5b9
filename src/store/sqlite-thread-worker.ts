import { parentPort, workerData } from "node:worker_threads";
import { openSqliteStore } from "./sqlite.ts";
import type { Answer, Call } from "./sqlite-thread.ts";
import type { Store } from "./store.ts";

/** The store thread's side (see sqlite-thread.ts): runs each call on the SQLite store and answers. */
const store = openSqliteStore(workerData.path as string);
const port = parentPort!;
let answers: Answer[] = [];

function answer(reply: Answer): void {
  if (answers.push(reply) === 1) setImmediate(flush);
}

function flush(): void {
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
}

port.on("message", (calls: Call[]) => {
  for (const { id, method, args } of calls) {
    (store[method] as (...args: unknown[]) => Promise<unknown>)(...args).then(
      (result) => answer({ id, result }),
      (error: unknown) => answer({ id, error }),
    );
  }
});
