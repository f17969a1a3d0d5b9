import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import fc from "fast-check";
import { smsSize } from "../../messages/encoding.ts";
import { packSeptets, toSeptets } from "../../messages/gsm7.ts";
import { type DefaultAlphabet, type DeliveredText, decodeText, type EncodeOptions, encodeText, type LongMessages, type SubmitPart } from "./short-message.ts";

interface SmppEncoding {
  encode(text: string): Buffer;
  decode(octets: Buffer): string;
}
interface SmppPduInstance {
  toBuffer(): Buffer;
  short_message: { udh?: Buffer[]; message: string | Buffer };
}
/** The parts of the `smpp` package used as an oracle. */
interface SmppOracle {
  encodings: { ASCII: SmppEncoding; LATIN1: SmppEncoding; UCS2: SmppEncoding };
  filters: { message: { encode(this: Record<string, unknown>, value: { udh: Buffer; message: string }): Buffer } };
  PDU: new (commandOrBuffer: string | Buffer, options?: Record<string, unknown>) => SmppPduInstance;
}
const smpp = createRequire(import.meta.url)("smpp") as SmppOracle;

const hex = (octets: Uint8Array | undefined) => (octets === undefined ? undefined : Buffer.from(octets).toString("hex"));
const options = (overrides: Partial<EncodeOptions> = {}): EncodeOptions => ({
  defaultAlphabet: "gsm",
  useLatin1: false,
  longMessages: "udh",
  reference: 0x2a,
  ...overrides,
});
const packedHex = (text: string, fillBits = 0) => hex(packSeptets(toSeptets(text)!, fillBits))!;
/** A part as hex, to compare whole tables at once. */
const shown = (part: SubmitPart) => ({
  dataCoding: part.dataCoding,
  esmClass: part.esmClass,
  shortMessage: hex(part.shortMessage),
  ...(part.sar && { sar: part.sar }),
  ...(part.payload && { payload: hex(part.payload) }),
});

const a = (n: number) => "a".repeat(n);
const ç = (n: number) => "ç".repeat(n);
const byte = (value: number) => value.toString(16).padStart(2, "0");
const udh = (total: number, n: number, reference = 0x2a) => `050003${byte(reference)}${byte(total)}${byte(n)}`;

