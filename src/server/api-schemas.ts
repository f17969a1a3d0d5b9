import { z } from "zod";
import { LIMITS, unfitText } from "../messages/limits.ts";
import { MAX_SCHEDULE_MS, unfitSendAt } from "../messages/send-at.ts";
import { STATUSES } from "../messages/status.ts";
import { eventUrl, forward } from "./webhook-schemas.ts";

/** The largest id a PostgreSQL `integer` (and `serial`) holds. */
export const MAX_ID = 2_147_483_647;

/** Refuses what no store or gateway can keep (a lone surrogate, a NUL), with the reason. */
export const storable = (schema: z.ZodString) =>
  schema.superRefine((value, ctx) => {
    const unfit = unfitText(value);
    if (unfit) ctx.addIssue({ code: "custom", message: unfit });
  });
const identity = storable(z.string().trim().min(1).max(LIMITS.identity));

/** When to send: ISO 8601 with a zone, at most a year ahead; a time that has come means now. */
export const sendAt = z
  .string()
  .superRefine((value, ctx) => {
    const unfit = unfitSendAt(value);
    if (unfit) ctx.addIssue({ code: "custom", message: unfit });
    else if (Date.parse(value) - Date.now() > MAX_SCHEDULE_MS)
      ctx.addIssue({ code: "custom", message: "more than a year ahead; schedule it at most 366 days from now" });
  })
  .describe("Send it then (ISO 8601 with a time zone, as in `2026-12-24T08:00:00+03:00`), at most a year ahead; a time that has come means now.");

export const sendMessageBody = z
  .object({
    text: storable(z.string().max(LIMITS.text)).describe("The message text; it is split into SMS segments by the gateway."),
    backend: z.string().min(1).optional().describe("Installed backend to send through, with `identities`."),
    identities: z.array(identity).min(1).max(LIMITS.recipients).optional().describe("Recipients on `backend`."),
    connections: z
      .array(z.object({ backend: z.string().min(1), identity }).strict())
      .min(1)
      .max(LIMITS.recipients)
      .optional()
      .describe("Recipients on several backends."),
    group: z
      .union([z.number().int().positive().max(MAX_ID), z.string().min(1).max(100)])
      .optional()
      .describe("A group (its id or name): every member, at their first connection or the one on `backend`."),
    sendAt: sendAt.optional(),
    eventUrl: eventUrl.optional(),
  })
  .strict()
  .refine((body) => [body.identities, body.connections, body.group].filter((r) => r !== undefined).length === 1, {
    message: "give one of `backend` and `identities`, `connections`, or `group`",
  })
  .refine((body) => body.identities === undefined || body.backend !== undefined, { message: "`identities` need a `backend`" })
  .refine((body) => body.connections === undefined || body.backend === undefined, {
    message: "give `backend` and `identities`, or `connections`, not both",
  })
  .refine((body) => body.eventUrl === undefined || body.group === undefined, {
    message: "`eventUrl` is for messages to `identities` or `connections`, not to a `group`",
    path: ["eventUrl"],
  });

/** Characters of a text search. */
export const MAX_SEARCH_TEXT = 200;
/** Messages a text search looks through for one page, at most: a search never reads the whole log at once. */
export const TEXT_SCAN_LIMIT = 50_000;
/** Messages in one CSV export, at most. */
export const MAX_EXPORT_MESSAGES = 100_000;
/** The widest window the charts count over. */
export const MAX_STATS_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/i;
/** An ISO 8601 date, or a time with its offset (a time without one would be read in the server's zone), as the store compares them. */
const isoTime = (what: string) =>
  z
    .string()
    .max(40)
    .refine((value) => ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)), {
      message: `give ${what} as an ISO 8601 date or time with its offset, as 2026-12-01 or 2026-12-01T08:00:00Z`,
    })
    .transform((value) => new Date(value).toISOString());

/** The filters the message log and its CSV export share with `GET /api/messages`. */
const messageFilters = {
  identity: storable(z.string().trim().min(1).max(LIMITS.identity)).optional().describe("A phone number, matched whole, with or without its leading `+`."),
  backend: storable(z.string().min(1).max(100)).optional(),
  status: z.enum(STATUSES as [string, ...string[]]).optional(),
  direction: z.enum(["I", "O"]).optional(),
  text: storable(z.string().min(1).max(MAX_SEARCH_TEXT)).optional().describe("A piece of the text, in any case (on SQLite only ASCII letters ignore case)."),
  since: isoTime("since").optional().describe("Messages created at or after this time."),
  until: isoTime("until").optional().describe("Messages created before this time."),
};

const sinceBeforeUntil = (query: { since?: string; until?: string }, ctx: z.RefinementCtx) => {
  if (query.since && query.until && query.since >= query.until) {
    ctx.addIssue({ code: "custom", path: ["until"], message: "must be later than since" });
  }
};

export const listMessagesQuery = z
  .object({
    ...messageFilters,
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: storable(z.string().min(1).max(100))
      .optional()
      .describe(
        "The `next` of the previous page. A search by `text`, by `status` without a `direction`, or by `backend` without an `identity` looks through 50,000 messages a page at most (the newest, of the direction when given): its `next` then goes on from there, and a page may hold fewer messages than `limit`, even none.",
      ),
  })
  .strict()
  .superRefine(sinceBeforeUntil);

