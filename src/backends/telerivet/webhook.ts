import { createHmac } from "node:crypto";
import { sameSecret } from "../../security/secrets.ts";
import { lastValues } from "../http/view.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";

/**
 * What Telerivet POSTed: its webhooks are `application/x-www-form-urlencoded` ("not JSON
 * encoded", telerivet.com/api/webhook), read as the last value of each repeated key. `form` is
 * false when the body was no form at all (another content type, or none).
 */
export function postedFields(request: ViewRequest): { fields: Record<string, unknown>; form: boolean } {
  const body = request.body;
  if (body === null || typeof body !== "object" || Array.isArray(body) || Buffer.isBuffer(body)) return { fields: {}, form: false };
  return { fields: lastValues(body as Record<string, unknown>), form: true };
}

/** The 400 for a body that is no form, after its secret has been checked. */
export const NOT_A_FORM = "the body is not a form: Telerivet POSTs its webhooks as application/x-www-form-urlencoded";

/** Refuses a webhook whose `secret` field is not one of the backend's secrets (a 403); undefined lets it through. */
export type SecretCheck = (fields: Record<string, unknown>) => ViewResponse | undefined;

/**
 * Telerivet signs nothing: it sends a shared secret as the POST field `secret` (the webhook
 * service's secret on incoming messages, the `status_secret` given with each message on its status
 * callbacks). Every expected secret is compared, each with `sameSecret`, so that neither which
 * one matched nor their contents or lengths show in the time taken. No secrets: every request passes.
 */
export function secretCheck(secrets: readonly string[], hint: string): SecretCheck {
  if (secrets.length === 0) return () => undefined;
  return (fields) => {
    const given = fields.secret;
    const matched = typeof given === "string" && secrets.map((secret) => sameSecret(given, secret)).includes(true);
    if (matched) return undefined;
    return textResponse(403, `forbidden: the POST field "secret" is ${given === undefined ? "missing" : "wrong"}: ${hint}`);
  };
}

/** The fields without `secret`: it is no field of a message, and never reaches the store or the logs. */
export function withoutSecret(fields: Record<string, unknown>): Record<string, unknown> {
  const { secret: _secret, ...rest } = fields;
  return rest;
}

/**
 * The `status_secret` sent with each message when no `statusSecret` is configured: an HMAC of the
 * backend's name keyed with its API key. Only Telerivet (which holds the key) and this server can
 * know it, it needs no setting, and it stays the same across restarts; it reveals nothing of the
 * key. Changing the API key changes it, so reports on messages sent before are refused then.
 */
export function derivedStatusSecret(apiKey: string, backendName: string): string {
  return createHmac("sha256", apiKey).update(`rapidsms telerivet status_secret for backend ${backendName}`, "utf8").digest("hex");
}

/** A field's value as text, when it is text that is not blank. */
export function scalar(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
