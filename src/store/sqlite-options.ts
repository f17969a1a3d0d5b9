/**
 * How a commit reaches the disk. `full` (the default): each commit is synced before it is answered,
 * so an accepted message survives a power loss or an OS crash; group commit makes that one sync per
 * batch of messages, not one per message. `normal`: the WAL is synced only at checkpoints, which
 * survives `kill -9` and a crash of the process but may lose the last commits to a power loss.
 */
export type SqliteSynchronous = "full" | "normal";

export const SQLITE_SYNCHRONOUS: readonly SqliteSynchronous[] = ["full", "normal"];

export interface SqliteOptions {
  synchronous?: SqliteSynchronous;
  /** Starts the name of every table and index (see StoreNaming); default none. */
  tablePrefix?: string;
}
