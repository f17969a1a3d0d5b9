import type { CancelResult, Store } from "../store/store.ts";
import type { StatusEvents } from "./status-events.ts";

/**
 * Cancels what is still queued of outbound message `id`; each recipient cancelled is reported
 * `failed` with the error `cancelled`. What is being sent is not tried again: the sender reports
 * it the same way if its attempt fails (see ScheduledStore.cancelOutgoing).
 */
export async function cancelOutgoing(store: Store, events: StatusEvents, id: string): Promise<CancelResult | "inbound" | undefined> {
  const result = await store.cancelOutgoing({ id });
  if (result && result !== "inbound") {
    for (const [backend, changes] of Map.groupBy(result.changes, (c) => c.backend)) events.emitRecorded(backend, changes);
  }
  return result;
}
