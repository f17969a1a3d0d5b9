import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { lazyCheckpointer } from "./sqlite-checkpointer.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-checkpointer-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`still waiting for ${what} after 10 s`);
    await sleep(10);
  }
}

/** A WAL-mode file whose writer never checkpoints by itself. */
function walFile(name: string): { path: string; db: DatabaseSync; write(n: number): void } {
  const path = join(dir, name);
  const db = new DatabaseSync(path);
  db.exec("pragma journal_mode = wal; pragma wal_autocheckpoint = 0; create table t (x text)");
  const insert = db.prepare("insert into t values (?)");
  return {
    path,
    db,
    write: (n) => {
      for (let i = 0; i < n; i++) insert.run("x".repeat(2_000));
    },
  };
}

test("the checkpoint thread starts only after the given number of commits", async () => {
  const errors: Error[] = [];
  const checkpointer = lazyCheckpointer(join(dir, "count.db"), (error) => errors.push(error), { startAfterCommits: 5, everyMs: 20 });
  try {
    for (let i = 0; i < 4; i++) checkpointer.committed();
    assert.equal(checkpointer.running, false, "four commits of five: no thread yet");
    checkpointer.committed();
    assert.equal(checkpointer.running, true);
  } finally {
    await checkpointer.stop();
  }
  assert.equal(checkpointer.running, false);
  checkpointer.committed();
  assert.equal(checkpointer.running, false, "a stopped checkpointer starts no thread");
  assert.deepEqual(errors, []);
});

test("the checkpoint thread copies the WAL into the database file, ends once the WAL has nothing new, and starts again on more commits", async () => {
  const { path, db, write } = walFile("idle.db");
  const checkpointer = lazyCheckpointer(path, (error) => assert.fail(error), { startAfterCommits: 1, everyMs: 20, idleTurns: 3 });
  try {
    const before = statSync(path).size;
    write(100);
    checkpointer.committed();
    await until(() => statSync(path).size > before + 150_000, "the WAL copied into the file");
    await until(() => !checkpointer.running, "the thread to end with nothing new to copy");

    const copied = statSync(path).size;
    write(100);
    checkpointer.committed();
    assert.equal(checkpointer.running, true, "it starts again");
    await until(() => statSync(path).size > copied + 150_000, "the new writes copied too");
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test("a checkpoint thread stays up while commits keep coming, however few frames each adds", async () => {
  const { path, db, write } = walFile("busy.db");
  // 600 ms without a commit would end it; the writes below come every 5 ms for 2 s.
  const checkpointer = lazyCheckpointer(path, (error) => assert.fail(error), { startAfterCommits: 1, everyMs: 10, idleTurns: 60 });
  try {
    checkpointer.committed();
    const end = Date.now() + 2_000;
    for (let writes = 1; Date.now() < end; writes++) {
      write(1);
      await sleep(5);
      assert.equal(checkpointer.running, true, `still running after ${writes} writes`);
    }
  } finally {
    await checkpointer.stop();
    db.close();
  }
});