const table: [string, string, Partial<EncodeOptions>, ReturnType<typeof shown>[]][] = [
  ["empty text is one empty GSM part", "", {}, [{ dataCoding: 0, esmClass: 0, shortMessage: "" }]],
  ["plain text, one septet per octet", "Hi @$", {}, [{ dataCoding: 0, esmClass: 0, shortMessage: "4869200002" }]],
  ["plain text, packed", "hellohello", { defaultAlphabet: "gsm-packed" }, [{ dataCoding: 0, esmClass: 0, shortMessage: "e8329bfd4697d9ec37" }]],
  ["an extension character is an escape pair", "€5 [x]", {}, [{ dataCoding: 0, esmClass: 0, shortMessage: "1b6535201b3c781b3e" }]],
  ["Greek capitals are GSM", "ΔΦΓ", {}, [{ dataCoding: 0, esmClass: 0, shortMessage: "101213" }]],
  [
    "GSM text to a Latin-1 SMSC default goes as Latin-1 octets",
    "@£$é",
    { defaultAlphabet: "latin1" },
    [{ dataCoding: 0, esmClass: 0, shortMessage: "40a324e9" }],
  ],
  [
    "GSM text to an ASCII SMSC default goes as ASCII octets",
    "Hi {x}",
    { defaultAlphabet: "ascii" },
    [{ dataCoding: 0, esmClass: 0, shortMessage: "4869207b787d" }],
  ],
  ["GSM text an ASCII default cannot hold goes as UCS-2", "£5", { defaultAlphabet: "ascii" }, [{ dataCoding: 8, esmClass: 0, shortMessage: "00a30035" }]],
  ["… or as Latin-1 with useLatin1", "£5", { defaultAlphabet: "ascii", useLatin1: true }, [{ dataCoding: 3, esmClass: 0, shortMessage: "a335" }]],
  [
    "GSM text a Latin-1 default cannot hold (the euro) goes as UCS-2",
    "€5",
    { defaultAlphabet: "latin1", useLatin1: true },
    [{ dataCoding: 8, esmClass: 0, shortMessage: "20ac0035" }],
  ],
  ["Latin-1 text that is not GSM goes as UCS-2", "ça", {}, [{ dataCoding: 8, esmClass: 0, shortMessage: "00e70061" }]],
  ["… or as data_coding 3 with useLatin1", "ça", { useLatin1: true }, [{ dataCoding: 3, esmClass: 0, shortMessage: "e761" }]],
  ["lower-case Greek is UCS-2", "Ωμέγα", { useLatin1: true }, [{ dataCoding: 8, esmClass: 0, shortMessage: "03a903bc03ad03b303b1" }]],
  ["an emoji is a surrogate pair in UCS-2", "😀", {}, [{ dataCoding: 8, esmClass: 0, shortMessage: "d83dde00" }]],
  ["160 septets fit one SMS", a(160), {}, [{ dataCoding: 0, esmClass: 0, shortMessage: "61".repeat(160) }]],
  ["160 septets packed fit 140 octets", a(160), { defaultAlphabet: "gsm-packed" }, [{ dataCoding: 0, esmClass: 0, shortMessage: packedHex(a(160)) }]],
  [
    "161 septets are two parts of 153 and 8 behind a UDH",
    a(161),
    {},
    [
      { dataCoding: 0, esmClass: 0x40, shortMessage: udh(2, 1) + "61".repeat(153) },
      { dataCoding: 0, esmClass: 0x40, shortMessage: udh(2, 2) + "61".repeat(8) },
    ],
  ],
  [
    "packed parts start on the septet boundary after the UDH (1 fill bit)",
    a(161),
    { defaultAlphabet: "gsm-packed", reference: 0xff },
    [
      { dataCoding: 0, esmClass: 0x40, shortMessage: udh(2, 1, 0xff) + packedHex(a(153), 1) },
      { dataCoding: 0, esmClass: 0x40, shortMessage: udh(2, 2, 0xff) + packedHex(a(8), 1) },
    ],
  ],
  [
    "an escape pair is not split: the part ends a septet short",
    `${a(152)}€b${a(10)}`,
    {},
    [
      { dataCoding: 0, esmClass: 0x40, shortMessage: udh(2, 1) + "61".repeat(152) },
      { dataCoding: 0, esmClass: 0x40, shortMessage: `${udh(2, 2)}1b6562${"61".repeat(10)}` },
    ],
  ],
  [
    "an escape pair that just fits ends the part",
    `${a(151)}€${a(10)}`,
    {},
    [
      { dataCoding: 0, esmClass: 0x40, shortMessage: `${udh(2, 1)}${"61".repeat(151)}1b65` },
      { dataCoding: 0, esmClass: 0x40, shortMessage: udh(2, 2) + "61".repeat(10) },
    ],
  ],
  [
    "a surrogate pair is not split: the UCS-2 part ends a code unit short",
    `${ç(66)}😀${ç(10)}`,
    {},
    [
      { dataCoding: 8, esmClass: 0x40, shortMessage: udh(2, 1) + "00e7".repeat(66) },
      { dataCoding: 8, esmClass: 0x40, shortMessage: `${udh(2, 2)}d83dde00${"00e7".repeat(10)}` },
    ],
  ],
  ["70 UCS-2 code units fit one SMS", ç(70), {}, [{ dataCoding: 8, esmClass: 0, shortMessage: "00e7".repeat(70) }]],
  [
    "Latin-1 parts hold 134 octets",
    ç(141),
    { useLatin1: true },
    [
      { dataCoding: 3, esmClass: 0x40, shortMessage: udh(2, 1) + "e7".repeat(134) },
      { dataCoding: 3, esmClass: 0x40, shortMessage: udh(2, 2) + "e7".repeat(7) },
    ],
  ],
  [
    "SAR parts carry no UDH, their numbers in the TLVs (a 16-bit reference)",
    a(161),
    { longMessages: "sar", reference: 0x1234 },
    [
      { dataCoding: 0, esmClass: 0, shortMessage: "61".repeat(153), sar: { reference: 0x1234, total: 2, number: 1 } },
      { dataCoding: 0, esmClass: 0, shortMessage: "61".repeat(8), sar: { reference: 0x1234, total: 2, number: 2 } },
    ],
  ],
  [
    "a long text as message_payload is one submit with an empty short_message",
    a(161),
    { longMessages: "payload" },
    [{ dataCoding: 0, esmClass: 0, shortMessage: "", payload: "61".repeat(161) }],
  ],
  [
    "a long packed text as message_payload is packed whole",
    a(161),
    { longMessages: "payload", defaultAlphabet: "gsm-packed" },
    [{ dataCoding: 0, esmClass: 0, shortMessage: "", payload: packedHex(a(161)) }],
  ],
  ["a text that fits one SMS uses short_message even with payload", "Hi", { longMessages: "payload" }, [{ dataCoding: 0, esmClass: 0, shortMessage: "4869" }]],
];

