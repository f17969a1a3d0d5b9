import { Worker } from "node:worker_threads";

/** Run in the worker thread: its own connection to the file, checkpointing the WAL every so often. */
const CHECKPOINTER = `
const { DatabaseSync } = require("node:sqlite");
const { workerData } = require("node:worker_threads");
const db = new DatabaseSync(workerData.path);
db.exec("pragma busy_timeout = 5000");
setInterval(() => {
  try {
    db.exec("pragma wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or locked: the next turn tries again, and the writer's own checkpoints are the backstop.
  }
}, workerData.everyMs);
`;

/**
 * Copies the WAL back into a SQLite file from a worker thread. A checkpoint writes and syncs the
 * database file; done by the writing connection, it stalls the event loop for as long, in the
 * middle of whichever commit crossed the threshold. PASSIVE checkpoints never block the writer.
 */
export function startCheckpointer(path: string, onError: (error: Error) => void, everyMs = 500): { stop(): Promise<void> } {
  const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { path, everyMs } });
  // Without its thread, the writer's own checkpoints still keep the WAL in bounds.
  worker.on("error", onError);
  worker.unref();
  return { stop: async () => void (await worker.terminate()) };
}
