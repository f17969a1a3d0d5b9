import { createHash, createHmac } from "node:crypto";
import { sameSecret } from "../../security/secrets.ts";

export type TwilioAlgorithm = "HMAC_SHA1" | "HMAC_SHA256";

/** The request parameters a signature covers: a form's fields, each a value or (repeated) a list of them. */
export type SignedParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * `X-Twilio-Signature`: base64 HMAC (SHA-1 with the auth token, or SHA-256 with a webhook
 * SharedKey) of the URL Twilio called followed by every POST parameter, sorted by name, each as
 * name + value (a repeated one once per distinct value, values sorted), with no separators.
 */
export function twilioSignature(key: string, url: string, params: SignedParams, algorithm: TwilioAlgorithm = "HMAC_SHA1"): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (typeof value === "string") data += name + value;
    else for (const item of [...new Set(value)].sort()) data += name + item;
  }
  return createHmac(algorithm === "HMAC_SHA256" ? "sha256" : "sha1", key)
    .update(data, "utf8")
    .digest("base64");
}

/** The algorithm `X-Twilio-Webhooks-Signature-Settings` names (`key=…,algorithm=HMAC_SHA256`); absent means the auth token's SHA-1. */
export function signatureAlgorithm(settings: string | undefined): TwilioAlgorithm | undefined {
  if (!settings) return "HMAC_SHA1";
  for (const part of settings.split(",")) {
    const [name, value] = part.split("=", 2).map((s) => s.trim());
    if (name === "algorithm") return value === "HMAC_SHA256" || value === "HMAC_SHA1" ? value : undefined;
  }
  return "HMAC_SHA1";
}

/**
 * The same URL as Twilio may have written it: as given, with its scheme's default port added, or
 * with it removed (Twilio signs the URL as configured in its console, which a proxy may not keep).
 */
function urlForms(url: string): string[] {
  const match = /^(https?):\/\/([^/:?#]+)(?::(\d+))?(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, host, port, rest] = match;
  const standard = scheme.toLowerCase() === "https" ? "443" : "80";
  const withPort = `${scheme}://${host}:${port ?? standard}${rest}`;
  const withoutPort = port === undefined || port === standard ? `${scheme}://${host}${rest}` : url;
  return [...new Set([url, withPort, withoutPort])];
}

/**
 * Whether `signature` is Twilio's for this request. A JSON body is signed through the URL: Twilio
 * adds `bodySHA256=<hex SHA-256 of the body>` to it and signs the URL alone, so the body's hash
 * is checked too.
 */
export function validTwilioSignature(
  key: string,
  signature: string,
  request: { url: string; params: SignedParams; rawBody?: string; algorithm: TwilioAlgorithm },
): boolean {
  let bodyHash: string | null;
  try {
    bodyHash = new URL(request.url).searchParams.get("bodySHA256");
  } catch {
    return false;
  }
  if (bodyHash !== null) {
    const actual = createHash("sha256")
      .update(request.rawBody ?? "", "utf8")
      .digest("hex");
    if (!sameSecret(actual, bodyHash.toLowerCase())) return false;
  }
  const params = bodyHash === null ? request.params : {};
  return urlForms(request.url).some((url) => sameSecret(twilioSignature(key, url, params, request.algorithm), signature));
}