for (const [name, text, overrides, expected] of table) {
  test(`encodeText: ${name}`, () => assert.deepEqual(encodeText(text, options(overrides)).map(shown), expected));
}

/** The text of a submit's parts read back as a deliver_sm would carry them, in order of their part numbers. */
function readBack(parts: SubmitPart[], defaultAlphabet: DefaultAlphabet): DeliveredText[] {
  const delivered = parts.map((part) => decodeText({ ...part, defaultAlphabet }));
  return delivered.toSorted((x, y) => (x.concat?.number ?? 0) - (y.concat?.number ?? 0));
}

const alphabets: DefaultAlphabet[] = ["gsm", "gsm-packed", "latin1", "ascii"];
const modes: LongMessages[] = ["udh", "sar", "payload"];
const combinations = alphabets.flatMap((defaultAlphabet) =>
  [false, true].flatMap((useLatin1) => modes.map((longMessages) => options({ defaultAlphabet, useLatin1, longMessages }))),
);
const label = (o: EncodeOptions) => `${o.defaultAlphabet}, ${o.useLatin1 ? "Latin-1" : "no Latin-1"}, ${o.longMessages}`;

test("decodeText(encodeText(x)) is x for every table text and every combination of options", () => {
  for (const [, text] of table) {
    for (const o of combinations) {
      const parts = encodeText(text, o);
      const delivered = readBack(parts, o.defaultAlphabet);
      assert.equal(delivered.map((d) => d.text).join(""), text, label(o));
      if (parts.length > 1)
        assert.deepEqual(
          delivered.map((d) => d.concat),
          parts.map((_, i) => ({ reference: 0x2a, total: parts.length, number: i + 1 })),
          label(o),
        );
      else assert.equal(delivered[0].concat, undefined, label(o));
      assert.ok(
        delivered.every((d) => d.binary === undefined),
        label(o),
      );
    }
  }
});

/** Texts from characters of every kind the codec treats apart: basic GSM, extension, Latin-1 only, other BMP, astral. */
const mixedText = (pool: string) => fc.string({ unit: fc.constantFrom(...pool), maxLength: 400 });
const GSM_POOL = "aZ09 @£$¥èΔ_ΦÆß!?¡¿äà\n€[]{}|^~\\\f";
const OTHER_POOL = "çÊ`ω€ж中😀🎉";

