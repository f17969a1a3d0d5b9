import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { type ServerProcess, startServer } from "../../test/support/server-process.ts";
import { waitFor } from "../../test/support/wait-for.ts";

const dir = mkdtempSync(join(tmpdir(), "rapidsms-retention-e2e-"));
const servers: ServerProcess[] = [];
after(() => {
  for (const server of servers) server.child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const say = (server: ServerProcess, identity: string, text: string) =>
  fetch(`${server.url}/backend/httptester/`, { method: "POST", body: new URLSearchParams({ identity, text }) }).then((r) => r.text());

const messages = async (server: ServerProcess): Promise<{ id: string; text: string; status: string }[]> =>
  ((await (await fetch(`${server.url}/api/messages?limit=100`)).json()) as { messages: { id: string; text: string; status: string }[] }).messages;

test("a server with retention: { days: 30 } purges the conversations finished 40 days ago, soon after it starts, and keeps today's", async () => {
  const database = join(dir, "rapidsms.db");
  const config = join(dir, "rapidsms.config.json");
  writeFileSync(
    config,
    JSON.stringify({ installedBackends: { httptester: { engine: "httptester" } }, apps: ["echo"], database: `sqlite:${database}`, retention: { days: 30 } }),
  );
  const first = await startServer(config);
  servers.push(first);
  assert.equal(await say(first, "1112223333", "echo from last month"), "OK");
  await waitFor("the echo sent", async () => (await messages(first)).filter((m) => m.status === "S").length === 1);
  first.child.kill("SIGTERM");
  await first.exited;

  const db = new DatabaseSync(database);
  const fortyDaysAgo = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000).toISOString();
  db.prepare("update messages set created_at = ?, updated_at = ?").run(fortyDaysAgo, fortyDaysAgo);
  const transmissions = Number((db.prepare("select count(*) as n from transmissions").get() as { n: number }).n);
  db.close();
  assert.equal(transmissions, 2, "the inbound message's and the reply's");

  const second = await startServer(config);
  servers.push(second);
  assert.equal(await say(second, "1112223333", "echo from today"), "OK");
  await waitFor("the old conversation purged", async () => (await messages(second)).every((m) => !m.text.includes("last month")), 30_000);
  const left = await messages(second);
  assert.deepEqual(left.map((m) => m.text).sort(), ["echo from today", "from today"]);
  await waitFor("the purge logged", () => second.output().includes("retention: purged 2 finished messages older than 30 days"));
  const check = new DatabaseSync(database, { readOnly: true });
  assert.equal(
    Number((check.prepare("select count(*) as n from transmissions").get() as { n: number }).n),
    2,
    "only today's conversation's transmissions are left",
  );
  check.close();
});
