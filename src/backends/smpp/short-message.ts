import { fromSeptets, packedSeptetCount, packSeptets, toSeptets, unpackSeptets } from "../../messages/gsm7.ts";

/** How the SMSC reads data_coding 0 (its "default alphabet"): GSM 03.38 one septet per octet (most), packed, Latin-1, or ASCII (IA5). */
export type DefaultAlphabet = "gsm" | "gsm-packed" | "latin1" | "ascii";
export type LongMessages = "udh" | "sar" | "payload";

export interface EncodeOptions {
  defaultAlphabet: DefaultAlphabet;
  /** Send data_coding 3 (Latin-1) for text that is not GSM 03.38 but fits Latin-1, instead of UCS-2. */
  useLatin1: boolean;
  longMessages: LongMessages;
  /** The concatenation reference (0..255 for UDH IE 0x00; SAR's sar_msg_ref_num is 16-bit): the caller picks it per message. */
  reference: number;
}

/** Where a part sits in a concatenated SMS. */
export interface Concat {
  reference: number;
  total: number;
  number: number;
}

export interface SubmitPart {
  dataCoding: number;
  /** 0x40 (UDHI) when short_message starts with a UDH, else 0. The caller ORs in its own bits. */
  esmClass: number;
  shortMessage: Uint8Array;
  /** sar_msg_ref_num, sar_total_segments, sar_segment_seqnum (longMessages "sar" with more than one part). */
  sar?: Concat;
  /** message_payload (longMessages "payload" when the text does not fit one short_message): short_message is then empty. */
  payload?: Uint8Array;
}

export interface DeliveredText {
  text: string;
  /** The part this is of a concatenated SMS (UDH IE 0x00 or 0x08, or the SAR TLVs). */
  concat?: Concat;
  /**
   * data_coding was binary (2, 4, or the 8-bit groups), or a coding this module cannot read (JIS,
   * pictograms, reserved values, compressed text): the octets are given as Latin-1, `binary` true.
   */
  binary?: boolean;
}

const DATA_CODING = { default: 0x00, ia5: 0x01, latin1: 0x03, ucs2: 0x08 } as const;
/** esm_class bit: short_message (or message_payload) starts with a user data header. */
const ESM_UDHI = 0x40;
/** More parts than this cannot be numbered in a UDH or the SAR TLVs. */
export const MAX_PARTS = 255;

/** A character as it goes out: its octets (or septets, for GSM), and what it costs of a part's room. */
interface Coded {
  code: number[];
  cost: number;
}

/** How a text goes out: its data_coding, its characters, the room of one SMS and of one part, and how a part's codes become octets. */
interface Plan {
  dataCoding: number;
  chars: Coded[];
  single: number;
  part: number;
  /** The octets of a part's codes; `fillBits` pad packed septets after a UDH to a septet boundary. */
  finish: (codes: number[], fillBits: number) => Uint8Array;
}

const octetsOf = (codes: number[]) => Uint8Array.from(codes);
const packedOf = (codes: number[], fillBits: number) => packSeptets(Uint8Array.from(codes), fillBits);
const UDH_LENGTH = 6;
/** Bits after a 6-octet UDH to the next septet boundary (48 bits + 1 = 7 septets). */
const UDH_FILL_BITS = 1;

/**
 * The submit_sm bodies of a text: one part when it fits one SMS, else one per part (or one with
 * message_payload). GSM 03.38 when the text fits it and the SMSC's default alphabet can carry it;
 * else Latin-1 (data_coding 3) with `useLatin1` when it fits; else UCS-2. Parts hold 153 septets,
 * 134 octets of Latin-1 or 67 UTF-16 code units, never splitting an escape pair or a surrogate
 * pair. Throws a RangeError for more than 255 parts, or a reference out of range.
 */
export function encodeText(text: string, options: EncodeOptions): SubmitPart[] {
  checkReference(options);
  const plan = planFor(text, options);
  const groups = split(plan);
  if (groups.length > MAX_PARTS) throw new RangeError(`the text needs ${groups.length} SMS parts; at most ${MAX_PARTS} can be concatenated`);
  const { dataCoding } = plan;
  if (groups.length === 1) return [{ dataCoding, esmClass: 0, shortMessage: plan.finish(groups[0], 0) }];
  const total = groups.length;
  const reference = options.reference;
  switch (options.longMessages) {
    case "payload":
      return [{ dataCoding, esmClass: 0, shortMessage: new Uint8Array(0), payload: plan.finish(groups.flat(), 0) }];
    case "sar":
      return groups.map((codes, i) => ({ dataCoding, esmClass: 0, shortMessage: plan.finish(codes, 0), sar: { reference, total, number: i + 1 } }));
    case "udh":
      return groups.map((codes, i) => {
        const body = plan.finish(codes, UDH_FILL_BITS);
        const shortMessage = new Uint8Array(UDH_LENGTH + body.length);
        shortMessage.set([0x05, 0x00, 0x03, reference, total, i + 1]);
        shortMessage.set(body, UDH_LENGTH);
        return { dataCoding, esmClass: ESM_UDHI, shortMessage };
      });
  }
}

