import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { MessageQuery, MessageRecord, MessageStats, Store, TransmissionRecord } from "../store/store.ts";
import type { System } from "../system.ts";
import { parse } from "./api-parse.ts";
import { exportMessagesQuery, MAX_STATS_WINDOW_MS, statsQuery, TEXT_SCAN_LIMIT } from "./api-schemas.ts";
import { csvRow } from "./csv.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * How long the charts' counts are kept: counting a busy day takes the database a while (about
 * 0.7 s for 200,000 messages on SQLite here, with the store's one connection held), and every
 * page that loads asks for them.
 */
const STATS_KEPT_MS = 60_000;
/** Windows kept at once, at most; past that, counts are not kept. */
const STATS_KEPT_WINDOWS = 16;
/** Messages read from the store for each chunk of an export. */
const EXPORT_PAGE = 500;

const CSV_COLUMNS = [
  "id",
  "createdAt",
  "direction",
  "status",
  "backend",
  "identity",
  "transmissionStatus",
  "text",
  "handledBy",
  "inResponseTo",
  "error",
  "sentAt",
  "deliveredAt",
] as const;

/**
 * What the message log (`/messages/`) reads besides `GET /api/messages` and `GET /api/messages/<id>`:
 * the charts' counts and the CSV export of a search. Mounted inside /api, behind its guard.
 */
export function messageLogRoutes(api: FastifyInstance, system: System): void {
  const kept = new Map<string, { at: number; stats: Promise<MessageStats> }>();
  /** The counts of a window, shared by every request for it within STATS_KEPT_MS (asked at once too). */
  const stats = (key: string, count: () => Promise<MessageStats>) => {
    const now = Date.now();
    for (const [old, entry] of kept) if (now - entry.at > STATS_KEPT_MS) kept.delete(old);
    const found = kept.get(key);
    if (found) return found.stats;
    const counted = count();
    if (kept.size < STATS_KEPT_WINDOWS) {
      kept.set(key, { at: now, stats: counted });
      counted.catch(() => kept.delete(key));
    }
    return counted;
  };

  api.get("/messages/stats", async (request, reply) => {
    const query = parse(statsQuery, request.query, reply);
    if (!query) return reply;
    const until = query.until ?? new Date().toISOString();
    const since = query.since ?? new Date(Date.parse(until) - DAY_MS).toISOString();
    if (since >= until)
      return reply
        .code(400)
        .send({ error: "invalid request: until: must be later than since", issues: [{ path: "until", message: "must be later than since" }] });
    if (Date.parse(until) - Date.parse(since) > MAX_STATS_WINDOW_MS) {
      const message = "the window is at most 7 days: move since closer to until";
      return reply.code(400).send({ error: `invalid request: since: ${message}`, issues: [{ path: "since", message }] });
    }
    // Without an until, the window ends now: the request's own parameters name what it asked for.
    return stats(`${query.since ?? ""}|${query.until ?? ""}`, () => system.store.messageStats({ since, until }));
  });

  api.get("/messages.csv", async (request, reply) => {
    const query = parse(exportMessagesQuery, request.query, reply);
    if (!query) return reply;
    const { limit, ...filters } = query;
    const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
    return reply
      .type("text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="messages-${stamp}.csv"`)
      .send(Readable.from(csvChunks(system.store, { ...filters, status: filters.status as MessageRecord["status"] }, limit)));
  });
}

/**
 * The search as CSV, newest first, one row per message and recipient (only the recipients the
 * search names, when it names a number or backend), read from the store a page at a time. It
 * begins with a byte order mark: without one, Excel reads UTF-8 as its own code page and garbles
 * every text that is not ASCII.
 */
async function* csvChunks(store: Store, filters: Omit<MessageQuery, "limit" | "before">, limit: number): AsyncGenerator<string> {
  yield `\uFEFF${csvRow(CSV_COLUMNS)}`;
  let before: string | undefined;
  let left = limit;
  while (left > 0) {
    const size = Math.min(EXPORT_PAGE, left);
    // Each statement of a text search reads a bounded part of the log; the store serves others between them.
    const { messages: page, scannedTo } = await store.searchMessages({ ...filters, before, limit: size, scanLimit: TEXT_SCAN_LIMIT });
    let chunk = "";
    for (const message of page) {
      const recipients = message.transmissions.filter((t) => named(t, filters));
      for (const t of recipients.length > 0 ? recipients : [undefined]) chunk += csvRow(cells(message, t));
    }
    if (chunk !== "") yield chunk;
    left -= page.length;
    const next = page.length === size ? page.at(-1)!.id : scannedTo;
    if (next === null) return;
    before = next;
  }
}

function named(t: TransmissionRecord, filters: Pick<MessageQuery, "backend" | "identity">): boolean {
  const bare = (identity: string) => identity.replace(/^\+/, "");
  return (!filters.backend || t.backend === filters.backend) && (!filters.identity || bare(t.identity) === bare(filters.identity));
}

function cells(m: MessageRecord, t: TransmissionRecord | undefined) {
  return [
    m.id,
    m.createdAt,
    m.direction,
    m.status,
    t?.backend,
    t?.identity,
    t?.status,
    m.text,
    m.handledBy,
    m.inResponseTo,
    t?.error ?? m.error,
    t?.sentAt ?? m.sentAt,
    t?.deliveredAt ?? m.deliveredAt,
  ];
}
