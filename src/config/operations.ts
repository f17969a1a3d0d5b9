import { z } from "zod";
import { normalKeyword } from "../apps/opt-out-keywords.ts";

/**
 * The settings of what runs a service day to day (see docs/operations.md): metrics, opt-outs,
 * webhooks and retention. Each is a top-level config key.
 */

/** The English keywords people send to stop and to start again, as carriers and Twilio know them. */
export const DEFAULT_STOP_KEYWORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"] as const;
export const DEFAULT_START_KEYWORDS = ["START", "UNSTOP", "YES"] as const;

const keyword = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^\S+$/, "expected one word, such as STOP")
  // Matched as normalKeyword leaves it: one of punctuation alone would make an empty text a STOP.
  .refine(
    (word) => normalKeyword(word) !== "",
    "expected a word that is more than punctuation, such as STOP (punctuation, spaces and invisible characters around a keyword are ignored)",
  );

/** `optOut`: on by default; `false` turns it off. */
export const optOutSchema = z.union([
  z.literal(false),
  z
    .object({
      /** Words that opt the sender out; they replace the defaults (list them too to keep them). */
      stop: z
        .array(keyword)
        .min(1)
        .default([...DEFAULT_STOP_KEYWORDS]),
      /** Words that opt the sender back in. */
      start: z.array(keyword).default([...DEFAULT_START_KEYWORDS]),
      /** The one reply a STOP gets (translated like any app text), or null for none. */
      confirmation: z.string().min(1).nullable().default("You have been unsubscribed and will receive no more messages. Reply START to subscribe again."),
      /** The reply a START gets, or null for none. */
      startConfirmation: z.string().min(1).nullable().default("You have been subscribed again. Reply STOP to unsubscribe."),
    })
    .strict(),
]);
export type OptOutSettings = Exclude<z.output<typeof optOutSchema>, false>;

/** `webhooks`: how forwards to other apps (the `webhook` app, `eventUrl`) are signed and retried. */
export const webhooksSchema = z
  .object({
    /** The shared secret every forward is signed with (HMAC-SHA256); also RAPIDSMS_WEBHOOK_SECRET. */
    secret: z.string().min(16, "a webhook secret needs at least 16 characters").nullable().default(null),
    /** Each POST's deadline, from the request to the whole answer. */
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
    /** Tries per forward, the first included, before it is given up (E). */
    maxAttempts: z.number().int().positive().default(10),
    baseDelayMs: z.number().int().nonnegative().default(1_000),
    maxDelayMs: z.number().int().nonnegative().default(600_000),
    /** POSTs under way at once in one worker process: half for status events, the rest for forwards (see placesOf). */
    concurrency: z.number().int().positive().max(256).default(16),
    /**
     * When given, an `eventUrl` must have one of these hosts (exactly, or a subdomain of a
     * `.example.org` entry; `host:port` only that port), whatever they resolve to. When null, any
     * host but internal addresses (loopback, private, link-local, …), checked again when connecting.
     */
    allowedHosts: z.array(z.string().min(1).max(300)).max(1_000).nullable().default(null),
  })
  .strict();
export type WebhookSettings = z.output<typeof webhooksSchema>;

/** `retention`: null keeps everything (the default). */
export const retentionSchema = z
  .object({
    /** Finished messages older than this are purged, with their transmissions, attempts and reports. */
    days: z.number().positive().max(36_500),
  })
  .strict()
  .nullable();
export type RetentionSettings = NonNullable<z.output<typeof retentionSchema>>;
