import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether `given` is the secret `expected`, in time that depends on neither: both are hashed
 * first, so the comparison never reveals a secret's content or its length.
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Values shorter than this are not looked for in free text: a one- or two-character value would
 * mangle every text it appears in, and cannot be kept secret by searching text anyway.
 */
const SHORTEST = 3;
/** Shorter values are redacted only as whole words, so that `abc` is not cut out of `abcdef`. */
const WHOLE_WORD_BELOW = 8;

/**
 * A function that replaces every secret value in a text with `***`: each raw, URL-encoded (both
 * ways), and JSON-escaped, in one pass. Used on every stored gateway answer, every error, and
 * every log line.
 */
export function secretRedactor(secrets: Iterable<string | null | undefined>): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < SHORTEST) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  if (forms.size === 0) return (text) => text;
  const alternatives = [...forms]
    .sort((a, b) => b.length - a.length)
    .map((form) => {
      const escaped = form.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      return form.length < WHOLE_WORD_BELOW ? `(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])` : escaped;
    });
  const pattern = new RegExp(alternatives.join("|"), "g");
  return (text) => text.replace(pattern, "***");
}

/** Every text value inside an option (a string, the values of a map, the items of a list), for redaction. */
export function secretValues(value: unknown, depth = 0): string[] {
  if (typeof value === "string") return [value];
  if (typeof value === "number" || typeof value === "bigint") return [String(value)];
  if (value === null || typeof value !== "object" || depth > 4) return [];
  return Object.values(value).flatMap((item) => secretValues(item, depth + 1));
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#]*):([^\s@/?#]*)@/gi;

/** `scheme://user:password@host` anywhere in a text becomes `scheme://user:***@host`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1$2:***@");
}

/** The passwords written into URLs in a text (`scheme://user:password@host`), decoded. */
export function urlPasswords(text: string): string[] {
  return [...text.matchAll(URL_CREDENTIALS)].flatMap((m) => {
    if (m[3] === "") return [];
    try {
      return [decodeURIComponent(m[3]), m[3]];
    } catch {
      return [m[3]];
    }
  });
}
