import type { DeliveryReport } from "../../messages/status.ts";
import { readTlvInt, readTlvString, TAGS } from "./pdu.ts";

/**
 * How the SMSC writes message ids: `auto` as they come (the TLV receipted_message_id, else the
 * receipt text's `id:`); `hex` when submit_sm_resp gives them in hex and the receipt text in
 * decimal; `decimal` for the reverse. Either way an id is kept in one spelling (hex in lower
 * case, numbers without leading zeros), so that a receipt matches its send, also one that came first.
 */
export type MessageIdFormat = "auto" | "hex" | "decimal";

/** The spelling of a submit_sm_resp's message_id (and of a receipted_message_id TLV) that sends are recorded under. */
export function canonicalId(id: string, format: MessageIdFormat): string {
  const trimmed = id.trim();
  if (format === "hex" && /^[0-9a-f]+$/i.test(trimmed)) return BigInt(`0x${trimmed}`).toString(16);
  if (format === "decimal" && /^[0-9]+$/.test(trimmed)) return BigInt(trimmed).toString(10);
  return trimmed;
}

/** The receipt text's `id:` in the spelling of submit_sm_resp (see MessageIdFormat). */
function idFromText(id: string, format: MessageIdFormat): string {
  if (format === "hex" && /^[0-9]+$/.test(id)) return BigInt(id).toString(16);
  if (format === "decimal" && /^[0-9a-f]+$/i.test(id)) return BigInt(`0x${id}`).toString(10);
  return id;
}

export interface Receipt {
  /** The id of the submit it is about, as sends are recorded (canonicalId). */
  messageId: string;
  report: DeliveryReport;
}

/** message_state (SMPP 3.4 §5.2.28) and the receipt text's `stat:` both say where the message is. */
const STATES: Record<string, DeliveryReport["status"]> = {
  ENROUTE: "S",
  DELIVRD: "D",
  DELIVERED: "D",
  EXPIRED: "E",
  DELETED: "E",
  UNDELIV: "E",
  UNDELIVERABLE: "E",
  ACCEPTD: "S",
  ACCEPTED: "S",
  UNKNOWN: "S",
  REJECTD: "E",
  REJECTED: "E",
  UNDELIVERED: "E",
  FAILED: "E",
  SKIPPED: "E",
};
const MESSAGE_STATES = ["", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED", "SKIPPED"];

/**
 * Reads a delivery receipt: the id from the receipted_message_id TLV when present, else from the
 * text (`id:… sub:… dlvrd:… submit date:… done date:… stat:DELIVRD err:…`, Appendix B of the
 * spec, which SMSCs follow loosely: fields are found by name, in any order and case); the state
 * from the message_state TLV, else the text's `stat:`. Undefined when it names no id or no state.
 */
export function parseReceipt(text: string, tlvs: ReadonlyMap<number, Uint8Array>, format: MessageIdFormat): Receipt | undefined {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S*)`, "i").exec(text)?.[1];
  const tlvId = readTlvString(tlvs, TAGS.receipted_message_id);
  const textId = field("id");
  const messageId = tlvId ? canonicalId(tlvId, format) : textId ? canonicalId(idFromText(textId, format), format) : undefined;
  const state = readTlvInt(tlvs, TAGS.message_state);
  const stat = (state !== undefined ? MESSAGE_STATES[state] || undefined : undefined) ?? field("stat")?.toUpperCase();
  if (!messageId || !stat) return undefined;
  // A state this reader does not know is recorded as it came, on its way (S): the receipt is not lost.
  const status = STATES[stat] ?? "S";
  const err = field("err");
  const network = tlvs.get(TAGS.network_error_code);
  const detail = [
    stat,
    err && !/^0+$/.test(err) ? `err:${err}` : undefined,
    network && network.length === 3 ? `network error ${network[0]}/${(network[1] << 8) | network[2]}` : undefined,
  ]
    .filter(Boolean)
    .join(" ");
  return { messageId, report: { status, detail } };
}
