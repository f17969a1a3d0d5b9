/**
 * What a message may hold, the same for every backend and every store. Chosen from real
 * gateways: an identity is a phone number (E.164: 15 digits) or a gateway's address for a user
 * (Vumi, USSD, chat ids: tens of characters); gateways' own message ids are 32 to 40 characters
 * (Twilio SIDs 34, Kannel and Vumi 32 to 36, Africa's Talking about 40); a concatenated SMS of 255
 * parts holds 39,015 GSM characters, and no gateway we know takes more than 1,600 in one request.
 */
export const LIMITS = {
  /** Characters of an identity. */
  identity: 100,
  /** Characters of a gateway's id of a message. */
  externalId: 255,
  /** Characters of a message's text. */
  text: 10_000,
  /** Recipients of one send through `/api`; every bulk write is cut to the database's parameter limit. */
  recipients: 10_000,
  /** Characters of a note the store keeps: an error, a gateway's answer, a report's detail. */
  note: 2_000,
} as const;

/** Why a string cannot be stored as it is, or undefined: every store and gateway refuses these. */
export function unfitText(value: string): string | undefined {
  if (!value.isWellFormed()) return "Not valid text: it holds a lone UTF-16 surrogate, which no SMS can carry.";
  if (value.includes("\0")) return "Null characters are not allowed.";
  return undefined;
}

/** Identities no backend takes: control characters (a newline, a tab) change what a gateway reads. */
export const DEFAULT_IDENTITY_PATTERN = /^[^\p{Cc}]+$/u;

/** Why `identity` cannot be one on a backend whose identities match `pattern` (described by `rule`), or undefined. */
export function unfitIdentity(identity: string, pattern: RegExp = DEFAULT_IDENTITY_PATTERN, rule = "text without control characters"): string | undefined {
  const unfit = unfitText(identity);
  if (unfit) return unfit;
  if (identity.length > LIMITS.identity) return `Longer than ${LIMITS.identity} characters (${identity.length}).`;
  if (!pattern.test(identity)) return `Not an identity this backend can send to: expected ${rule}.`;
  return undefined;
}

export function unfitExternalId(externalId: string): string | undefined {
  const unfit = unfitText(externalId);
  if (unfit) return unfit;
  return externalId.length > LIMITS.externalId ? `Longer than ${LIMITS.externalId} characters (${externalId.length}).` : undefined;
}

export function unfitMessageText(text: string): string | undefined {
  const unfit = unfitText(text);
  if (unfit) return unfit;
  return text.length > LIMITS.text ? `Longer than ${LIMITS.text} characters (${text.length}).` : undefined;
}

/**
 * A note from outside (a gateway's answer, an error's text, a report's detail) as the store can
 * keep it: NULs and lone surrogates become U+FFFD and it is cut at LIMITS.note. A note is read by
 * people, not matched, so it is mended rather than refused.
 */
export function storableNote(value: string): string;
export function storableNote(value: string | null | undefined): string | null;
export function storableNote(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const mended = value.toWellFormed().replaceAll("\0", "\uFFFD");
  return mended.length > LIMITS.note ? `${mended.slice(0, LIMITS.note - 1)}…` : mended;
}