function checkReference({ longMessages, reference }: EncodeOptions): void {
  const max = longMessages === "udh" ? 0xff : 0xffff;
  if (longMessages !== "payload" && !(Number.isInteger(reference) && reference >= 0 && reference <= max)) {
    throw new RangeError(`a ${longMessages} concatenation reference is an integer 0..${max}, not ${reference}`);
  }
}

function planFor(text: string, { defaultAlphabet, useLatin1 }: EncodeOptions): Plan {
  const chars = [...text];
  const septets = chars.map((char) => toSeptets(char));
  if (septets.every((code) => code !== undefined)) {
    const costs = septets.map((code) => code!.length);
    const septetPlan = (codes: number[][], finish: Plan["finish"]): Plan => ({
      dataCoding: DATA_CODING.default,
      chars: codes.map((code, i) => ({ code, cost: costs[i] })),
      single: 160,
      part: 153,
      finish,
    });
    const asSeptets = septets.map((code) => [...code!]);
    if (defaultAlphabet === "gsm") return septetPlan(asSeptets, octetsOf);
    if (defaultAlphabet === "gsm-packed") return septetPlan(asSeptets, packedOf);
    // An SMSC whose default is Latin-1 or ASCII takes those octets and sends GSM 03.38 on the air: septets are still what fills a part.
    const highest = defaultAlphabet === "latin1" ? 0xff : 0x7f;
    const octets = chars.map((char) => [char.charCodeAt(0)]);
    if (octets.every(([code]) => code <= highest)) return septetPlan(octets, octetsOf);
  }
  if (useLatin1 && chars.every((char) => char.charCodeAt(0) <= 0xff)) {
    return { dataCoding: DATA_CODING.latin1, chars: chars.map((char) => ({ code: [char.charCodeAt(0)], cost: 1 })), single: 140, part: 134, finish: octetsOf };
  }
  const ucs2 = chars.map((char) => {
    const code: number[] = [];
    for (let i = 0; i < char.length; i++) code.push(char.charCodeAt(i) >> 8, char.charCodeAt(i) & 0xff);
    return { code, cost: char.length };
  });
  return { dataCoding: DATA_CODING.ucs2, chars: ucs2, single: 70, part: 67, finish: octetsOf };
}

/** The codes of each part: all in one when they fit one SMS, else filled in order, a character never split (as encoding.ts's smsSize counts). */
function split({ chars, single, part }: Plan): number[][] {
  const all = chars.reduce((sum, char) => sum + char.cost, 0);
  if (all <= single) return [chars.flatMap((char) => char.code)];
  const groups: number[][] = [[]];
  let used = 0;
  for (const char of chars) {
    if (used + char.cost > part) {
      groups.push([]);
      used = 0;
    }
    groups[groups.length - 1].push(...char.code);
    used += char.cost;
  }
  return groups;
}

type Alphabet = "default" | "ia5" | "latin1" | "ucs2" | "binary" | "iso-8859-5" | "iso-8859-8" | "iso-2022-jp" | "euc-kr";

/** The SMPP 3.4 data_coding values (0x00–0x0F), then 23.038's coding groups for the rest; its GSM 7-bit is read as data_coding 0 is. */
function alphabetOf(dataCoding: number): Alphabet {
  const smpp: (Alphabet | undefined)[] = [
    "default",
    "ia5",
    "binary",
    "latin1",
    "binary",
    undefined, // JIS X 0208
    "iso-8859-5",
    "iso-8859-8",
    "ucs2",
    undefined, // pictogram
    "iso-2022-jp",
    undefined,
    undefined,
    undefined, // extended kanji (JIS X 0212)
    "euc-kr", // KS C 5601
  ];
  if (dataCoding < 0x10) return smpp[dataCoding] ?? "binary";
  // 00xx xxxx general coding and 01xx xxxx automatic deletion: bit 5 compressed, bits 3–2 the alphabet (11 reserved, read as GSM).
  if (dataCoding < 0x80) return dataCoding & 0x20 ? "binary" : (["default", "binary", "ucs2", "default"] as const)[(dataCoding >> 2) & 3];
  // 10xx xxxx reserved (read as GSM, as 23.038 says); 1100 and 1101 message waiting, GSM; 1110 message waiting, UCS-2.
  if (dataCoding < 0xe0) return "default";
  if (dataCoding < 0xf0) return "ucs2";
  // 1111 xxxx data coding / message class: bit 2 is 8-bit data, else GSM.
  return dataCoding & 0x04 ? "binary" : "default";
}

