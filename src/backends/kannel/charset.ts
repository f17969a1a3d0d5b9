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

/** Percent-encodes bytes for a query string: unreserved characters stay, space becomes `+`. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    if (
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f ||
      byte === 0x7e
    ) {
      out += String.fromCharCode(byte);
    } else if (byte === 0x20) {
      out += "+";
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}

/** Percent-decodes a query component to bytes (`+` is a space); malformed escapes stay as they are. */
export function percentDecodeBytes(component: string): Buffer {
  if (!component.includes("%") && !component.includes("+")) return Buffer.from(component, "utf8");
  // Decoding never makes more bytes than the component has as UTF-8.
  const out = Buffer.allocUnsafe(Buffer.byteLength(component, "utf8"));
  let length = 0;
  let plain = 0;
  const copyPlain = (end: number) => {
    if (end > plain) length += out.write(component.slice(plain, end), length, "utf8");
  };
  for (let i = 0; i < component.length; i++) {
    const char = component.charCodeAt(i);
    if (char === 0x2b) {
      copyPlain(i);
      out[length++] = 0x20;
      plain = i + 1;
    } else if (char === 0x25 && i + 2 < component.length && isHex(component.charCodeAt(i + 1)) && isHex(component.charCodeAt(i + 2))) {
      copyPlain(i);
      out[length++] = parseInt(component.slice(i + 1, i + 3), 16);
      i += 2;
      plain = i + 1;
    }
  }
  copyPlain(component.length);
  return out.subarray(0, length);
}

function isHex(char: number): boolean {
  return (char >= 0x30 && char <= 0x39) || (char >= 0x41 && char <= 0x46) || (char >= 0x61 && char <= 0x66);
}

/** The query of a raw URL as name → bytes; a repeated name keeps its last value. */
export function rawQuery(url: string): Map<string, Buffer> {
  const params = new Map<string, Buffer>();
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = percentDecodeBytes(eq === -1 ? pair : pair.slice(0, eq)).toString("utf8");
    params.set(name, percentDecodeBytes(eq === -1 ? "" : pair.slice(eq + 1)));
  }
  return params;
}
