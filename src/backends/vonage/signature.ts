import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The dashboard's signature methods, by the names this backend's `signatureMethod` option takes. */
export const SIGNATURE_METHODS = ["md5hash", "md5", "sha1", "sha256", "sha512"] as const;
export type SignatureMethod = (typeof SIGNATURE_METHODS)[number];

/**
 * The text Vonage signs (its "Signing messages" guide): every parameter but `sig`, sorted by
 * name, each value with `&` and `=` replaced by `_`, written as `&name=value…` with a leading `&`.
 * The values are the decoded ones; `timestamp` and `nonce` are signed like any other parameter.
 */
export function signedText(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((name) => name !== "sig")
    .sort()
    .map((name) => `&${name}=${params[name].replace(/[&=]/g, "_")}`)
    .join("");
}

/** The `sig` of `params` (lower-case hex): md5 of the text followed by the secret, or an HMAC of the text keyed with the secret. */
export function vonageSignature(params: Readonly<Record<string, string>>, secret: string, method: SignatureMethod): string {
  const text = signedText(params);
  if (method === "md5hash") return createHash("md5").update(`${text}${secret}`, "utf8").digest("hex");
  return createHmac(method, secret).update(text, "utf8").digest("hex");
}

/** Whether `given` is the signature of `params`: hex in either case, compared in constant time. */
export function isVonageSignature(given: string, params: Readonly<Record<string, string>>, secret: string, method: SignatureMethod): boolean {
  const expected = Buffer.from(vonageSignature(params, secret, method), "latin1");
  const presented = Buffer.from(given.trim().toLowerCase(), "latin1");
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
