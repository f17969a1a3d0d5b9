/**
 * `node bench/storage-size.ts [--conversations N]`: how much disk a month or a year of traffic
 * takes on the embedded SQLite store. It stores N conversations as the pipeline does (an inbound
 * message as Kannel gives it, processed; one reply sent with a gateway id, its attempt and a
 * delivery report), checkpoints and vacuums, and reports the bytes per message and per million
 * messages (see docs/operations.md, "Retention").
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../src/store/sqlite.ts";

const { values } = parseArgs({ options: { conversations: { type: "string", default: "20000" } } });
const conversations = Number(values.conversations);
const dir = mkdtempSync(join(tmpdir(), "rapidsms-size-"));
const path = join(dir, "size.db");
const store = openSqliteStore(path, { synchronous: "normal" });
await store.migrate();
const DAY = 24 * 60 * 60 * 1000;
const identities = Array.from({ length: 1_000 }, (_, i) => `+2547${String(10_000_000 + i)}`);
const connections = await store.lookupConnections({ backend: "kannel", identities });
const started = Date.now();
for (let i = 0; i < conversations; i++) {
  const connection = connections[i % connections.length];
  const id = `in-${i}`;
  await store.acceptIncoming({
    message: {
      id,
      text: "REPORT MALARIA 12 CLINIC 4471",
      fields: { externalId: `kannel-${i}`, smsc: "safaricom", receivedAt: new Date().toISOString() },
      connection,
    },
    dedupeWindowMs: DAY,
  });
  const [held] = await store.claimIncoming({ claim: { token: `c${i}`, until: Date.now() + 60_000 }, limit: 1, maxAttempts: 5, only: id });
  const { claimed } = await store.completeIncoming({
    id,
    token: held.token,
    replies: [
      {
        id: `out-${i}`,
        text: "Thank you. Your report of 12 malaria cases at clinic 4471 was received.",
        fields: {},
        context: {},
        inResponseTo: id,
        connections: [connection],
      },
    ],
    claimReplies: { token: `r${i}`, until: Date.now() + 60_000 },
  });
  const [t] = claimed;
  await store.recordAttempts({
    outcomes: [
      {
        transmissionId: t.id,
        messageId: t.messageId,
        token: t.token,
        attempt: 1,
        status: "S",
        externalId: `gw-${i}`,
        answer: "0: Accepted for delivery",
        segments: 1,
        durationMs: 12,
      },
    ],
  });
  await store.reportDelivery({ ref: { backend: "kannel", externalId: `gw-${i}` }, report: { status: "D", detail: "1: delivered" } });
}
const elapsed = Date.now() - started;
// Gateway ids are kept for the dedupe window only (a day): not part of what a year keeps.
await store.purgeDedupe({ olderThan: Date.now() + 1 });
await store.close();
const db = new DatabaseSync(path);
db.exec("pragma wal_checkpoint(truncate); vacuum;");
db.close();
const bytes = statSync(path).size;
rmSync(dir, { recursive: true, force: true });
const messages = conversations * 2;
const perMessage = bytes / messages;
console.log(
  JSON.stringify(
    {
      conversations,
      messages,
      bytes,
      bytesPerMessage: Math.round(perMessage),
      gibPerMillionMessages: Number(((perMessage * 1_000_000) / 2 ** 30).toFixed(2)),
      storedPerSecond: Math.round((conversations * 1000) / elapsed),
    },
    null,
    2,
  ),
);