test("round trip holds for random texts in every combination (no CR: packed GSM may read a CR on an octet boundary as padding)", () => {
  fc.assert(
    fc.property(fc.oneof(mixedText(GSM_POOL), mixedText(GSM_POOL + OTHER_POOL), mixedText("çÊé ab")), fc.constantFrom(...combinations), (text, o) => {
      assert.equal(
        readBack(encodeText(text, o), o.defaultAlphabet)
          .map((d) => d.text)
          .join(""),
        text,
      );
    }),
    { numRuns: 500 },
  );
});

test("a text's CR ending a packed part on an octet boundary is lost, as 23.038 has receivers drop it (the documented edge)", () => {
  const parts = encodeText(`${a(7)}\r`, options({ defaultAlphabet: "gsm-packed" }));
  assert.equal(decodeText({ ...parts[0], defaultAlphabet: "gsm-packed" }).text, a(7));
  const kept = encodeText(`${a(6)}\r`, options({ defaultAlphabet: "gsm-packed" }));
  assert.equal(decodeText({ ...kept[0], defaultAlphabet: "gsm-packed" }).text, `${a(6)}\r`, "a CR off the boundary stays");
});

test("the number of parts is smsSize's segments for GSM and UCS-2 texts, whatever the mode", () => {
  fc.assert(
    fc.property(
      fc.oneof(mixedText(GSM_POOL), mixedText(GSM_POOL + OTHER_POOL)),
      fc.constantFrom(...modes),
      fc.constantFrom<DefaultAlphabet>("gsm", "gsm-packed"),
      (text, longMessages, defaultAlphabet) => {
        const parts = encodeText(text, options({ longMessages, defaultAlphabet }));
        const { segments } = smsSize(text);
        if (longMessages === "payload") assert.equal(parts.length, 1);
        else assert.equal(parts.length, segments);
        assert.equal(parts[0].dataCoding, smsSize(text).encoding === "GSM-7" ? 0 : 8);
      },
    ),
    { numRuns: 500 },
  );
  for (const text of ["a".repeat(152) + "€".repeat(77), `${ç(66)}😀${ç(10)}`, a(153 * 255)])
    assert.equal(encodeText(text, options()).length, smsSize(text).segments);
});

test("a part fits one SMS on the air: 140 octets, or 160 octets for GSM one septet per octet (the SMSC packs them)", () => {
  fc.assert(
    fc.property(fc.oneof(mixedText(GSM_POOL), mixedText(GSM_POOL + OTHER_POOL), mixedText("çÊé ab")), fc.constantFrom(...combinations), (text, o) => {
      for (const part of encodeText(text, o)) {
        const unpacked = part.dataCoding === 0 && o.defaultAlphabet !== "gsm-packed";
        assert.ok(part.shortMessage.length <= (unpacked ? 160 : 140), `${label(o)}: ${part.shortMessage.length} octets`);
      }
    }),
    { numRuns: 300 },
  );
});

test("more than 255 parts is a RangeError saying so, in every mode", () => {
  for (const longMessages of modes) {
    assert.doesNotThrow(() => encodeText(a(153 * 255), options({ longMessages })));
    assert.throws(() => encodeText(a(153 * 255 + 1), options({ longMessages })), { name: "RangeError", message: /256 SMS parts; at most 255/ });
  }
});

test("a concatenation reference out of its range is a RangeError: 8-bit for UDH, 16-bit for SAR, unused for payload", () => {
  assert.throws(() => encodeText("Hi", options({ reference: 256 })), RangeError);
  assert.throws(() => encodeText("Hi", options({ reference: -1 })), RangeError);
  assert.throws(() => encodeText("Hi", options({ longMessages: "sar", reference: 65_536 })), RangeError);
  assert.throws(() => encodeText("Hi", options({ longMessages: "sar", reference: 1.5 })), RangeError);
  assert.doesNotThrow(() => encodeText("Hi", options({ longMessages: "sar", reference: 65_535 })));
  assert.doesNotThrow(() => encodeText(a(161), options({ longMessages: "payload", reference: -1 })));
});

