import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { sql, type Transaction } from "kysely";
import type { Database } from "./schema.ts";
import { openSqliteStore } from "./sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-group-commit-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const FULL = 2;
const NORMAL = 1;
/** The connection's synchronous level, as the transaction running this sees it. */
const level = async (trx: Transaction<Database>) => Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0].synchronous);

async function fileStore(synchronous?: "full" | "normal") {
  const store = openSqliteStore(join(dir, `s-${files++}.db`), { synchronous });
  await store.migrate();
  return store;
}

test("a batch made only of writes that may defer their sync commits under NORMAL, and FULL is back for the next", async () => {
  const store = await fileStore();
  try {
    assert.equal(await store.dialect.write(level, { deferSync: true }), NORMAL);
    assert.equal(await store.dialect.write(level), FULL);
  } finally {
    await store.close();
  }
});

test("a batch with one write that needs its sync commits under FULL, the deferrable ones with it", async () => {
  const store = await fileStore();
  try {
    const levels = await Promise.all([
      store.dialect.write(level, { deferSync: true }),
      store.dialect.write(level),
      store.dialect.write(level, { deferSync: true }),
    ]);
    assert.deepEqual(levels, [FULL, FULL, FULL]);
  } finally {
    await store.close();
  }
});

test("FULL is restored after a deferrable batch that fails", async () => {
  const store = await fileStore();
  try {
    await assert.rejects(
      store.dialect.write(
        async () => {
          throw new Error("boom");
        },
        { deferSync: true },
      ),
      /boom/,
    );
    assert.equal(await store.dialect.write(level), FULL);
  } finally {
    await store.close();
  }
});

test("a connection lookup may defer its sync: it shares a NORMAL commit with another deferrable write", async () => {
  const store = await fileStore();
  try {
    const [connections, seen] = await Promise.all([
      store.lookupConnections({ backend: "kannel", identities: ["+255700000001"] }),
      store.dialect.write(level, { deferSync: true }),
    ]);
    assert.equal(seen, NORMAL);
    assert.equal(connections[0].identity, "+255700000001");
    // The message that names the connection is synced, and with it the connection's row.
    assert.equal(await store.dialect.write(level), FULL);
  } finally {
    await store.close();
  }
});

test("a store opened with synchronous = normal stays NORMAL", async () => {
  const store = await fileStore("normal");
  try {
    assert.equal(await store.dialect.write(level, { deferSync: true }), NORMAL);
    assert.equal(await store.dialect.write(level), NORMAL);
  } finally {
    await store.close();
  }
});
