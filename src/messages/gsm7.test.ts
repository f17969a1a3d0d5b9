import assert from "node:assert/strict";
import { test } from "node:test";
import { isGsm7, smsSize } from "./encoding.ts";
import { fromSeptets, GSM_BASIC_TABLE, GSM_ESCAPE, GSM_EXTENSION_TABLE, packedSeptetCount, packSeptets, toSeptets, unpackSeptets } from "./gsm7.ts";

const hex = (octets: Uint8Array) => Buffer.from(octets).toString("hex");
const septetsOf = (text: string) => {
  const septets = toSeptets(text);
  assert.ok(septets, `${JSON.stringify(text)} is GSM 03.38`);
  return septets;
};

/** Packing written another way: a string of bits, least significant first, cut into octets. */
function packByBitString(septets: Uint8Array, fillBits: number): string {
  let bits = "0".repeat(fillBits);
  for (const septet of septets) bits += [...septet.toString(2).padStart(7, "0")].reverse().join("");
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, "0");
  const octets: number[] = [];
  for (let at = 0; at < bits.length; at += 8) octets.push(Number.parseInt([...bits.slice(at, at + 8)].reverse().join(""), 2));
  return hex(Uint8Array.from(octets));
}

test("the tables are index-aligned with 03.38: 0x1B is the escape, the extension table holds its ten characters at their codes", () => {
  assert.equal(GSM_BASIC_TABLE.length, 128);
  assert.deepEqual([GSM_BASIC_TABLE[0x00], GSM_BASIC_TABLE[0x11], GSM_BASIC_TABLE[0x1c], GSM_BASIC_TABLE[0x24]], ["@", "_", "Æ", "¤"]);
  assert.deepEqual([GSM_BASIC_TABLE[0x40], GSM_BASIC_TABLE[0x5f], GSM_BASIC_TABLE[0x60], GSM_BASIC_TABLE[0x7f]], ["¡", "§", "¿", "à"]);
  assert.equal(GSM_ESCAPE, 0x1b);
  assert.equal(GSM_EXTENSION_TABLE.length, 128);
  const defined = GSM_EXTENSION_TABLE.flatMap((char, code) => (char === undefined ? [] : [[code, char]]));
  assert.deepEqual(defined, [
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
});

test("toSeptets gives one septet per basic character and an escape pair per extension character", () => {
  assert.equal(hex(septetsOf("@£$ Hi")), "000102204869");
  assert.equal(hex(septetsOf("€5 [x]")), "1b6535201b3c781b3e");
  assert.equal(hex(septetsOf("")), "");
  assert.equal(hex(septetsOf("Δ\n\r")), "100a0d");
});

test("toSeptets refuses what is not GSM 03.38, the escape character itself included", () => {
  assert.equal(toSeptets("ç"), undefined);
  assert.equal(toSeptets("Habari 😀"), undefined);
  assert.equal(toSeptets("\x1b"), undefined, "0x1B is the escape, not a character of the text");
  assert.equal(toSeptets("`"), undefined);
});

test("toSeptets agrees with encoding.ts for every BMP character: the same set, the same septet cost", () => {
  for (let code = 0; code <= 0xffff; code++) {
    const char = String.fromCharCode(code);
    const septets = toSeptets(char);
    assert.equal(septets !== undefined, isGsm7(char), `U+${code.toString(16).padStart(4, "0")}`);
    if (septets) assert.equal(septets.length, smsSize(char).units, `U+${code.toString(16).padStart(4, "0")}`);
  }
});

test("fromSeptets reads back every character toSeptets writes", () => {
  const every = [...GSM_BASIC_TABLE.filter((_, code) => code !== GSM_ESCAPE), ...GSM_EXTENSION_TABLE.filter((char) => char !== undefined)].join("");
  assert.equal(fromSeptets(septetsOf(every)), every);
});

test("fromSeptets: an escape before a code the extension table lacks gives that code's basic character", () => {
  assert.equal(fromSeptets(Uint8Array.of(0x1b, 0x41, 0x62)), "Ab");
  assert.equal(fromSeptets(Uint8Array.of(0x1b, 0x0d)), "\r", "CR2 has no character: its basic one, CR");
});

test("fromSeptets drops a trailing escape, reads two escapes as a space, and an octet above 0x7F as U+FFFD", () => {
  assert.equal(fromSeptets(Uint8Array.of(0x41, 0x1b)), "A");
  assert.equal(fromSeptets(Uint8Array.of(0x41, 0x1b, 0x1b, 0x42)), "A B");
  assert.equal(fromSeptets(Uint8Array.of(0x41, 0x80, 0xff)), "A\ufffd\ufffd");
});

test("packSeptets packs the 23.038 example: hellohello in 9 octets", () => {
  assert.equal(hex(packSeptets(septetsOf("hellohello"))), "e8329bfd4697d9ec37");
});

test("packSeptets puts fill bits first: after a 6-octet UDH the first septet starts on bit 1", () => {
  assert.equal(hex(packSeptets(septetsOf("hello"), 1)), "d06536fb0d");
  assert.equal(hex(packSeptets(septetsOf("hello"), 1)), packByBitString(septetsOf("hello"), 1));
});

test("packSeptets matches packing bit by bit for every fill and length, and unpackSeptets reverses it", () => {
  const septets = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0x7f);
  for (let fill = 0; fill <= 6; fill++) {
    for (let length = 0; length <= septets.length; length++) {
      const some = septets.subarray(0, length);
      const packed = packSeptets(some, fill);
      const spare = packed.length * 8 - fill - length * 7;
      const written = spare === 7 ? Uint8Array.of(...some, 0x0d) : some;
      assert.equal(hex(packed), packByBitString(written, fill), `fill ${fill}, ${length} septets`);
      assert.equal(hex(unpackSeptets(packed, length, fill)), hex(some), `fill ${fill}, ${length} septets`);
    }
  }
});

test("a full SMS packs into 140 octets: 160 septets, or 153 after a 6-octet UDH and its fill bit", () => {
  assert.equal(packSeptets(new Uint8Array(160).fill(0x61)).length, 140);
  assert.equal(packSeptets(new Uint8Array(153).fill(0x61), 1).length, 134);
});

test("7 spare bits at the end hold a CR, so a reader counting from the octet length does not find an @ there", () => {
  const seven = septetsOf("1234567");
  const packed = packSeptets(seven);
  assert.equal(packed.length, 7);
  assert.equal(packed[6] >> 1, 0x0d, "the top 7 bits of the last octet are a CR");
  assert.equal(hex(unpackSeptets(packed, 8)), `${hex(seven)}0d`);
  assert.equal(packedSeptetCount(packed), 7);
});

test("packedSeptetCount counts what fits after the fill bits, keeping a CR that is not on an octet boundary", () => {
  assert.equal(packedSeptetCount(new Uint8Array(0)), 0);
  assert.equal(packedSeptetCount(packSeptets(septetsOf("hellohello"))), 10, "9 octets hold 10 septets and 2 spare bits");
  assert.equal(packedSeptetCount(packSeptets(septetsOf("12345678"))), 8, "8 septets end on an octet boundary, the last is no CR");
  assert.equal(packedSeptetCount(packSeptets(septetsOf("hello\r"))), 6, "a wanted CR not on a boundary stays");
  assert.equal(packedSeptetCount(packSeptets(new Uint8Array(153).fill(0x61), 1), 1), 153);
});

test("a text's own CR ending on an octet boundary reads as padding (the documented loss)", () => {
  const packed = packSeptets(septetsOf("1234567\r"));
  assert.equal(packed.length, 7);
  assert.equal(fromSeptets(unpackSeptets(packed, packedSeptetCount(packed))), "1234567");
});

test("unpackSeptets makes up no septets past the end of its octets", () => {
  assert.equal(unpackSeptets(packSeptets(septetsOf("hi")), 50).length, 2);
  assert.equal(unpackSeptets(new Uint8Array(0), 3).length, 0);
});

test("fill bits outside 0..6 are refused", () => {
  assert.throws(() => packSeptets(new Uint8Array(1), 7), RangeError);
  assert.throws(() => unpackSeptets(new Uint8Array(1), 1, -1), RangeError);
  assert.throws(() => packedSeptetCount(new Uint8Array(1), 1.5), RangeError);
});
