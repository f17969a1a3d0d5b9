import type { Connection } from "../messages/connection.ts";
import type { Store } from "./store.ts";

/**
 * Remembers connections by backend and identity, in front of a store: every inbound message looks
 * its sender's connection up, and on the embedded store that lookup would otherwise cross to the
 * store thread and wait behind whatever commit is under way there. Only for a store that this
 * process alone writes (SQLite), where no other process can link a connection to a contact.
 *
 * Holds up to `max` connections in two generations: when the newer fills up, the older is dropped,
 * so the connections in use stay and the rest age out.
 */
export function withConnectionCache(store: Store, max = 20_000): Store {
  let recent = new Map<string, Connection>();
  let older = new Map<string, Connection>();
  /** Counts the times the cache was emptied: a lookup that began before one must not remember what it read. */
  let generation = 0;
  const keyOf = (backend: string, identity: string) => `${backend}\n${identity}`;
  const remember = (key: string, connection: Connection) => {
    if (recent.size >= max / 2) {
      older = recent;
      recent = new Map();
    }
    recent.set(key, connection);
  };
  const find = (key: string) => {
    const found = recent.get(key);
    if (found) return found;
    const aged = older.get(key);
    if (aged) remember(key, aged);
    return aged;
  };
  const cached: Store = Object.create(store);
  cached.lookupConnections = async ({ backend, identities }) => {
    const known = identities.map((identity) => find(keyOf(backend, identity)));
    if (known.every((c) => c !== undefined)) return known as Connection[];
    const began = generation;
    const connections = await store.lookupConnections({ backend, identities });
    if (began === generation) for (const connection of connections) remember(keyOf(backend, connection.identity), connection);
    return connections;
  };
  // A contact's connections change with it: what is remembered of them is forgotten.
  const forgetting =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await write(...args);
      } finally {
        recent = new Map();
        older = new Map();
        generation++;
      }
    };
  cached.createContact = forgetting((args) => store.createContact(args));
  cached.updateContact = forgetting((args) => store.updateContact(args));
  cached.deleteContact = forgetting((id) => store.deleteContact(id));
  cached.setConnectionContact = async ({ connectionId, contactId }) => {
    await store.setConnectionContact({ connectionId, contactId });
    generation++;
    for (const cache of [recent, older]) {
      for (const [key, connection] of cache) {
        if (connection.id === connectionId) cache.set(key, { ...connection, contactId });
      }
    }
  };
  return cached;
}
