import { MessageSendingError } from "../../errors.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import type { SmppOptions } from "./options.ts";
import { type ShortMessageBody, STATUS, shortMessageBody, statusText, TAGS, tlvInt } from "./pdu.ts";
import { canonicalId } from "./receipt.ts";
import { encodeText, type SubmitPart } from "./short-message.ts";
import { SubmitRefusedError, type Submitter } from "./submitter.ts";

/**
 * submit_sm statuses that no resend will change: the address, the message or the account's
 * rights are wrong. Anything else (system errors, vendor codes) is tried again by the pipeline.
 */
const PERMANENT = new Set<number>([
  STATUS.ESME_RINVMSGLEN,
  STATUS.ESME_RINVCMDLEN,
  STATUS.ESME_RINVCMDID,
  STATUS.ESME_RINVSRCADR,
  STATUS.ESME_RINVDSTADR,
  STATUS.ESME_RINVSERTYP,
  STATUS.ESME_RINVESMCLASS,
  STATUS.ESME_RINVSRCTON,
  STATUS.ESME_RINVSRCNPI,
  STATUS.ESME_RINVDSTTON,
  STATUS.ESME_RINVDSTNPI,
  STATUS.ESME_RINVSCHED,
  STATUS.ESME_RINVEXPIRY,
  STATUS.ESME_RX_P_APPN,
  STATUS.ESME_RX_R_APPN,
  STATUS.ESME_RINVOPTPARSTREAM,
  STATUS.ESME_ROPTPARNOTALLWD,
  STATUS.ESME_RINVPARLEN,
  STATUS.ESME_RMISSINGOPTPARAM,
  STATUS.ESME_RINVOPTPARAMVAL,
]);

/** TON/NPI for a sender as SMSCs expect them: alphanumeric 5/0, an international number 1/1, a short code 0/1. */
function sourceTonNpi(sourceAddr: string): { ton: number; npi: number } {
  if (/[^0-9+]/.test(sourceAddr)) return { ton: 5, npi: 0 };
  if (sourceAddr.startsWith("+") || sourceAddr.length > 8) return { ton: 1, npi: 1 };
  return { ton: 0, npi: 1 };
}

interface Outcome {
  identity: string;
  ids?: string[];
  error?: Error;
}

/**
 * Sends through the binds: every recipient gets its own submit_sm (SMPP's submit_multi is not
 * worth its quirks), one per part of a long text, all at once within the windows. A recipient is
 * sent when every part was taken; it fails with the SMSC's status otherwise, permanently for an
 * address or a message the SMSC will never take.
 */
export function createSmppSender(config: SmppOptions, submitter: Submitter, nextReference: () => number) {
  const source = config.sourceAddr.replace(/^\+/, "");
  const tonNpi = sourceTonNpi(config.sourceAddr);
  const sourceAddrTon = config.sourceAddrTon ?? tonNpi.ton;
  const sourceAddrNpi = config.sourceAddrNpi ?? tonNpi.npi;

  const body = (destination: string, part: SubmitPart): ShortMessageBody => {
    const tlvs = new Map<number, Uint8Array>();
    if (part.sar) {
      tlvs.set(TAGS.sar_msg_ref_num, tlvInt(part.sar.reference, 2));
      tlvs.set(TAGS.sar_total_segments, tlvInt(part.sar.total, 1));
      tlvs.set(TAGS.sar_segment_seqnum, tlvInt(part.sar.number, 1));
    }
    if (part.payload) tlvs.set(TAGS.message_payload, part.payload);
    return shortMessageBody({
      serviceType: config.serviceType,
      sourceAddrTon,
      sourceAddrNpi,
      sourceAddr: source,
      destAddrTon: config.destAddrTon,
      destAddrNpi: config.destAddrNpi,
      destinationAddr: destination,
      esmClass: part.esmClass,
      registeredDelivery: config.registeredDelivery,
      dataCoding: part.dataCoding,
      shortMessage: part.shortMessage,
      tlvs,
    });
  };

  return async function send(request: SendRequest): Promise<SendResult> {
    let parts: SubmitPart[];
    try {
      parts = encodeText(request.text, {
        defaultAlphabet: config.defaultAlphabet,
        useLatin1: config.useLatin1,
        longMessages: config.longMessages,
        reference: nextReference(),
      });
    } catch (error) {
      throw new MessageSendingError(`the text cannot go as SMS: ${(error as Error).message}`, { retryable: false });
    }
    const deadline = request.deadline ?? Date.now() + 30_000;
    const outcomes = await Promise.all(
      request.identities.map(async (identity): Promise<Outcome> => {
        const destination = identity.replace(/^\+/, "");
        try {
          const ids = await Promise.all(parts.map((part) => submitter.submit(body(destination, part), { deadline, signal: request.signal })));
          return { identity, ids: ids.map((id) => canonicalId(id, config.messageIdFormat)) };
        } catch (error) {
          return { identity, error: error as Error };
        }
      }),
    );
    const sent = outcomes.filter((o) => o.ids);
    const externalIds = Object.fromEntries(sent.map((o) => [o.identity, o.ids![0]]));
    const partIds = parts.length > 1 ? Object.fromEntries(sent.map((o) => [o.identity, o.ids!])) : undefined;
    const failed = outcomes.filter((o) => o.error);
    if (failed.length === 0)
      return { externalIds, partIds, segments: parts.length, answer: `submit_sm_resp message_id ${sent.map((o) => o.ids!.join("+")).join(", ")}` };
    const permanent = failed.filter((o) => o.error instanceof SubmitRefusedError && PERMANENT.has(o.error.status)).map((o) => o.identity);
    throw new MessageSendingError(
      failed.length === 1
        ? `the SMSC did not take the message to ${failed[0].identity}: ${reason(failed[0].error!)}`
        : `the SMSC did not take the message to ${failed.length} of ${outcomes.length} recipients`,
      {
        failedIdentities: failed.map((o) => o.identity),
        identityErrors: Object.fromEntries(failed.map((o) => [o.identity, reason(o.error!)])),
        permanentIdentities: permanent,
        externalIds,
        partIds,
        segments: Object.fromEntries(sent.map((o) => [o.identity, parts.length])),
        retryable: true,
      },
    );
  };
}

function reason(error: Error): string {
  return error instanceof SubmitRefusedError ? `submit_sm_resp ${statusText(error.status)}` : error.message;
}
