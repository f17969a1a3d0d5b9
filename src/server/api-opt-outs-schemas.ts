import { z } from "zod";
import { MAX_ID, storable } from "./api-schemas.ts";

export const OPT_OUT_LIMITS = {
  /** Characters of the reason a PUT may give. */
  reason: 500,
  pageSize: 500,
} as const;

/** `PUT /api/opt-outs/:backend/:identity`: the body is optional. */
export const optOutBody = z
  .object({ reason: storable(z.string().max(OPT_OUT_LIMITS.reason)).optional().describe("Why (kept as the opt-out's detail), e.g. who asked and how.") })
  .strict();

export const optOutsQuery = z
  .object({
    backend: z.string().min(1).max(100).optional().describe("Only the opt-outs on this backend."),
    limit: z.coerce.number().int().min(1).max(OPT_OUT_LIMITS.pageSize).default(50),
    after: z.coerce.number().int().positive().max(MAX_ID).optional().describe("The `next` of the previous page."),
  })
  .strict();

export const optOut = z.object({
  backend: z.string(),
  identity: z.string(),
  optedOut: z.literal(true),
  since: z.string().describe("When they opted out (ISO 8601)."),
  source: z
    .enum(["keyword", "provider", "api", "operator"])
    .describe("A keyword they sent, the provider's refusal (Twilio's 21610), the API, an operator (the CLI)."),
  detail: z.string().describe("The keyword sent, the provider's reason, or the reason given."),
  messageId: z.string().nullable().describe("Their STOP message, for a keyword opt-out."),
});

export const notOptedOut = z.object({ error: z.string(), backend: z.string(), identity: z.string(), optedOut: z.literal(false) });

export const optOutPage = z.object({ optOuts: z.array(optOut), total: z.number().int(), next: z.number().int().nullable() });
