import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_START_KEYWORDS, DEFAULT_STOP_KEYWORDS } from "../config/operations.ts";
import { OptOutKeywords } from "./opt-out-keywords.ts";

const defaults = new OptOutKeywords({ stop: [...DEFAULT_STOP_KEYWORDS], start: [...DEFAULT_START_KEYWORDS] });

describe("OptOutKeywords", () => {
  test("every default keyword matches, as people send it: any case, spaces and punctuation around", () => {
    for (const keyword of DEFAULT_STOP_KEYWORDS) {
      for (const sent of [keyword, keyword.toLowerCase(), ` ${keyword} `, `${keyword}.`, `${keyword[0]}${keyword.slice(1).toLowerCase()}!!`, `${keyword} ?`]) {
        assert.deepEqual(defaults.match(sent), { kind: "stop", keyword }, `${JSON.stringify(sent)} stops`);
      }
    }
    for (const keyword of DEFAULT_START_KEYWORDS) assert.deepEqual(defaults.match(`${keyword.toLowerCase()}!`), { kind: "start", keyword });
  });

  test("a keyword inside a longer text, or before other words, is no keyword", () => {
    for (const text of ["stop it", "please stop", "STOP STOP", "stopped", "unstoppable", "stop-it", "", "   ", "yes please", `STOP${".".repeat(100)}`]) {
      assert.equal(defaults.match(text), undefined, JSON.stringify(text));
    }
  });

  test("keywords of other languages match whatever their case and Unicode form", () => {
    const keywords = new OptOutKeywords({ stop: ["ACHA", "PARE", "ARRÊTER", "СТОП"], start: ["ANZA"] });
    assert.equal(keywords.match("acha")?.kind, "stop");
    assert.equal(keywords.match("Pare.")?.keyword, "PARE");
    assert.equal(keywords.match("¡Pare!")?.keyword, "PARE");
    assert.equal(keywords.match("arrêter")?.keyword, "ARRÊTER");
    // "e" and a combining circumflex: the same word as "ê" to a reader.
    assert.equal(keywords.match("arre\u0302ter!")?.keyword, "ARRÊTER");
    assert.equal(keywords.match("стоп")?.keyword, "СТОП");
    assert.equal(keywords.match("anza")?.kind, "start");
    assert.equal(keywords.match("STOP"), undefined, "configured keywords replace the defaults");
  });

  test("a word configured both to stop and to start stops", () => {
    const keywords = new OptOutKeywords({ stop: ["END"], start: ["end", "START"] });
    assert.deepEqual(keywords.match("End"), { kind: "stop", keyword: "END" });
  });
});
