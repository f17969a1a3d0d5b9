/**
 * URL-encoded text as bytes: queries and form bodies are percent-encoded bytes, and what those
 * bytes mean depends on a charset. Decoded strictly here, so that a request is either read
 * exactly or refused with the reason, never stored half-decoded.
 */

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

/** A value that is not valid text in its charset once percent-decoded. */
export class UndecodableError extends Error {
  readonly field: string;

  constructor(field: string, reason: string) {
    super(reason);
    this.field = field;
  }
}

/** Bytes as text in `charset` (a WHATWG label; UTF-8 by default), refusing bytes that are not valid there. */
export function decodeBytes(bytes: Uint8Array, charset = "utf-8"): string {
  return new TextDecoder(charset, { fatal: true }).decode(bytes);
}

/**
 * A form body or query (`a=1&b=%C3%A9`) as name → value, decoded in `charset`; a repeated name
 * gives a list. Throws UndecodableError naming the field whose bytes are not valid in the charset,
 * and a RangeError for a charset this runtime does not know.
 */
export function parseUrlencoded(input: string | Uint8Array, charset = "utf-8"): Record<string, string | string[]> {
  const decoder = new TextDecoder(charset, { fatal: true });
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const result: Record<string, string | string[]> = Object.create(null);
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26, start);
    if (end === -1) end = bytes.length;
    if (end > start) {
      const pair = bytes.subarray(start, end);
      const eq = pair.indexOf(0x3d);
      const rawName = eq === -1 ? pair : pair.subarray(0, eq);
      const name = decodeOrRefuse(decoder, rawName, Buffer.from(rawName).toString("latin1"));
      const value = decodeOrRefuse(decoder, eq === -1 ? new Uint8Array() : pair.subarray(eq + 1), name);
      const seen = result[name];
      result[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    start = end + 1;
  }
  return result;
}

/** Percent-decodes the bytes of one component (`+` is a space); malformed escapes stay as they are. */
function unescapeBytes(component: Uint8Array): Uint8Array {
  if (!component.includes(0x25) && !component.includes(0x2b)) return component;
  const out = new Uint8Array(component.length);
  let length = 0;
  for (let i = 0; i < component.length; i++) {
    const byte = component[i];
    if (byte === 0x2b) out[length++] = 0x20;
    else if (byte === 0x25 && i + 2 < component.length && isHex(component[i + 1]) && isHex(component[i + 2])) {
      out[length++] = Number.parseInt(String.fromCharCode(component[i + 1], component[i + 2]), 16);
      i += 2;
    } else out[length++] = byte;
  }
  return out.subarray(0, length);
}

function decodeOrRefuse(decoder: TextDecoder, component: Uint8Array, field: string): string {
  try {
    return decoder.decode(unescapeBytes(component));
  } catch {
    throw new UndecodableError(
      field,
      `the percent-encoded bytes are not valid ${decoder.encoding.toUpperCase()}: send text in the request's charset (UTF-8 unless its Content-Type says otherwise)`,
    );
  }
}
