import { createHmac, timingSafeEqual } from "node:crypto";
import type { ViewRequest } from "../view.ts";

/**
 * The app's webhook signature (PayloadSingingPlugin.kt): HMAC-SHA256 keyed with the signing key
 * (UTF-8) over the body text followed by the X-Timestamp value, as lowercase hex.
 */
export function webhookSignature(key: string, rawBody: string, timestamp: string): string {
  return createHmac("sha256", key)
    .update(rawBody + timestamp, "utf8")
    .digest("hex");
}

export interface SignatureCheck {
  /** The app's signing key (the backend's webhookSigningKey). */
  key: string;
  /** How far X-Timestamp may be from this server's clock, either way. */
  freshnessSeconds: number;
  /** This server's clock, in ms. */
  now: number;
}

const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Why a webhook is not the app's own (the text of the 403), or undefined when it is: the
 * signature must match the body as received and X-Timestamp, and X-Timestamp must be within
 * `freshnessSeconds` of now. The app signs each attempt afresh, so its retries (up to two days
 * later) carry a fresh timestamp; a replayed request inside the window changes nothing (inbound
 * messages are deduplicated, reports are recorded once).
 */
export function signatureRefusal(check: SignatureCheck, request: Pick<ViewRequest, "headers" | "rawBody">): string | undefined {
  const signature = header(request, "x-signature")?.trim().toLowerCase();
  const timestamp = header(request, "x-timestamp")?.trim();
  if (!signature) {
    return "forbidden: no X-Signature header; the app signs every webhook once it has a signing key: only the app's own requests are taken here";
  }
  if (!timestamp || !UNIX_SECONDS.test(timestamp))
    return "forbidden: X-Timestamp is missing or not Unix seconds; only the app's own signed requests are taken here";
  if (request.rawBody === undefined) {
    return "forbidden: the body as received is not available to check X-Signature over: mount this view where the raw body is kept";
  }
  const expected = Buffer.from(webhookSignature(check.key, request.rawBody, timestamp), "hex");
  if (!HEX_SIGNATURE.test(signature) || !timingSafeEqual(expected, Buffer.from(signature, "hex"))) {
    return "forbidden: X-Signature does not match the body and X-Timestamp: set the backend's webhookSigningKey to the key in the app's Settings → Webhooks → Signing Key";
  }
  const skew = Math.abs(Math.round(check.now / 1000) - Number(timestamp));
  if (skew > check.freshnessSeconds) {
    return `forbidden: X-Timestamp ${timestamp} is ${skew} s away from this server's clock, more than freshnessSeconds (${check.freshnessSeconds}): a replayed request, or the phone's or this server's clock is wrong`;
  }
  return undefined;
}

function header(request: Pick<ViewRequest, "headers">, name: string): string | undefined {
  const value = request.headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
