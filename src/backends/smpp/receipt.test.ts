import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TAGS, tlvInt, tlvString } from "./pdu.ts";
import { canonicalId, parseReceipt } from "./receipt.ts";

const text = (id: string, stat: string, err = "000") =>
  `id:${id} sub:001 dlvrd:001 submit date:2612011200 done date:2612011201 stat:${stat} err:${err} text:hello`;

describe("SMPP delivery receipts", () => {
  it("reads the id and state from the text when there are no TLVs", () => {
    assert.deepEqual(parseReceipt(text("1A2B", "DELIVRD"), new Map(), "auto"), { messageId: "1A2B", report: { status: "D", detail: "DELIVRD" } });
  });

  it("prefers receipted_message_id and message_state to the text", () => {
    const tlvs = new Map([
      [TAGS.receipted_message_id, tlvString("FF01")],
      [TAGS.message_state, tlvInt(5, 1)],
    ]);
    assert.deepEqual(parseReceipt(text("65281", "DELIVRD"), tlvs, "auto"), { messageId: "FF01", report: { status: "E", detail: "UNDELIVERABLE" } });
  });

  const states: [string, "D" | "E" | "S"][] = [
    ["DELIVRD", "D"],
    ["EXPIRED", "E"],
    ["DELETED", "E"],
    ["UNDELIV", "E"],
    ["REJECTD", "E"],
    ["ACCEPTD", "S"],
    ["ENROUTE", "S"],
    ["UNKNOWN", "S"],
  ];
  for (const [stat, status] of states) {
    it(`stat:${stat} is ${status}`, () => {
      assert.equal(parseReceipt(text("9", stat), new Map(), "auto")?.report.status, status);
    });
  }

  it("keeps a non-zero err and the network error code in the detail", () => {
    const tlvs = new Map([[TAGS.network_error_code, Uint8Array.of(3, 0, 11)]]);
    assert.equal(parseReceipt(text("9", "UNDELIV", "011"), tlvs, "auto")?.report.detail, "UNDELIV err:011 network error 3/11");
  });

  it("finds fields in any case and order, as SMSCs write them", () => {
    assert.deepEqual(parseReceipt("STAT:DELIVRD ID:77 err:0", new Map(), "auto")?.messageId, "77");
  });

  it("gives nothing for a receipt without an id or a state", () => {
    assert.equal(parseReceipt("sub:001 stat:DELIVRD", new Map(), "auto"), undefined);
    assert.equal(parseReceipt("id:1 sub:001", new Map(), "auto"), undefined);
    assert.equal(parseReceipt("", new Map(), "auto"), undefined);
  });

  it("records a state it does not know as S, as it came, rather than dropping the receipt", () => {
    assert.deepEqual(parseReceipt("id:1 stat:WHATEVER", new Map(), "auto"), { messageId: "1", report: { status: "S", detail: "WHATEVER" } });
  });

  it("message_state 0 (none) leaves the text's stat to say", () => {
    assert.equal(parseReceipt("id:1 stat:UNDELIVERED", new Map([[TAGS.message_state, tlvInt(0, 1)]]), "auto")?.report.status, "E");
  });

  it("messageIdFormat hex: the receipt text's decimal id is the hex id submit_sm_resp gave", () => {
    const sent = canonicalId("5F3A2B1C", "hex");
    assert.equal(sent, "5f3a2b1c");
    assert.equal(parseReceipt(text(String(0x5f3a2b1c), "DELIVRD"), new Map(), "hex")?.messageId, sent);
    // The TLV is in submit_sm_resp's spelling (SMPP 3.4 §5.3.2.12), whatever the text says.
    assert.equal(parseReceipt(text("1", "DELIVRD"), new Map([[TAGS.receipted_message_id, tlvString("005F3A2B1C")]]), "hex")?.messageId, sent);
  });

  it("messageIdFormat decimal: the receipt text's hex id is the decimal id submit_sm_resp gave", () => {
    const sent = canonicalId(`000${0x5f3a2b1c}`, "decimal");
    assert.equal(sent, String(0x5f3a2b1c));
    assert.equal(parseReceipt(text("5F3A2B1C", "DELIVRD"), new Map(), "decimal")?.messageId, sent);
  });

  it("messageIdFormat auto keeps ids exactly as they come", () => {
    assert.equal(canonicalId(" 00Ab ", "auto"), "00Ab");
    assert.equal(parseReceipt(text("00Ab", "DELIVRD"), new Map(), "auto")?.messageId, "00Ab");
  });

  it("an id that is not a number in the configured base is kept as it is", () => {
    assert.equal(canonicalId("msg-1", "hex"), "msg-1");
    assert.equal(canonicalId("msg-1", "decimal"), "msg-1");
  });
});