/** Recipients GET /api/messages/<id> gives at most, and without a `recipientsLimit`. */
export const MAX_DETAIL_RECIPIENTS = 500;
export const DETAIL_RECIPIENTS = 100;

export const messageDetailQuery = z
  .object({
    recipientsAfter: z.coerce
      .number()
      .int()
      .min(0)
      .max(MAX_ID)
      .optional()
      .describe("The `nextRecipients` of the previous answer: the recipients (transmission ids) after it."),
    recipientsLimit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_DETAIL_RECIPIENTS)
      .default(DETAIL_RECIPIENTS)
      .describe("Recipients in this answer, each with its attempts and delivery reports (500 at most)."),
  })
  .strict();

export const exportMessagesQuery = z
  .object({
    ...messageFilters,
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_EXPORT_MESSAGES)
      .default(MAX_EXPORT_MESSAGES)
      .describe("The newest this many messages (100,000 at most); narrow the time range to reach older ones."),
  })
  .strict()
  .superRefine(sinceBeforeUntil);

export const statsQuery = z
  .object({
    since: isoTime("since").optional().describe("Default: 24 hours before `until`."),
    until: isoTime("until").optional().describe("Default: now."),
  })
  .strict();

export const messageStats = z.object({
  since: z.string(),
  until: z.string(),
  hourly: z.array(z.object({ hour: z.string(), in: z.number().int(), out: z.number().int() })).describe("Hours (UTC) that had messages, oldest first."),
  backends: z
    .array(z.object({ backend: z.string(), delivered: z.number().int(), failed: z.number().int(), sent: z.number().int(), pending: z.number().int() }))
    .describe("Transmissions of the outbound messages of the window: delivered D, failed E, sent S (no report yet), pending Q or P."),
});

const status = z.enum(STATUSES as [string, ...string[]]).describe("Q queued, R received, P processing, S sent, D delivered, E errored");

const attempt = z.object({
  attempt: z.number().int(),
  at: z.string(),
  outcome: z.enum(["S", "retry", "E"]),
  durationMs: z.number().int(),
  error: z.string().nullable(),
  answer: z.string().nullable(),
});

const transmission = z.object({
  id: z.number().int(),
  backend: z.string(),
  identity: z.string(),
  status,
  error: z.string().nullable(),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  externalId: z.string().nullable(),
  segments: z.number().int().nullable(),
  sentAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});

const count = z.number().int();

export const messageSummary = z.object({
  id: z.string(),
  direction: z.enum(["I", "O"]),
  status,
  text: z.string(),
  externalId: z.string().nullable(),
  inResponseTo: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  sentAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  sendAt: z.string().nullable().describe("When a scheduled message was to go; null when it was sent at once."),
  handledBy: z.string().nullable().describe("Inbound: the app whose handle (or default) phase answered it."),
  processedAt: z.string().nullable().describe("Inbound: when the apps processed it."),
  recipients: z
    .object({ total: count, Q: count, R: count, P: count, S: count, D: count, E: count })
    .describe("Its transmissions (recipients): all of them, and how many have each status."),
  transmissions: z.array(transmission).describe("The first 20 recipients by id; `recipients.total` says how many there are."),
});

export const messageDetail = messageSummary.extend({
  fields: z.record(z.string(), z.unknown()),
  replies: z.array(messageSummary).describe("Inbound: the replies the apps made to it, in order (20 at most)."),
  transmissions: z
    .array(
      transmission.extend({
        attemptLog: z.array(attempt),
        deliveryReports: z.array(z.object({ at: z.string(), status, detail: z.string().nullable() })),
      }),
    )
    .describe("A page of its recipients in id order (`recipientsLimit`, 100 by default), each with every attempt and delivery report."),
  nextRecipients: z.number().int().nullable().describe("Pass it as `recipientsAfter` for the next page of recipients; null on the last."),
  forwards: z.array(forward).describe("Its webhook POSTs: the forward of an inbound message, the status events of an outbound one."),
});

export const acceptedMessage = z.object({
  id: z.string(),
  status,
  transmissions: z.number().int(),
  messages: z.array(z.string()).optional().describe("A group broadcast: every message it made (one per 10,000 members)."),
  skipped: z.number().int().optional().describe("A group broadcast: members with no connection to send to."),
  sendAt: z.string().optional().describe("A scheduled message: when it goes (ISO 8601, UTC)."),
});
export const cancelledMessage = z.object({
  id: z.string(),
  status,
  cancelled: z.number().int().describe("Transmissions that were still queued: they ended E with the error `cancelled`."),
  sending: z.number().int().describe("Transmissions being sent at that moment (P), perhaps at the gateway already: left alone."),
  sent: z.number().int().describe("Transmissions sent or delivered before."),
  failed: z.number().int().describe("Transmissions that had failed (or been cancelled) before."),
});
export const messagePage = z.object({ messages: z.array(messageSummary), next: z.string().nullable() });
export const apiError = z.object({ error: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() });