const deliver = (dataCoding: number, shortMessage: string, more: Partial<Parameters<typeof decodeText>[0]> = {}) =>
  decodeText({ dataCoding, esmClass: 0, shortMessage: Buffer.from(shortMessage, "hex"), defaultAlphabet: "gsm", ...more });

test("decodeText reads data_coding 0 as the SMSC's default alphabet says", () => {
  assert.equal(deliver(0, "48690002").text, "Hi@$");
  assert.equal(deliver(0, "c834", { defaultAlphabet: "gsm-packed" }).text, "Hi");
  assert.equal(deliver(0, "40a324", { defaultAlphabet: "latin1" }).text, "@£$");
  assert.equal(deliver(0, "48698a", { defaultAlphabet: "ascii" }).text, "Hi\ufffd");
});

test("decodeText reads IA5, Latin-1, UCS-2, Cyrillic, Hebrew, ISO-2022-JP and KS C 5601 data codings", () => {
  assert.equal(deliver(1, "487e00").text, "H~\0", "IA5 is ASCII, not GSM");
  assert.equal(deliver(3, "e761").text, "ça");
  assert.equal(deliver(8, "03a9d83dde00").text, "Ω😀");
  assert.equal(deliver(8, "03a9d8").text, "Ω\ufffd", "an odd last octet");
  assert.equal(deliver(6, "b0c1").text, "АС");
  assert.equal(deliver(7, "e0").text, "א");
  assert.equal(deliver(0x0a, "1b244233241b2842").text, "海");
  assert.equal(deliver(0x0e, "c7d1").text, "한");
});

test("decodeText keeps UCS-2 code units as they come: halves of a surrogate pair split across parts join back", () => {
  const first = deliver(8, "0061d83d");
  const second = deliver(8, "de00");
  assert.equal(first.text + second.text, "a😀");
});

test("decodeText gives binary data codings as Latin-1 octets with binary true", () => {
  for (const dataCoding of [0x02, 0x04, 0xf4, 0xf5, 0x15, 0x05, 0x09, 0x0d, 0x0f, 0x20]) {
    assert.deepEqual(deliver(dataCoding, "00ff41"), { text: "\0ÿA", binary: true }, `data_coding 0x${dataCoding.toString(16)}`);
  }
});

test("decodeText reads the 23.038 coding groups: GSM 7-bit as data_coding 0, UCS-2 as UCS-2", () => {
  for (const dataCoding of [0x10, 0x11, 0x1c, 0x40, 0x80, 0xc0, 0xd3, 0xf0, 0xf3])
    assert.equal(deliver(dataCoding, "4869").text, "Hi", `data_coding 0x${dataCoding.toString(16)}`);
  assert.equal(deliver(0xf0, "c834", { defaultAlphabet: "gsm-packed" }).text, "Hi", "flash GSM follows the default alphabet");
  for (const dataCoding of [0x18, 0x19, 0x48, 0xe0, 0xe8]) assert.equal(deliver(dataCoding, "03a9").text, "Ω", `data_coding 0x${dataCoding.toString(16)}`);
});

test("decodeText cuts a UDH off and reports its 8-bit or 16-bit concatenation IE, other IEs skipped", () => {
  assert.deepEqual(deliver(0, "0500032a03024869", { esmClass: 0x40 }), { text: "Hi", concat: { reference: 0x2a, total: 3, number: 2 } });
  assert.deepEqual(deliver(0, "060804beef03014869", { esmClass: 0x43 }), { text: "Hi", concat: { reference: 0xbeef, total: 3, number: 1 } });
  assert.deepEqual(deliver(8, "0b05040b8423f00003070201004f", { esmClass: 0x40 }), { text: "O", concat: { reference: 7, total: 2, number: 1 } });
  assert.deepEqual(deliver(0, "0205004869", { esmClass: 0x40 }), { text: "Hi" }, "an IE of no interest, cut off all the same");
  assert.deepEqual(deliver(0, "004869", { esmClass: 0x40 }), { text: "Hi" }, "an empty UDH");
});

