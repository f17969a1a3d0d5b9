import { GSM_BASIC_TABLE, GSM_ESCAPE, GSM_EXTENSION_TABLE } from "./gsm7.ts";

/** The GSM 03.38 default alphabet (one septet each), as the characters it stands for. */
const BASIC = new Set(GSM_BASIC_TABLE.filter((_, code) => code !== GSM_ESCAPE));
/** The extension table: two septets each (an escape, then the character). */
const EXTENSION = new Set(GSM_EXTENSION_TABLE.filter((char) => char !== undefined));

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SmsSize {
  encoding: SmsEncoding;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
}

/** True when every character is in the GSM 03.38 alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (const char of text) if (!BASIC.has(char) && !EXTENSION.has(char)) return false;
  return true;
}

/**
 * How a text goes out as SMS: GSM-7 when it can (160 septets in one message, 153 per part of a
 * concatenated one), else UCS-2 (70 code units, 67 per part). A part never splits an escape
 * sequence or a surrogate pair, as phones and SMSCs do.
 */
export function smsSize(text: string): SmsSize {
  const encoding: SmsEncoding = isGsm7(text) ? "GSM-7" : "UCS-2";
  const costs = [...text].map((char) => (encoding === "GSM-7" ? (EXTENSION.has(char) ? 2 : 1) : char.length));
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const [single, part] = encoding === "GSM-7" ? [160, 153] : [70, 67];
  if (units <= single) return { encoding, units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments };
}
