import { InvalidInputError } from "../../errors.ts";
import { LIMITS } from "../../messages/limits.ts";
import type { DurableConcat } from "../durable-concat.ts";
import type { BackendPort } from "../port.ts";
import type { SmppOptions } from "./options.ts";
import { type Pdu, readTlvInt, STATUS, TAGS } from "./pdu.ts";
import { parseReceipt } from "./receipt.ts";
import type { SmppSession } from "./session.ts";
import { decodeText } from "./short-message.ts";

/** esm_class bits 2–5: the message type of a deliver_sm. */
const MESSAGE_TYPE = 0x3c;
const RECEIPT = 0x04;
const INTERMEDIATE = 0x20;

export interface InboundCounts {
  received: number;
  receipts: number;
  /** Receipts that named no send of ours (nor one under way): logged, answered as taken. */
  unmatchedReceipts: number;
}

/** The sender as an identity: an international number (TON 1) with its +, as replies then go back to it. */
function senderIdentity(addr: string, ton: number): string {
  return ton === 1 && /^[0-9]+$/.test(addr) ? `+${addr}` : addr;
}

/**
 * The SMSC's deliver_sm and data_sm: a delivery receipt is recorded on its send; a message from a
 * phone (MO) is received, a part of a long one kept until the message is whole. Either is answered
 * only once it is stored: an SMSC that gets no answer, or an error, delivers it again, so an
 * answer means what a 200 means to HTTP gateways. What cannot ever be stored is answered with a
 * permanent error; a store that fails, with ESME_RX_T_APPN (try later).
 */
export class SmppInbound {
  private readonly port: BackendPort;
  private readonly config: SmppOptions;
  private readonly concat: DurableConcat;
  private readonly counts: InboundCounts;

  constructor(port: BackendPort, config: SmppOptions, concat: DurableConcat, counts: InboundCounts) {
    this.port = port;
    this.config = config;
    this.concat = concat;
    this.counts = counts;
  }

  async handle(pdu: Pdu, session: SmppSession): Promise<void> {
    if (pdu.command !== "deliver_sm" && pdu.command !== "data_sm") return;
    const resp = pdu.command === "data_sm" ? "data_sm_resp" : "deliver_sm_resp";
    const answer = (status: number) => session.respond(pdu, { command: resp, status, body: { messageId: "" } });
    const body = pdu.body;
    const shortMessage = "shortMessage" in body ? body.shortMessage : new Uint8Array(0);
    const payload = body.tlvs.get(TAGS.message_payload);
    const sarTotal = readTlvInt(body.tlvs, TAGS.sar_total_segments);
    const sar =
      sarTotal !== undefined
        ? { reference: readTlvInt(body.tlvs, TAGS.sar_msg_ref_num) ?? 0, total: sarTotal, number: readTlvInt(body.tlvs, TAGS.sar_segment_seqnum) ?? 1 }
        : undefined;
    const decoded = decodeText({
      dataCoding: body.dataCoding,
      esmClass: body.esmClass,
      shortMessage,
      payload,
      sar,
      defaultAlphabet: this.config.defaultAlphabet,
    });
    const type = body.esmClass & MESSAGE_TYPE;
    if (type === RECEIPT || type === INTERMEDIATE) {
      await this.receipt(decoded.text, body.tlvs);
      answer(STATUS.ESME_ROK);
      return;
    }
    if (type !== 0) {
      // An SME's delivery or user acknowledgement (0x08, 0x10) or a conversation abort: not a message from a person.
      this.port.logger.info(
        { esmClass: body.esmClass, sender: body.sourceAddr },
        "an SMPP deliver_sm that is neither a message nor a receipt: answered, not received",
      );
      answer(STATUS.ESME_ROK);
      return;
    }
    const sender = senderIdentity(body.sourceAddr, body.sourceAddrTon);
    const fields: Record<string, unknown> = {
      to: body.destinationAddr,
      dataCoding: body.dataCoding,
      ...(decoded.binary && { binary: true }),
      ...(body.serviceType && { serviceType: body.serviceType }),
    };
    try {
      const concat = decoded.concat;
      if (concat && concat.total > 1) {
        const key = `${sender}\n${body.destinationAddr}\n${concat.reference}\n${concat.total}`;
        await this.concat.hold(key, { part: concat.number, total: concat.total, text: decoded.text, sender, fields });
      } else {
        await this.receive(sender, decoded.text, fields);
      }
      answer(STATUS.ESME_ROK);
    } catch (error) {
      // Input no store can take will never be taken: the SMSC must not send it again and again.
      if (error instanceof InvalidInputError) {
        this.port.logger.warn({ err: error, sender }, `an SMPP message was refused: ${error.message}`);
        answer(STATUS.ESME_RX_P_APPN);
        return;
      }
      throw error;
    }
  }

  /** Receives a whole message (also one a concatenation assembled). */
  async receive(sender: string, text: string, fields: Record<string, unknown>): Promise<void> {
    const [connection] = await this.port.lookupConnections([sender]);
    // 255 parts of UCS-2 can hold more than a stored message: the rest is cut rather than the whole refused.
    const cut = text.length > LIMITS.text;
    const kept = cut ? text.slice(0, LIMITS.text).replace(/[\uD800-\uDBFF]$/, "") : text;
    await this.port.receive(kept, connection, { fields: cut ? { ...fields, cut: true } : fields });
    this.counts.received++;
  }

  private async receipt(text: string, tlvs: ReadonlyMap<number, Uint8Array>): Promise<void> {
    this.counts.receipts++;
    const receipt = parseReceipt(text, tlvs, this.config.messageIdFormat);
    if (!receipt) {
      this.counts.unmatchedReceipts++;
      this.port.logger.warn({ text: text.slice(0, 200) }, "an SMPP delivery receipt named no message id or state; answered, not recorded");
      return;
    }
    const outcome = await this.port.reportDelivery({ externalId: receipt.messageId }, receipt.report);
    if (outcome.matched === 0 && !outcome.kept) {
      this.counts.unmatchedReceipts++;
      this.port.logger.warn(
        { messageId: receipt.messageId, reason: outcome.reason },
        "an SMPP delivery receipt matched no message sent; answered, not recorded",
      );
    }
  }
}
