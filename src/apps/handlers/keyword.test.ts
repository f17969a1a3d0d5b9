import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HandlerError } from "../../errors.ts";
import { NotFoundError, parseNumber } from "./base.ts";
import { KeywordHandler } from "./keyword.ts";

class Register extends KeywordHandler {
  static override keyword = "reg|register";
  override help() {
    this.respond("help");
  }
  override handle(text: string) {
    this.respond(`handle:${text}`);
  }
}

class Echo extends KeywordHandler {
  static override keyword = "echo";
  override help() {
    this.respond("help");
  }
  override handle(text: string) {
    this.respond(`[${text}]`);
  }
}

describe("KeywordHandler", () => {
  const cases: [string, string, string[] | false][] = [
    ["keyword then text", "echo hello", ["[hello]"]],
    ["keyword is case-insensitive", "ECHO Hello", ["[Hello]"]],
    ["leading whitespace is skipped", "   echo hi", ["[hi]"]],
    ["separators , ; : and whitespace after the keyword are skipped", "echo,;: \t hi", ["[hi]"]],
    ["no word boundary: echohello has the text hello", "echohello", ["[hello]"]],
    ["trailing whitespace of the text is kept", "echo hi  ", ["[hi  ]"]],
    ["newlines are part of the text", "echo line1\nline2", ["[line1\nline2]"]],
    ["a bare keyword calls help", "echo", ["help"]],
    ["a keyword followed only by separators calls help", "echo ,; ", ["help"]],
    ["another word is declined", "hello echo", false],
    ["the empty message is declined", "", false],
  ];
  for (const [name, text, expected] of cases) {
    test(name, async () => assert.deepEqual(await Echo.test(text), expected));
  }

  test("argument: 'none' makes a bare keyword a command (STATUS), and text after it asks for help", async () => {
    class Status extends Echo {
      static override keyword = "status";
      static override argument = "none" as const;
      override handle(text: string) {
        this.respond(`status:${JSON.stringify(text)}`);
      }
    }
    assert.deepEqual(await Status.test("STATUS"), ['status:""']);
    assert.deepEqual(await Status.test("status ;"), ['status:""']);
    assert.deepEqual(await Status.test("status please"), ["help"]);
  });

  test("argument: 'optional' hands a bare keyword to handle('') and the text after it to handle(text)", async () => {
    class List extends Echo {
      static override keyword = "list";
      static override argument = "optional" as const;
    }
    assert.deepEqual(await List.test("list"), ["[]"]);
    assert.deepEqual(await List.test("list clinics"), ["[clinics]"]);
  });

  test("alternatives are tried in order: reg|register on 'register bob' leaves 'ister bob'", async () => {
    assert.deepEqual(await Register.test("register bob"), ["handle:ister bob"]);
  });

  test("a handler without a keyword fails with a HandlerError", async () => {
    class NoKeyword extends KeywordHandler {}
    await assert.rejects(NoKeyword.test("anything"), HandlerError);
  });

  test("whitespace inside the keyword is ignored, as in a verbose regex", async () => {
    class Spaced extends Echo {
      static override keyword = "ec ho";
    }
    assert.deepEqual(await Spaced.test("echo x"), ["[x]"]);
  });

  test("NotFoundError from handle becomes an error reply", async () => {
    class Lookup extends Echo {
      override handle(text: string): void {
        throw new NotFoundError(`No patient with id ${text}`);
      }
    }
    assert.deepEqual(await Lookup.test("echo 42"), ["No patient with id 42"]);
  });

  test("parseNumber failures become 'Not a valid number: X'; other errors propagate", async () => {
    class Count extends Echo {
      override handle(text: string): void {
        this.respond(String(parseNumber(text) + 1));
      }
    }
    assert.deepEqual(await Count.test("echo 41"), ["42"]);
    assert.deepEqual(await Count.test("echo forty"), ["Not a valid number: forty"]);
    class Broken extends Echo {
      override handle(): void {
        throw new RangeError("bug");
      }
    }
    await assert.rejects(Broken.test("echo x"), RangeError);
  });
});
