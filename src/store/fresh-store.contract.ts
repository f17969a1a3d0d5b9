import type { Store } from "./store.ts";

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