test("decodeText unpacks packed GSM after a UDH from the septet boundary: 1 fill bit after 6 octets, none after 7", () => {
  assert.deepEqual(decodeText({ ...encodeText(a(161), options({ defaultAlphabet: "gsm-packed" }))[1], defaultAlphabet: "gsm-packed" }), {
    text: a(8),
    concat: { reference: 0x2a, total: 2, number: 2 },
  });
  assert.equal(deliver(0, `060804beef0301${packedHex("hello")}`, { esmClass: 0x40, defaultAlphabet: "gsm-packed" }).text, "hello");
  assert.equal(deliver(0, `0500032a0302${packedHex("hello", 1)}`, { esmClass: 0x40, defaultAlphabet: "gsm-packed" }).text, "hello");
});

test("without the UDHI bit a short_message is all text, whatever it starts with", () => {
  assert.deepEqual(deliver(3, "0500032a0302"), { text: "\x05\0\x03*\x03\x02" });
});

test("a malformed UDH leaves the whole short_message as text without concat", () => {
  assert.deepEqual(deliver(3, "0900032a0302", { esmClass: 0x40 }), { text: "\t\0\x03*\x03\x02" }, "UDHL past the end");
  assert.deepEqual(deliver(3, "0300052a4142", { esmClass: 0x40 }), { text: "\x03\0\x05*AB" }, "an IE past the UDH's end");
  assert.deepEqual(deliver(3, "01004142", { esmClass: 0x40 }), { text: "\x01\0AB" }, "an IE without its length");
  assert.deepEqual(deliver(3, "", { esmClass: 0x40 }), { text: "" });
});

test("a concatenation that numbers no valid part is ignored, the UDH still cut", () => {
  for (const ie of ["2a0000", "2a0200", "2a0203", "2a00"]) {
    assert.deepEqual(deliver(3, `0${(ie.length / 2 + 2).toString(16)}000${ie.length / 2}${ie}41`, { esmClass: 0x40 }), { text: "A" }, ie);
  }
});

test("decodeText takes the SAR TLVs' concatenation when there is no UDH's, and ignores an invalid one", () => {
  assert.deepEqual(deliver(0, "4869", { sar: { reference: 0x1234, total: 2, number: 2 } }), { text: "Hi", concat: { reference: 0x1234, total: 2, number: 2 } });
  assert.deepEqual(deliver(0, "0500032a03024869", { esmClass: 0x40, sar: { reference: 1, total: 9, number: 9 } }).concat, {
    reference: 0x2a,
    total: 3,
    number: 2,
  });
  assert.deepEqual(deliver(0, "4869", { sar: { reference: 1, total: 2, number: 3 } }), { text: "Hi" });
});

test("decodeText reads message_payload when it has octets, short_message otherwise", () => {
  assert.equal(deliver(0, "", { payload: Buffer.from("486920746865726521", "hex") }).text, "Hi there!");
  assert.equal(deliver(0, "4869", { payload: new Uint8Array(0) }).text, "Hi");
  assert.deepEqual(deliver(0, "", { esmClass: 0x40, payload: Buffer.from("0500032a01014869", "hex") }), {
    text: "Hi",
    concat: { reference: 0x2a, total: 1, number: 1 },
  });
});

test("decodeText never throws, whatever the octets, data_coding, esm_class and SAR", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
      fc.integer({ min: -1, max: 0x1ff }),
      fc.integer({ min: 0, max: 0xff }),
      fc.option(fc.record({ reference: fc.integer(), total: fc.integer(), number: fc.integer() }), { nil: undefined }),
      fc.constantFrom(...alphabets),
      (shortMessage, payload, dataCoding, esmClass, sar, defaultAlphabet) => {
        const delivered = decodeText({ dataCoding, esmClass, shortMessage, payload, sar, defaultAlphabet });
        assert.equal(typeof delivered.text, "string");
      },
    ),
    { numRuns: 2_000 },
  );
});

