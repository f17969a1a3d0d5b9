import { Worker } from "node:worker_threads";

/**
 * Run in the worker thread: its own connection to the file, checkpointing the WAL every so often.
 * After a run of turns in which nothing was committed and the WAL was all copied, it closes and
 * the thread ends.
 */
const CHECKPOINTER = `
const { DatabaseSync } = require("node:sqlite");
const { workerData } = require("node:worker_threads");
const db = new DatabaseSync(workerData.path);
db.exec("pragma busy_timeout = 5000");
const checkpoint = db.prepare("pragma wal_checkpoint(PASSIVE)");
// Changes whenever another connection has committed since this one last asked.
const dataVersion = db.prepare("pragma data_version");
let idle = 0;
let lastVersion;
const timer = setInterval(() => {
  try {
    // log: the frames in the WAL; checkpointed: how many of them are in the database file now.
    const { log, checkpointed } = checkpoint.get();
    const { data_version: version } = dataVersion.get();
    idle = log === checkpointed && version === lastVersion ? idle + 1 : 0;
    lastVersion = version;
  } catch {
    // Busy or locked: the next turn tries again, and the writer's own checkpoints are the backstop.
    idle = 0;
  }
  if (idle >= workerData.idleTurns) {
    clearInterval(timer);
    db.close();
  }
}, workerData.everyMs);
`;

export interface CheckpointerOptions {
  /** Commits, since the thread last ended (or the store opened), that start it; default 100. */
  startAfterCommits?: number;
  /** How often the thread checkpoints; default 500 ms. */
  everyMs?: number;
  /** Turns in a row with no commit and the WAL all copied, after which the thread ends; default 60 (30 s). */
  idleTurns?: number;
}

export interface Checkpointer {
  /** The writer has committed a transaction. */
  committed(): void;
  /** Whether the thread is running. */
  readonly running: boolean;
  stop(): Promise<void>;
}

/**
 * Copies the WAL back into a SQLite file from a worker thread. A checkpoint writes and syncs the
 * database file; done by the writing connection, it stalls the event loop for as long, in the
 * middle of whichever commit crossed the threshold. PASSIVE checkpoints never block the writer.
 *
 * The thread runs only while there are writes to copy: it starts once the writer has committed
 * `startAfterCommits` times, and ends after `idleTurns` turns with no commit and nothing left to copy. An
 * idle store has no thread (a Node environment, about 10 MiB, and two wake-ups a second), and a
 * start does not boot one while the server is loading.
 */
export function lazyCheckpointer(path: string, onError: (error: Error) => void, options: CheckpointerOptions = {}): Checkpointer {
  const { startAfterCommits = 100, everyMs = 500, idleTurns = 60 } = options;
  let commits = 0;
  let worker: Worker | undefined;
  // Stopped, or the thread failed: a thread that fails once would fail again.
  let stopped = false;
  const start = () => {
    const started = new Worker(CHECKPOINTER, { eval: true, workerData: { path, everyMs, idleTurns } });
    // Without its thread, the writer's own checkpoints still keep the WAL in bounds.
    started.on("error", (error) => {
      stopped = true;
      onError(error);
    });
    started.once("exit", () => {
      if (worker === started) worker = undefined;
      commits = 0;
    });
    started.unref();
    worker = started;
  };
  return {
    committed() {
      if (worker || stopped) return;
      if (++commits >= startAfterCommits) start();
    },
    get running() {
      return worker !== undefined;
    },
    async stop() {
      stopped = true;
      const running = worker;
      worker = undefined;
      await running?.terminate();
    },
  };
}
