/**
 * GSM 03.38 (3GPP TS 23.038): the 7-bit default alphabet and its extension table, and the packing
 * of septets into octets.
 */

/** The escape septet: the next septet is read from the extension table. */
export const GSM_ESCAPE = 0x1b;

/**
 * The default alphabet, indexed by septet. 0x1B is the escape, not a character: it holds "\x1b"
 * only to keep the table index-aligned, and no text character maps to it.
 */
export const GSM_BASIC_TABLE: readonly string[] = [
  ..."@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?",
  ..."¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
];

const EXTENSION_CHARS = new Map<number, string>([
  [0x0a, "\f"],
  [0x14, "^"],
  [0x28, "{"],
  [0x29, "}"],
  [0x2f, "\\"],
  [0x3c, "["],
  [0x3d, "~"],
  [0x3e, "]"],
  [0x40, "|"],
  [0x65, "€"],
]);

/** The extension table, indexed by the septet after an escape; undefined where 03.38 defines no character. */
export const GSM_EXTENSION_TABLE: readonly (string | undefined)[] = Array.from({ length: 128 }, (_, code) => EXTENSION_CHARS.get(code));

const CARRIAGE_RETURN = 0x0d;

const SEPTETS_OF = new Map<string, number[]>();
GSM_BASIC_TABLE.forEach((char, code) => {
  if (code !== GSM_ESCAPE) SEPTETS_OF.set(char, [code]);
});
GSM_EXTENSION_TABLE.forEach((char, code) => {
  if (char !== undefined) SEPTETS_OF.set(char, [GSM_ESCAPE, code]);
});

/** Septets for text (an extension character is 0x1B then its code), or undefined when a character is not in GSM 03.38. */
export function toSeptets(text: string): Uint8Array | undefined {
  const septets: number[] = [];
  for (const char of text) {
    const codes = SEPTETS_OF.get(char);
    if (codes === undefined) return undefined;
    septets.push(...codes);
  }
  return Uint8Array.from(septets);
}

/**
 * Text from septets; an escape before an unknown code gives the basic-table char of that code (as
 * 03.38 says), a trailing escape is dropped. Two escapes in a row (03.38 reserves them for a
 * further table) read as one space, as 03.38 says to display them. A value above 0x7F is no
 * septet: it reads as U+FFFD.
 */
export function fromSeptets(septets: Uint8Array): string {
  let text = "";
  for (let i = 0; i < septets.length; i++) {
    const code = septets[i];
    if (code !== GSM_ESCAPE) {
      text += GSM_BASIC_TABLE[code] ?? "\ufffd";
      continue;
    }
    if (++i === septets.length) break;
    const next = septets[i];
    text += next === GSM_ESCAPE ? " " : (GSM_EXTENSION_TABLE[next] ?? GSM_BASIC_TABLE[next] ?? "\ufffd");
  }
  return text;
}

/**
 * Packs septets 8 per 7 octets, least significant bit first (23.038 §6.1.2.1); `fillBits` (0..6)
 * of padding first (septets after a UDH start on a septet boundary).
 *
 * Where the last octet would have exactly 7 spare bits, they hold a CR (0x0D) instead of zeros, as
 * 23.038 §6.1.2.3.1 does for USSD: SMPP's sm_length counts octets, so a reader derives the septet
 * count from it (see `packedSeptetCount`) and would otherwise read those 7 zero bits as an "@".
 */
export function packSeptets(septets: Uint8Array, fillBits = 0): Uint8Array {
  checkFillBits(fillBits);
  const bits = fillBits + septets.length * 7;
  const octets = new Uint8Array(Math.ceil(bits / 8));
  const write = (septet: number, at: number) => {
    const byte = at >> 3;
    const shift = at & 7;
    octets[byte] |= (septet << shift) & 0xff;
    if (shift > 1) octets[byte + 1] |= septet >> (8 - shift);
  };
  for (let i = 0; i < septets.length; i++) write(septets[i] & 0x7f, fillBits + i * 7);
  if (octets.length * 8 - bits === 7) write(CARRIAGE_RETURN, bits);
  return octets;
}

/** The `count` septets packed in `octets` after `fillBits` (0..6) of padding; septets past the end of `octets` are not made up. */
export function unpackSeptets(octets: Uint8Array, count: number, fillBits = 0): Uint8Array {
  checkFillBits(fillBits);
  const available = Math.floor((octets.length * 8 - fillBits) / 7);
  const septets = new Uint8Array(Math.max(0, Math.min(count, available)));
  for (let i = 0; i < septets.length; i++) {
    const at = fillBits + i * 7;
    const byte = at >> 3;
    const shift = at & 7;
    const word = octets[byte] | ((octets[byte + 1] ?? 0) << 8);
    septets[i] = (word >> shift) & 0x7f;
  }
  return septets;
}

/**
 * How many septets packed octets hold when nothing else says (SMPP gives only the octet length):
 * all that fit after `fillBits`, less a final CR that ends exactly on an octet boundary, which is
 * the padding `packSeptets` writes (23.038 §6.1.2.3.1: the receiver removes it).
 *
 * So a text whose own last septet is a CR ending on an octet boundary loses that CR on the way: an
 * invisible loss we accept rather than 23.038's remedy of a second CR, which would push a full
 * part (160 septets, or 153 after a UDH) past 140 octets.
 */
export function packedSeptetCount(octets: Uint8Array, fillBits = 0): number {
  checkFillBits(fillBits);
  const bits = octets.length * 8 - fillBits;
  const count = Math.max(0, Math.floor(bits / 7));
  if (count > 0 && bits % 7 === 0 && unpackSeptets(octets, count, fillBits)[count - 1] === CARRIAGE_RETURN) return count - 1;
  return count;
}

function checkFillBits(fillBits: number): void {
  if (!Number.isInteger(fillBits) || fillBits < 0 || fillBits > 6) throw new RangeError(`fillBits must be 0..6, not ${fillBits}`);
}