const ORACLE_GSM_TEXTS = ["", "Hi @$_", "hello\nworld\r", "ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ¡¿ ÄÖÑÜ§ äöñüà", "€ [x] {y} ~ | ^ \\ \f", a(160), `${a(152)}€b`];
const ORACLE_OTHER_TEXTS = ["ça", "Ωμέγα", "😀 🎉", `${ç(66)}😀${ç(10)}`, "中文"];

test("oracle: our GSM octets (one septet per octet) are what the smpp package writes, and it reads ours back", () => {
  for (const text of ORACLE_GSM_TEXTS) {
    const [part, ...more] = encodeText(text, options({ longMessages: "payload" }));
    const octets = part.payload ?? part.shortMessage;
    assert.equal(more.length, 0);
    assert.equal(hex(octets), hex(smpp.encodings.ASCII.encode(text)), JSON.stringify(text));
    assert.equal(smpp.encodings.ASCII.decode(Buffer.from(octets)), text, JSON.stringify(text));
  }
});

test("oracle: our UCS-2 and Latin-1 octets are what the smpp package writes, and it reads ours back", () => {
  for (const text of [...ORACLE_OTHER_TEXTS, ...ORACLE_GSM_TEXTS]) {
    const ucs2 = encodeText(text, options({ defaultAlphabet: "ascii", longMessages: "payload" }));
    if (ucs2[0].dataCoding !== 8) continue;
    const octets = ucs2[0].payload ?? ucs2[0].shortMessage;
    assert.equal(hex(octets), hex(smpp.encodings.UCS2.encode(text)), JSON.stringify(text));
    assert.equal(smpp.encodings.UCS2.decode(Buffer.from(octets)), text, JSON.stringify(text));
  }
  const latin1 = encodeText("ça £5", options({ useLatin1: true }));
  assert.equal(hex(latin1[0].shortMessage), hex(smpp.encodings.LATIN1.encode("ça £5")));
  assert.equal(smpp.encodings.LATIN1.decode(Buffer.from(latin1[0].shortMessage)), "ça £5");
});

test("oracle: the smpp package parses our concatenated parts' UDH and text from a deliver_sm", () => {
  for (const [text, o] of [
    [`${a(152)}€b${a(10)}`, options({ reference: 0x99 })],
    [`${ç(66)}😀${ç(10)}`, options({ reference: 0x99 })],
  ] as const) {
    const parts = encodeText(text, o);
    const read = parts.map((part) => {
      const sent = new smpp.PDU("deliver_sm", { data_coding: part.dataCoding, esm_class: part.esmClass, short_message: Buffer.from(part.shortMessage) });
      return new smpp.PDU(sent.toBuffer()).short_message;
    });
    assert.deepEqual(
      read.map((r) => r.udh?.map((ie) => ie.toString("hex"))),
      parts.map((_, i) => [`000399${byte(parts.length)}${byte(i + 1)}`]),
    );
    assert.equal(read.map((r) => r.message).join(""), text);
  }
});

test("oracle: we read what the smpp package writes behind a UDH, in GSM and in UCS-2", () => {
  const header = Buffer.from("0500037f0201", "hex");
  for (const [text, dataCoding] of [
    ["Hi € [there]", 0],
    ["Ωμέγα 😀", 8],
  ] as const) {
    const context: Record<string, unknown> = { data_coding: dataCoding, esm_class: 0 };
    const shortMessage = smpp.filters.message.encode.call(context, { udh: header, message: text });
    assert.deepEqual(decodeText({ dataCoding, esmClass: context.esm_class as number, shortMessage, defaultAlphabet: "gsm" }), {
      text,
      concat: { reference: 0x7f, total: 2, number: 1 },
    });
  }
});
