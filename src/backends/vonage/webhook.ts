import { lastValues } from "../http/view.ts";
import { parseUrlencoded, UndecodableError } from "../../http/urlencoded.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";
import { isVonageSignature, type SignatureMethod } from "./signature.ts";

/** A webhook's parameters as Vonage sent them, by name (a repeated name keeps its last value). */
export type WebhookParams = Record<string, string>;

export type ReadParams = { ok: true; params: WebhookParams } | { ok: false; field: string; reason: string };

/**
 * The parameters of one of Vonage's webhooks, as the dashboard's "HTTP method" setting sends them:
 * GET in the query, POST form-encoded or POST-JSON in the body (a POST's query is not read, as the
 * guide says mixing the two is unsupported). The query is decoded strictly as UTF-8 from the URL
 * as received; JSON numbers and booleans are taken as their text, since Vonage signs text.
 */
export function readWebhookParams(request: ViewRequest): ReadParams {
  if (request.method.toUpperCase() === "GET") {
    const at = request.url.indexOf("?");
    try {
      return { ok: true, params: lastValues(at === -1 ? {} : parseUrlencoded(request.url.slice(at + 1))) as Record<string, string> };
    } catch (error) {
      if (error instanceof UndecodableError) return { ok: false, field: error.field, reason: error.message };
      throw error;
    }
  }
  let body = request.body;
  if (Buffer.isBuffer(body)) body = body.toString("utf8");
  if (typeof body === "string") {
    if (body.trim() === "") return { ok: true, params: {} };
    try {
      body = JSON.parse(body);
    } catch {
      return { ok: false, field: "__all__", reason: "the body is neither a form nor JSON: set the webhook's HTTP method to GET, POST or POST-JSON" };
    }
  }
  if (body === undefined || body === null) return { ok: true, params: {} };
  if (typeof body !== "object" || Array.isArray(body)) return { ok: false, field: "__all__", reason: "the body is not a JSON object of parameters" };
  const params: WebhookParams = {};
  for (const [name, value] of Object.entries(lastValues(body as Record<string, unknown>))) {
    if (typeof value === "string") params[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") params[name] = String(value);
    else if (value !== null && value !== undefined) return { ok: false, field: name, reason: "Expected text." };
  }
  return { ok: true, params };
}

export interface WebhookAuth {
  /** The dashboard's signature secret; null when webhooks are not signed. */
  signatureSecret: string | null;
  signatureMethod: SignatureMethod;
  /** How far the signed `timestamp` may be from this server's clock. */
  signatureMaxAgeMs: number;
}

/**
 * The 403 for a webhook whose signature is missing, wrong or stale, when the backend has a
 * signatureSecret; undefined lets it through. A signed `timestamp` too far from our clock (either
 * way) is refused, so a captured request cannot be replayed later.
 */
export function webhookRefusal(auth: WebhookAuth, params: WebhookParams, now = Date.now()): ViewResponse | undefined {
  const { signatureSecret, signatureMethod, signatureMaxAgeMs } = auth;
  if (signatureSecret === null) return undefined;
  const sig = params.sig;
  if (sig === undefined || sig === "")
    return forbidden(
      "the request carries no sig parameter, and this backend has a signatureSecret: ask Vonage to sign this API key's webhooks, or remove signatureSecret",
    );
  if (!isVonageSignature(sig, params, signatureSecret, signatureMethod))
    return forbidden(
      `the sig parameter is not the ${signatureMethod} signature of the request: set signatureSecret and signatureMethod to the API key's signature secret and method in the Vonage dashboard`,
    );
  const timestamp = params.timestamp;
  if (timestamp !== undefined) {
    const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (Number.isNaN(seconds)) return forbidden(`the signed timestamp ${JSON.stringify(timestamp.slice(0, 40))} is not a Unix time in seconds`);
    const skewMs = Math.abs(now - seconds * 1000);
    if (skewMs > signatureMaxAgeMs)
      return forbidden(
        `the signed timestamp is ${Math.round(skewMs / 1000)} s away from this server's clock, more than signatureMaxAgeMs allows (${Math.round(signatureMaxAgeMs / 1000)} s): check the server's clock`,
      );
  }
  return undefined;
}

function forbidden(reason: string): ViewResponse {
  return textResponse(403, `forbidden: ${reason}`);
}
