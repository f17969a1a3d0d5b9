import type { Connection } from "../messages/connection.ts";
import type { OutgoingRecordInit, SendOutcome, Store } from "./store.ts";

/** What each contract test runs on: a fresh store from `open`, migrated, closed afterwards whatever happens. */
export function withFreshStore(open: () => Promise<Store>): (run: (store: Store) => Promise<void>) => Promise<void> {
  return async (run) => {
    const store = await open();
    await store.migrate();
    try {
      await run(store);
    } finally {
      await store.close();
    }
  };
}

/** An outbound message `id` to `connections`, with the text `text of <id>` (and what `extra` sets). */
export const outgoing = (id: string, connections: Connection[], extra: Partial<OutgoingRecordInit> = {}): OutgoingRecordInit => ({
  id,
  text: `text of ${id}`,
  fields: {},
  context: {},
  inResponseTo: null,
  connections,
  ...extra,
});

/** A claimed transmission's outcome: sent (S) unless `extra` says otherwise. */
export const sent = (t: { id: number; token: string; attempt: number }, extra: Partial<SendOutcome> = {}): SendOutcome => ({
  transmissionId: t.id,
  token: t.token,
  attempt: t.attempt,
  status: "S",
  durationMs: 1,
  ...extra,
});
