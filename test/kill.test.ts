import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { Agent, request } from "undici";
import { FakeGateway } from "./support/fake-gateway.ts";
import { startServer, type ServerProcess } from "./support/server-process.ts";

const MESSAGES = 2_000;
const CONCURRENCY = 16;
const KILL_AT = [600, 1_300];

test(`kill -9 twice while ${MESSAGES} messages arrive: every accepted message is processed once and its reply sent`, { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-kill-"));
  const gateway = new FakeGateway();
  await gateway.listen();
  const configPath = join(dir, "rapidsms.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      installedBackends: {
        gw: {
          engine: "http",
          params: { identityName: "from", textName: "text", externalIdName: "id" },
          sendUrl: `${gateway.url}/send`,
        },
      },
      apps: ["echo"],
      database: "sqlite:./kill.db",
      logLevel: "warn",
      pipeline: { leaseMs: 1_500, pollMs: 100, baseDelayMs: 100, maxDelayMs: 1_000 },
    }),
  );
  let server: ServerProcess = await startServer(configPath);
  const port = server.port;
  after(async () => {
    server.child.kill("SIGKILL");
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const agent = new Agent({ connections: CONCURRENCY });
  const accepted = new Set<number>();
  let next = 0;
  let kills = 0;
  let restarting: Promise<void> | undefined;
  const started = Date.now();

  async function killAndRestart() {
    kills++;
    server.child.kill("SIGKILL");
    await server.exited;
    server = await startServer(configPath, port);
  }

  async function client() {
    for (let i = next++; i < MESSAGES; i = next++) {
      for (;;) {
        if (restarting) await restarting;
        try {
          const response = await request(`http://127.0.0.1:${port}/backend/gw/`, {
            method: "POST",
            dispatcher: agent,
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ id: `m${i}`, from: String(2_000_000 + (i % 97)), text: `echo m${i}` }).toString(),
          });
          await response.body.text();
          if (response.statusCode === 200) break;
          throw new Error(`status ${response.statusCode}`);
        } catch {
          // The server is down (killed): the same message, with the same id, is sent again.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      accepted.add(i);
      if (kills < KILL_AT.length && accepted.size >= KILL_AT[kills] && !restarting) {
        restarting = killAndRestart().finally(() => (restarting = undefined));
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const acceptedAt = Date.now();
  assert.equal(kills, KILL_AT.length);
  assert.equal(accepted.size, MESSAGES);

  const replies = () => new Set(gateway.params().map((p) => p.get("text")));
  const deadline = Date.now() + 90_000;
  while (replies().size < MESSAGES && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const repliedAt = Date.now();
  // A reply that reached the gateway just before a kill is recorded S only when its lease has run
  // out and it is sent again (at least once): wait for the store to settle, reading as the server runs.
  const watcher = new DatabaseSync(join(dir, "kill.db"), { readOnly: true });
  const unsent = () => Number((watcher.prepare("select count(*) as n from messages where direction = 'O' and status != 'S'").get() as { n: number }).n);
  while (unsent() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  watcher.close();

  server.child.kill("SIGTERM");
  assert.equal(await server.exited, 0, "graceful shutdown exits 0");

  const db = new DatabaseSync(join(dir, "kill.db"), { readOnly: true });
  const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
  const inbound = count("select count(*) as n from messages where direction = 'I'");
  const distinctInbound = count("select count(distinct external_id) as n from messages where direction = 'I'");
  const received = count("select count(*) as n from messages where direction = 'I' and status = 'R'");
  const repliesStored = count("select count(*) as n from messages where direction = 'O'");
  const repliesSent = count("select count(*) as n from messages where direction = 'O' and status = 'S'");
  const maxRepliesPerMessage = count("select coalesce(max(c), 0) as n from (select count(*) as c from messages where direction = 'O' group by in_response_to)");
  db.close();

  const delivered = gateway.requests.length;
  const duplicates = delivered - replies().size;
  t.diagnostic(
    `accepted ${accepted.size} in ${acceptedAt - started} ms with ${kills} kill -9; all replies at the gateway after ${repliedAt - started} ms; ` +
      `inbound stored ${inbound}, processed (R) ${received}, replies stored ${repliesStored}, sent (S) ${repliesSent}; ` +
      `gateway requests ${delivered}, duplicates at the gateway ${duplicates}`,
  );
  assert.equal(inbound, MESSAGES, "one stored message per accepted request (redeliveries deduped)");
  assert.equal(distinctInbound, MESSAGES);
  assert.equal(received, MESSAGES, "every accepted message processed");
  assert.equal(repliesStored, MESSAGES, "exactly one reply per message: each was processed once");
  assert.equal(maxRepliesPerMessage, 1);
  assert.equal(repliesSent, MESSAGES, "the store shows every reply S");
  const missing = Array.from({ length: MESSAGES }, (_, i) => `m${i}`).filter((text) => !replies().has(text));
  assert.deepEqual(missing, [], "every reply reached the gateway");
});
