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

  test("emoji and other symbols around a keyword do not hide it: STOP 🛑, stop 🙏🏽, ❤️ Stop", () => {
    for (const sent of ["STOP 🛑", "stop 🙏🏽", "\u2764\uFE0F Stop", "STOP✋", "quit 👋👋"]) {
      assert.equal(defaults.match(sent)?.kind, "stop", JSON.stringify(sent));
    }
    assert.equal(defaults.match("🛑"), undefined, "a symbol alone is no keyword");
    assert.equal(defaults.match("STOP 🛑 now"), undefined);
  });

  test("a keyword inside a longer text, or before other words, is no keyword", () => {
    for (const text of ["stop it", "please stop", "STOP STOP", "stopped", "unstoppable", "stop-it", "", "   ", "yes please", `STOP${".".repeat(300)}`]) {
      assert.equal(defaults.match(text), undefined, JSON.stringify(text));
    }
  });

  test("invisible characters, full-width letters and long padding around a keyword do not hide it", () => {
    const sent = {
      "a zero-width space after": "STOP\u200B",
      "a zero-width non-joiner before": "\u200CStop",
      "a word joiner after": "STOP\u2060",
      "a soft hyphen inside": "ST\u00ADOP",
      "a byte order mark before": "\uFEFFstop",
      "a right-to-left mark after": "stop\u200F",
      "full-width letters": "ＳＴＯＰ",
      "full-width letters and punctuation": "ｓｔｏｐ！",
      "61 spaces after": `STOP${" ".repeat(61)}`,
      "100 dots after": `STOP${".".repeat(100)}`,
    };
    for (const [how, text] of Object.entries(sent)) assert.deepEqual(defaults.match(text), { kind: "stop", keyword: "STOP" }, how);
    assert.deepEqual(defaults.match("ＳＴＡＲＴ\u200B"), { kind: "start", keyword: "START" });
    assert.equal(defaults.match(`STOP${" ".repeat(253)}`), undefined, "a text longer than 256 characters is no keyword, whatever it holds");
    assert.equal(defaults.match("S\u200BT\u200BO\u200BP\u200B please"), undefined);
  });

  test("a keyword that normalises to nothing (punctuation alone) never matches, not even an empty or punctuation-only text", () => {
    const keywords = new OptOutKeywords({ stop: ["STOP", "?", "\u200B"], start: ["..."] });
    for (const text of ["", "   ", "?", "...", "\u200B", "!?"]) assert.equal(keywords.match(text), undefined, JSON.stringify(text));
    assert.equal(keywords.match("stop")?.kind, "stop");
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
