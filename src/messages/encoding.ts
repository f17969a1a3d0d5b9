import { GSM_BASIC_TABLE, GSM_ESCAPE, GSM_EXTENSION_TABLE } from "./gsm7.ts";

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SmsSize {
  encoding: SmsEncoding;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
}

/**
 * Septets per character of the GSM 03.38 alphabet: one for the default table, two for the
 * extension table (an escape, then the character).
 */
const SEPTETS = new Map<string, number>([
  ...GSM_BASIC_TABLE.filter((_, code) => code !== GSM_ESCAPE).map((char) => [char, 1] as const),
  ...GSM_EXTENSION_TABLE.filter((char) => char !== undefined).map((char) => [char, 2] as const),
]);

/** True when every character is in the GSM 03.38 alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  return septetsOf(text) !== undefined;
}

/** The septets of a GSM-7 text, or undefined when a character is not in the alphabet. */
function septetsOf(text: string): number | undefined {
  let septets = 0;
  for (const char of text) {
    const cost = SEPTETS.get(char);
    if (cost === undefined) return undefined;
    septets += cost;
  }
  return septets;
}

/**
 * How a text goes out as SMS: GSM-7 when it can (160 septets in one message, 153 per part of a
 * concatenated one), else UCS-2 (70 code units, 67 per part). A part never splits an escape
 * sequence or a surrogate pair, as phones and SMSCs do.
 */
export function smsSize(text: string): SmsSize {
  // Every message sent asks this: one pass and no allocation for the common single part.
  const septets = septetsOf(text);
  const encoding: SmsEncoding = septets === undefined ? "UCS-2" : "GSM-7";
  const units = septets ?? text.length;
  const [single, part] = septets === undefined ? [70, 67] : [160, 153];
  if (units <= single) return { encoding, units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const char of text) {
    const cost = septets === undefined ? char.length : SEPTETS.get(char)!;
    if (used + cost > part) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments };
}
