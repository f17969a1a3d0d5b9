import assert from "node:assert/strict";
import { test } from "node:test";
import { HandlerError } from "../../errors.ts";
import { PatternHandler } from "./pattern.ts";

class Sum extends PatternHandler {
  static override pattern = String.raw`(\d+) plus (\d+)`;
  override handle(a?: string, b?: string) {
    this.respond(String(Number(a) + Number(b)));
  }
}

class Anchored extends Sum {
  static override pattern = String.raw`(\d+) plus (\d+)$`;
}

test("PatternHandler passes the groups of a match at the start of the text to handle", async () => {
  assert.deepEqual(await Sum.test("2 plus 3"), ["5"]);
});

test("PatternHandler matches case-insensitively and is not anchored at the end without $", async () => {
  class Hello extends PatternHandler {
    static override pattern = "hello";
    override handle() {
      this.respond("hi");
    }
  }
  assert.deepEqual(await Hello.test("HELLO there"), ["hi"]);
  assert.deepEqual(await Sum.test("2 plus 3 please"), ["5"]);
  assert.equal(await Anchored.test("2 plus 3 please"), false);
});

test("PatternHandler does not match in the middle of the text, and whitespace is significant", async () => {
  assert.equal(await Sum.test("what is 2 plus 3"), false);
  assert.equal(await Sum.test(" 2 plus 3"), false);
});

test("a PatternHandler without a pattern fails with a HandlerError", async () => {
  class Empty extends PatternHandler {}
  await assert.rejects(Empty.test("x"), HandlerError);
});
