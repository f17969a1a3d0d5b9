import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { MessageQuery, MessageRecord, MessageStats, Store, TransmissionRecord } from "../store/store.ts";
import type { System } from "../system.ts";
import { parse } from "./api-parse.ts";
import { loadLater } from "../load-now.ts";
import { csvRow } from "./csv.ts";

// Built by the first request that needs them: zod schemas cost a start several ms to build.
const schemas = loadLater<typeof import("./api-schemas.ts")>(import.meta.url, "./api-schemas");

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
/** Recipients of a bulk message read from the store for each chunk of an export. */
const RECIPIENTS_PAGE = 1_000;

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
  const counting = new Map<string, Promise<MessageStats>>();
  /**
   * The counts of a window, shared by every request for it within STATS_KEPT_MS; a count under
   * way is shared by every request that asks meanwhile, kept or not (past STATS_KEPT_WINDOWS).
   */
  const stats = (key: string, count: () => Promise<MessageStats>) => {
    const now = Date.now();
    for (const [old, entry] of kept) if (now - entry.at > STATS_KEPT_MS) kept.delete(old);
    const found = kept.get(key) ?? { stats: counting.get(key) };
    if (found.stats) return found.stats;
    const counted = count().finally(() => counting.delete(key));
    counting.set(key, counted);
    counted.then(
      () => {
        if (kept.size < STATS_KEPT_WINDOWS) kept.set(key, { at: now, stats: counted });
      },
      () => undefined,
    );
    return counted;
  };

  api.get("/messages/stats", async (request, reply) => {
    const query = parse(schemas().statsQuery, request.query, reply);
    if (!query) return reply;
    const asked = query.until ?? new Date().toISOString();
    const askedSince = query.since ?? new Date(Date.parse(asked) - DAY_MS).toISOString();
    if (askedSince >= asked)
      return reply
        .code(400)
        .send({ error: "invalid request: until: must be later than since", issues: [{ path: "until", message: "must be later than since" }] });
    if (Date.parse(asked) - Date.parse(askedSince) > schemas().MAX_STATS_WINDOW_MS) {
      const message = "the window is at most 7 days: move since closer to until";
      return reply.code(400).send({ error: `invalid request: since: ${message}`, issues: [{ path: "since", message }] });
    }
    // A window given is counted to the whole minute (widened by less than one at each end): asked
    // again a few seconds on or off, it is the window counted already, not a count of its own.
    const until = query.until === undefined ? asked : minute(query.until, "up");
    const since = query.since === undefined ? askedSince : minute(query.since, "down");
    // Without an until, the window ends now: the request's own parameters name what it asked for.
    return stats(`${query.since === undefined ? "" : since}|${query.until === undefined ? "" : until}`, () => system.store.messageStats({ since, until }));
  });

  api.get("/messages.csv", async (request, reply) => {
    const query = parse(schemas().exportMessagesQuery, request.query, reply);
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
 * search names, when it names a number or backend), read from the store a page at a time, and
 * the recipients of a bulk message RECIPIENTS_PAGE at a time. It begins with a byte order mark:
 * without one, Excel reads UTF-8 as its own code page and garbles every text that is not ASCII.
 */
async function* csvChunks(store: Store, filters: Omit<MessageQuery, "limit" | "before">, limit: number): AsyncGenerator<string> {
  yield `\uFEFF${csvRow(CSV_COLUMNS)}`;
  let before: string | undefined;
  let left = limit;
  while (left > 0) {
    const size = Math.min(EXPORT_PAGE, left);
    // Each statement of a bounded search reads a bounded part of the log; the store serves others between them.
    const { messages: page, scannedTo } = await store.searchMessages({ ...filters, before, limit: size, scanLimit: schemas().TEXT_SCAN_LIMIT });
    let chunk = "";
    for (const message of page) {
      if (message.recipients.total <= message.transmissions.length) {
        const recipients = message.transmissions.filter((t) => named(t, filters));
        for (const t of recipients.length > 0 ? recipients : [undefined]) chunk += csvRow(cells(message, t));
        continue;
      }
      if (chunk !== "") yield chunk;
      chunk = "";
      for await (const slice of recipientSlices(store, message.id, filters)) {
        let rows = "";
        for (const t of slice) rows += csvRow(cells(message, t));
        yield rows;
      }
    }
    if (chunk !== "") yield chunk;
    left -= page.length;
    const next = page.length === size ? page.at(-1)!.id : scannedTo;
    if (next === null) return;
    before = next;
  }
}

/** A message's recipients (those the search names) in keyset slices, by transmission id. */
async function* recipientSlices(store: Store, messageId: string, filters: Pick<MessageQuery, "backend" | "identity">): AsyncGenerator<TransmissionRecord[]> {
  let after: number | undefined;
  for (;;) {
    const slice = await store.messageRecipients({ messageId, after, limit: RECIPIENTS_PAGE, backend: filters.backend, identity: filters.identity });
    if (slice.length > 0) yield slice;
    if (slice.length < RECIPIENTS_PAGE) return;
    after = slice.at(-1)!.id;
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

/** An ISO time to its minute, rounded down or up. */
function minute(iso: string, way: "down" | "up"): string {
  const ms = Date.parse(iso);
  return new Date((way === "down" ? Math.floor(ms / 60_000) : Math.ceil(ms / 60_000)) * 60_000).toISOString();
}
