import { calledUrl } from "../public-url.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";
import { signatureAlgorithm, validTwilioSignature, type SignedParams } from "./signature.ts";

/** The parameters Twilio sent: a POST's form body, or a GET's query (a webhook set to HTTP GET). */
export function webhookParams(request: ViewRequest): SignedParams {
  const source = request.method.toUpperCase() === "GET" ? request.query : request.body;
  if (source === null || typeof source !== "object" || Array.isArray(source)) return {};
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(source)) {
    if (typeof value === "string") params[name] = value;
    else if (Array.isArray(value)) params[name] = value.map(String);
  }
  return params;
}

/**
 * The 403 for a request that Twilio did not sign with this backend's key, else undefined. A GET
 * is signed over its URL alone; a POST over its URL and every parameter its body was read into,
 * whatever its content type says, unless the URL carries `bodySHA256` (then the raw body's hash
 * is checked instead).
 */
export function twilioRefusal(port: BackendPort, key: string, request: ViewRequest): ViewResponse | undefined {
  const header = request.headers?.["x-twilio-signature"];
  const signature = Array.isArray(header) ? header[0] : header;
  if (!signature) return textResponse(403, "forbidden: no X-Twilio-Signature header; only Twilio's own requests are taken here");
  const settings = request.headers?.["x-twilio-webhooks-signature-settings"];
  const algorithm = signatureAlgorithm(Array.isArray(settings) ? settings[0] : settings);
  if (!algorithm) return textResponse(403, "forbidden: X-Twilio-Webhooks-Signature-Settings names an algorithm other than HMAC_SHA1 or HMAC_SHA256");
  const url = calledUrl(port, request);
  if (!url)
    return textResponse(403, "forbidden: the URL Twilio called cannot be rebuilt from this request's Host header; set publicUrl to the base URL Twilio calls");
  const params = request.method.toUpperCase() === "GET" ? {} : webhookParams(request);
  if (validTwilioSignature(key, signature, { url, params, rawBody: request.rawBody, algorithm })) return undefined;
  return textResponse(
    403,
    `forbidden: X-Twilio-Signature does not match this request signed for ${url}: check the backend's authToken (or signingKey), and set publicUrl to the base URL Twilio calls when a proxy stands in front of this server`,
  );
}
