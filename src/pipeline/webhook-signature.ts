import { createHmac, timingSafeEqual } from "node:crypto";

/** The headers of a signed POST (see docs/operations.md, "Webhooks to other apps"). */
export const SIGNATURE_HEADER = "x-rapidsms-signature";
export const TIMESTAMP_HEADER = "x-rapidsms-timestamp";
export const DELIVERY_HEADER = "x-rapidsms-delivery";

/** How old a signed POST a receiver should still take, by default: older ones may be replays. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The delivery id is signed too: otherwise a captured POST replayed with another id would pass a receiver's check of repeats. */
function hexSignature(secret: string, timestamp: number | string, delivery: number | string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.${delivery}.`).update(body).digest("hex");
}

/**
 * The headers that sign `body` (Stripe-like): `X-RapidSMS-Timestamp` (unix seconds) and
 * `X-RapidSMS-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<delivery>.<body>")>`, with
 * `X-RapidSMS-Delivery` naming the POST, the same on every retry of it.
 */
export function signWebhook({
  secret,
  body,
  delivery,
  now = Date.now(),
}: {
  secret: string;
  body: string;
  delivery: number | string;
  now?: number;
}): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: `sha256=${hexSignature(secret, timestamp, delivery, body)}`,
    [DELIVERY_HEADER]: String(delivery),
  };
}

/**
 * For a receiver written in Node: whether a POST's raw body and headers (timestamp, delivery,
 * signature) were signed with `secret` within `toleranceSeconds` of now. Compares in constant time.
 */
export function verifyWebhook({
  secret,
  body,
  timestamp,
  delivery,
  signature,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  now = Date.now(),
}: {
  secret: string;
  body: string | Uint8Array;
  timestamp: string | undefined;
  delivery: string | undefined;
  signature: string | undefined;
  toleranceSeconds?: number;
  now?: number;
}): boolean {
  if (!timestamp || !signature || !delivery || !/^\d{1,12}$/.test(timestamp) || !/^\d{1,20}$/.test(delivery)) return false;
  if (Math.abs(Math.floor(now / 1000) - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(`sha256=${hexSignature(secret, timestamp, delivery, body)}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
