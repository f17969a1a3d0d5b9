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

export const listMessagesQuery = z
  .object({
    identity: z.string().min(1).optional(),
    backend: z.string().min(1).optional(),
    status: z.enum(STATUSES as [string, ...string[]]).optional(),
    direction: z.enum(["I", "O"]).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.string().min(1).optional().describe("The `next` of the previous page."),
  })
  .strict();

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
  transmissions: z.array(transmission),
});

export const messageDetail = messageSummary.extend({
  fields: z.record(z.string(), z.unknown()),
  transmissions: z.array(
    transmission.extend({
      attemptLog: z.array(attempt),
      deliveryReports: z.array(z.object({ at: z.string(), status, detail: z.string().nullable() })),
    }),
  ),
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
