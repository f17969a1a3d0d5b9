/** Byte-level text handling for Kannel, which speaks URL-encoded bytes in a named charset. */

/** The charsets the Kannel backend can encode outbound text in. */
export const OUTBOUND_CHARSETS = ["UTF-8", "ISO-8859-1", "ASCII", "UTF-16BE"] as const;
export type OutboundCharset = (typeof OUTBOUND_CHARSETS)[number];

const CHARSET_ALIASES: Record<string, OutboundCharset> = {
  "utf-8": "UTF-8",
  utf8: "UTF-8",
  "iso-8859-1": "ISO-8859-1",
  latin1: "ISO-8859-1",
  "latin-1": "ISO-8859-1",
  ascii: "ASCII",
  "us-ascii": "ASCII",
  "utf-16be": "UTF-16BE",
  "ucs-2": "UTF-16BE",
  ucs2: "UTF-16BE",
};

export function outboundCharset(name: string): OutboundCharset | undefined {
  return CHARSET_ALIASES[name.toLowerCase()];
}

export type EncodeErrors = "ignore" | "replace" | "strict";

/** Thrown for text the charset cannot hold under `encodeErrors: "strict"`. */
export class UnencodableTextError extends Error {}

/** Encodes text to bytes; characters the charset lacks are dropped, replaced by `?`, or refused. */
export function encodeText(text: string, charset: OutboundCharset, errors: EncodeErrors): Buffer {
  if (charset === "UTF-8") return Buffer.from(text, "utf8");
  if (charset === "UTF-16BE") return Buffer.from(text, "utf16le").swap16();
  const max = charset === "ASCII" ? 0x7f : 0xff;
  let kept = "";
  for (const char of text) {
    if (char.codePointAt(0)! <= max) kept += char;
    else if (errors === "replace") kept += "?";
    else if (errors === "strict") throw new UnencodableTextError(`"${char}" cannot be sent in ${charset}`);
  }
  return Buffer.from(kept, "latin1");
}

/**
 * Decodes inbound bytes the way Kannel labels them: coding 2 (or a UTF-16 charset) is UTF-16BE,
 * coding 1 (8-BIT) is binary shown as Latin-1, anything else is the named charset (UTF-8 by default).
 * Throws a RangeError for bytes that are not valid in that charset.
 */
export function decodeText(bytes: Buffer, charset: string | undefined, coding: string | undefined): string {
  const name = (charset ?? "").toLowerCase();
  if (coding === "2" || /^(utf-?16(be)?|ucs-?2)$/.test(name)) {
    if (bytes.length % 2 !== 0) throw new RangeError("UCS-2 text has an odd number of bytes");
    return new TextDecoder("utf-16be", { fatal: true }).decode(bytes);
  }
  if (coding === "1" || name === "8-bit" || name === "binary") return bytes.toString("latin1");
  return new TextDecoder(name || "utf-8", { fatal: true }).decode(bytes);
}
