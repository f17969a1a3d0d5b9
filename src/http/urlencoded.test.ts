import assert from "node:assert/strict";
import { test } from "node:test";
import { parseUrlencoded, percentDecodeBytes, percentEncodeBytes, rawQuery, UndecodableError } from "./urlencoded.ts";

test("percentDecodeBytes turns a raw query component into its bytes", () => {
  const table: [component: string, bytes: number[]][] = [
    ["", []],
    ["hello", [...Buffer.from("hello")]],
    ["a+b", [0x61, 0x20, 0x62]],
    ["%00%7f%80%FF", [0x00, 0x7f, 0x80, 0xff]],
    ["%C3%A9t%C3%A9", [...Buffer.from("été")]],
    ["%2B%25", [0x2b, 0x25]],
    ["é+%E2%82%AC", [...Buffer.from("é €")]],
    ["😀%21", [...Buffer.from("😀!")]],
    // Malformed escapes stay as they are.
    ["100%", [...Buffer.from("100%")]],
    ["%4", [...Buffer.from("%4")]],
    ["%zz+%4g", [...Buffer.from("%zz %4g")]],
    ["%%41", [0x25, 0x41]],
  ];
  for (const [component, bytes] of table) assert.deepEqual([...percentDecodeBytes(component)], bytes, component);
});

test("percentEncodeBytes and percentDecodeBytes are each other's inverse for any bytes", () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.deepEqual(percentDecodeBytes(percentEncodeBytes(bytes)), bytes);
});

test("rawQuery gives each name its bytes, the last of a repeated name", () => {
  const query = rawQuery("/backend/kannel/?id=%2B255&text=caf%E9&text=caf%C3%A9&coding=0&empty=&flag");
  assert.deepEqual(Object.fromEntries([...query].map(([name, value]) => [name, value.toString("hex")])), {
    id: Buffer.from("+255").toString("hex"),
    text: Buffer.from("café").toString("hex"),
    coding: "30",
    empty: "",
    flag: "",
  });
});

test("parseUrlencoded decodes in the charset it is given, and a repeated name gives a list", () => {
  assert.deepEqual(
    { ...parseUrlencoded("identity=%2B255&text=caf%C3%A9+au+lait&flag&text2=") },
    { identity: "+255", text: "café au lait", flag: "", text2: "" },
  );
  assert.deepEqual({ ...parseUrlencoded("text=caf%E9", "iso-8859-1") }, { text: "café" });
  assert.deepEqual({ ...parseUrlencoded("to=1&to=2&to=3") }, { to: ["1", "2", "3"] });
});

test("parseUrlencoded refuses bytes that are not valid in the charset, naming the field", () => {
  assert.throws(
    () => parseUrlencoded("identity=1&text=caf%E9"),
    (error: unknown) => error instanceof UndecodableError && error.field === "text" && /not valid UTF-8/.test(error.message),
  );
  assert.throws(() => parseUrlencoded("a=1", "no-such-charset"), RangeError);
});