/**
 * Decodes a deliver_sm's text: data_coding 0 per the default alphabet, 1 IA5, 3 Latin-1, 8 UCS-2
 * (UTF-16BE), 6 and 7 ISO-8859-5 and -8, 0x0A ISO-2022-JP, 0x0E KS C 5601 (EUC-KR), the 23.038
 * coding groups (0x10–0xFF; their GSM 7-bit read as data_coding 0 is); a UDH (esmClass & 0x40) is
 * parsed (and its septet fill for packed GSM) and cut off; `payload` (message_payload) is used
 * when it has octets. Never throws: a UDH whose lengths run past their end leaves the whole
 * short_message as text without concat; a concat IE or SAR set numbering no valid part is ignored.
 */
export function decodeText(input: {
  dataCoding: number;
  esmClass: number;
  shortMessage: Uint8Array;
  payload?: Uint8Array;
  sar?: Concat;
  defaultAlphabet: DefaultAlphabet;
}): DeliveredText {
  const octets = input.payload !== undefined && input.payload.length > 0 ? input.payload : input.shortMessage;
  const udh = input.esmClass & ESM_UDHI ? readUdh(octets) : undefined;
  const body = udh ? octets.subarray(udh.length) : octets;
  const concat = udh?.concat ?? validConcat(input.sar);
  const alphabet = alphabetOf(input.dataCoding & 0xff);
  const delivered = (text: string, binary = false): DeliveredText => ({ text, ...(concat && { concat }), ...(binary && { binary }) });
  switch (alphabet) {
    case "default":
      return delivered(decodeDefault(body, input.defaultAlphabet, udh?.length ?? 0));
    case "ia5":
      return delivered(ascii(body));
    case "latin1":
      return delivered(latin1(body));
    case "ucs2":
      return delivered(utf16be(body));
    case "binary":
      return delivered(latin1(body), true);
    default:
      return delivered(new TextDecoder(alphabet).decode(body));
  }
}

function decodeDefault(body: Uint8Array, defaultAlphabet: DefaultAlphabet, udhLength: number): string {
  switch (defaultAlphabet) {
    case "gsm":
      return fromSeptets(body);
    case "gsm-packed": {
      const fillBits = (7 - ((udhLength * 8) % 7)) % 7;
      return fromSeptets(unpackSeptets(body, packedSeptetCount(body, fillBits), fillBits));
    }
    case "latin1":
      return latin1(body);
    case "ascii":
      return ascii(body);
  }
}

const latin1 = (octets: Uint8Array) => Array.from(octets, (octet) => String.fromCharCode(octet)).join("");
const ascii = (octets: Uint8Array) => Array.from(octets, (octet) => (octet < 0x80 ? String.fromCharCode(octet) : "\ufffd")).join("");

/** UTF-16BE code unit by code unit, so a surrogate pair split across parts comes back whole when the parts' texts are joined; an odd last octet is U+FFFD. */
function utf16be(octets: Uint8Array): string {
  const units: string[] = [];
  for (let i = 0; i + 1 < octets.length; i += 2) units.push(String.fromCharCode((octets[i] << 8) | octets[i + 1]));
  if (octets.length % 2) units.push("\ufffd");
  return units.join("");
}

/** The UDH at the start of `octets`: its length (with the UDHL octet) and the concatenation it states; undefined when a length runs past its end. */
function readUdh(octets: Uint8Array): { length: number; concat?: Concat } | undefined {
  if (octets.length === 0) return undefined;
  const end = 1 + octets[0];
  if (end > octets.length) return undefined;
  let concat: Concat | undefined;
  for (let at = 1; at < end; ) {
    if (at + 2 > end) return undefined;
    const [id, length] = [octets[at], octets[at + 1]];
    const data = octets.subarray(at + 2, at + 2 + length);
    if (at + 2 + length > end) return undefined;
    // 23.040 §9.2.3.24: where an IE repeats, the last one counts.
    if (id === 0x00 && length === 3) concat = validConcat({ reference: data[0], total: data[1], number: data[2] });
    if (id === 0x08 && length === 4) concat = validConcat({ reference: (data[0] << 8) | data[1], total: data[2], number: data[3] });
    at += 2 + length;
  }
  return { length: end, ...(concat && { concat }) };
}

/** 23.040 says to ignore a concatenation that numbers no part (0 parts, part 0, or a part past the total). */
function validConcat(concat: Concat | undefined): Concat | undefined {
  if (!concat) return undefined;
  const { total, number } = concat;
  return total >= 1 && number >= 1 && number <= total ? concat : undefined;
}
