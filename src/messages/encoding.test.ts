import assert from "node:assert/strict";
import { test } from "node:test";
import { isGsm7, smsSize } from "./encoding.ts";

const cases: [string, string, { encoding: string; units: number; segments: number }][] = [
  ["empty text", "", { encoding: "GSM-7", units: 0, segments: 1 }],
  ["plain ASCII", "hello world", { encoding: "GSM-7", units: 11, segments: 1 }],
  ["GSM accents and Greek capitals", "Ñoño Δ £ è", { encoding: "GSM-7", units: 10, segments: 1 }],
  ["an extension character costs two septets", "price €5", { encoding: "GSM-7", units: 9, segments: 1 }],
  ["160 septets fit one SMS", "a".repeat(160), { encoding: "GSM-7", units: 160, segments: 1 }],
  ["161 septets need two parts of 153", "a".repeat(161), { encoding: "GSM-7", units: 161, segments: 2 }],
  ["306 septets fit two parts", "a".repeat(306), { encoding: "GSM-7", units: 306, segments: 2 }],
  ["an escape pair is not split across parts", `${"a".repeat(152)}€${"a".repeat(10)}`, { encoding: "GSM-7", units: 164, segments: 2 }],
  ["escape pairs kept whole can need a part more than the septet count says", "a".repeat(152) + "€".repeat(77), { encoding: "GSM-7", units: 306, segments: 3 }],
  ["a character outside GSM makes it UCS-2", "Habari ç", { encoding: "UCS-2", units: 8, segments: 1 }],
  ["an emoji is two UTF-16 units", "Habari 😀", { encoding: "UCS-2", units: 9, segments: 1 }],
  ["70 UCS-2 units fit one SMS", "ç".repeat(70), { encoding: "UCS-2", units: 70, segments: 1 }],
  ["71 UCS-2 units need two parts of 67", "ç".repeat(71), { encoding: "UCS-2", units: 71, segments: 2 }],
  ["a surrogate pair is not split across parts", `${"ç".repeat(66)}😀${"ç".repeat(10)}`, { encoding: "UCS-2", units: 78, segments: 2 }],
];

for (const [name, text, expected] of cases) {
  test(`SMS size: ${name}`, () => assert.deepEqual(smsSize(text), expected));
}

test("isGsm7 accepts the basic alphabet and the extension table, and refuses the rest", () => {
  assert.equal(isGsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà"), true);
  assert.equal(isGsm7("^{}\\[~]|€"), true);
  assert.equal(isGsm7("ç"), false, "ç is not GSM (only Ç is)");
  assert.equal(isGsm7("`"), false);
  assert.equal(isGsm7("Ω μ"), false, "lower-case Greek is not GSM");
});
