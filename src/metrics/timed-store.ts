import { METHODS } from "../store/sqlite-thread-protocol.ts";
import type { Store } from "../store/store.ts";
import type { Metrics } from "./metrics.ts";

/**
 * The store with every call timed into `rapidsms_store_call_seconds{method}`. It inherits from the
 * store (so `storeThread()` and whatever else the store has still answer), each method shadowed by
 * a timed one made once; with metrics off, the store itself.
 */
export function timedStore(store: Store, metrics: Metrics): Store {
  if (!metrics.enabled) return store;
  const timed = Object.create(store) as Store;
  for (const method of METHODS) {
    const original = store[method] as (...args: unknown[]) => Promise<unknown>;
    if (typeof original !== "function") continue;
    const observe = metrics.storeTimer(method);
    const call = (...args: unknown[]) => {
      const started = performance.now();
      const done = () => observe((performance.now() - started) / 1_000);
      // The caller gets the store's own promise; the timing hangs off it (and handles its rejection only for itself).
      const answer = original.apply(store, args);
      answer.then(done, done);
      return answer;
    };
    Object.defineProperty(timed, method, { value: call, enumerable: true, writable: true, configurable: true });
  }
  return timed;
}
