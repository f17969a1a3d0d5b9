import { z } from "zod";
import { MAX_WEBHOOK_REPLIES } from "../pipeline/webhook-replies.ts";
import { MAX_WEBHOOK_URL } from "../pipeline/webhook-url.ts";

/** `eventUrl` on POST /api/messages; the rest of its checks (allowedHosts, a secret) need the config (see unfitEventUrl). */
export const eventUrl = z
  .string()
  .min(1)
  .max(MAX_WEBHOOK_URL)
  .describe(
    "An http(s) URL every status change of the message's transmissions is POSTed to, signed (see `webhooks` in this document). Needs `webhooks.secret`; its host must be in `webhooks.allowedHosts` when that is set, and otherwise may not be (or resolve to) a loopback, private or link-local address; no credentials in it. Only the HTTP status of its answers is kept.",
  );

/** One POST of the webhook outbox, as GET /api/messages/{id} shows it. */
export const forward = z.object({
  id: z.number().int().describe("Also the `X-RapidSMS-Delivery` header of its POSTs."),
  kind: z.enum(["message", "status"]).describe("`message`: the message forwarded by the webhook app; `status`: a status event for its eventUrl."),
  transmissionId: z.number().int().nullable(),
  url: z.string().describe("Scheme, host, port and the first path segment: later segments shown as `…`, the query as `?…`, no credentials."),
  status: z.enum(["Q", "P", "S", "E"]).describe("Q queued, P being POSTed, S accepted by the receiver (2xx), E given up"),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  error: z.string().nullable().describe("Why the last POST failed, and what happens next (for `status` events, never the receiver's answer text)."),
  answerStatus: z.number().int().nullable().describe("The HTTP status of the last answer, if one came."),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const messageEvent = z
  .object({
    event: z.literal("message"),
    id: z.string().describe("The message's id (replies and GET /api/messages/{id} name it)."),
    backend: z.string().describe("The installed backend it came through."),
    from: z.string().describe("The sender's identity on that backend (a phone number), as RapidPro names it."),
    text: z.string(),
    date: z.string().describe("When it was received, ISO 8601."),
    fields: z.record(z.string(), z.unknown()).describe("What the backend read besides the text (the gateway's id as `externalId`, …)."),
  })
  .describe("An inbound message, forwarded by the `webhook` app.");

export const statusEvent = z
  .object({
    event: z.literal("status"),
    messageId: z.string(),
    transmissionId: z.number().int().describe("The message's transmission to one recipient."),
    backend: z.string(),
    identity: z.string().describe("The recipient."),
    status: z.enum(["queued", "sent", "delivered", "failed"]),
    error: z.string().nullable().describe("Why a send failed (`queued` again with `retryAt`, or `failed`)."),
    retryAt: z.string().optional().describe("For a send that failed and will be tried again: when."),
    at: z.string().describe("When the change was recorded, ISO 8601."),
  })
  .describe("One status change of one transmission of a message sent with an eventUrl; a message's events come in the order of the changes.");

export const repliesAnswer = z
  .object({
    replies: z
      .array(z.union([z.string(), z.object({ text: z.string() })]))
      .max(MAX_WEBHOOK_REPLIES)
      .describe("Texts to send back to the sender of a forwarded message, as replies to it."),
  })
  .describe("Optional: a 2xx answer to a forwarded message may carry replies (a bare list of texts works too); an empty or non-JSON answer sends none.");

const signed = [
  {
    name: "X-RapidSMS-Timestamp",
    in: "header",
    required: true,
    schema: { type: "string", pattern: "^[0-9]+$" },
    description: "Unix seconds when it was signed; refuse POSTs older than 5 minutes (replays).",
  },
  {
    name: "X-RapidSMS-Signature",
    in: "header",
    required: true,
    schema: { type: "string", pattern: "^sha256=[0-9a-f]{64}$" },
    description:
      'sha256=<hex HMAC-SHA256(webhooks.secret, "<timestamp>.<delivery>.<raw body>")>, <delivery> being X-RapidSMS-Delivery; compare in constant time.',
  },
  {
    name: "X-RapidSMS-Delivery",
    in: "header",
    required: true,
    schema: { type: "string" },
    description:
      "The POST's id, the same on each retry of it, and signed: delivery is at least once, so keep your answer to each id and answer a repeat with the same answer (an empty answer to a repeat would lose the replies of the first).",
  },
];

const schemaOf = (schema: z.ZodType, io: "input" | "output" = "output") => z.toJSONSchema(schema, { io, unrepresentable: "any" });
const outcomes = {
  "2XX": { description: "Taken: not sent again (a repeat of a delivery must get the same answer as the first)" },
  "408": { description: "Tried again later, with a backoff (also 429 and 5xx, honouring Retry-After, and no answer within webhooks.timeoutMs)" },
  "4XX": { description: "Any other 4xx, and a 3xx (redirects are not followed): given up at once" },
};

/** OpenAPI 3.1's top-level `webhooks`: what this server POSTs to other apps. */
export function webhookDocument(): Record<string, unknown> {
  return {
    message: {
      post: {
        summary: "An inbound message, POSTed to appSettings.webhook.url",
        parameters: signed,
        requestBody: { required: true, content: { "application/json": { schema: schemaOf(messageEvent) } } },
        responses: {
          ...outcomes,
          "2XX": { description: "Taken; the answer may carry replies", content: { "application/json": { schema: schemaOf(repliesAnswer, "input") } } },
        },
      },
    },
    status: {
      post: {
        summary: "A status change of a message sent with an eventUrl, POSTed there",
        parameters: signed,
        requestBody: { required: true, content: { "application/json": { schema: schemaOf(statusEvent) } } },
        responses: outcomes,
      },
    },
  };
}
