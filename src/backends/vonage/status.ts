import type { DeliveryReport } from "../../messages/status.ts";
import { formatFormErrors, reportAnswer } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";
import { readWebhookParams, webhookRefusal, type WebhookAuth } from "./webhook.ts";

/** A receipt's `status` and what it means: S still on its way, D delivered, E failed. */
export const RECEIPT_STATUSES: Readonly<Record<string, DeliveryReport["status"]>> = {
  accepted: "S",
  buffered: "S",
  unknown: "S",
  delivered: "D",
  expired: "E",
  failed: "E",
  rejected: "E",
};

/** The receipts' `err-code`s, from Vonage's delivery receipt guide. */
export const RECEIPT_ERRORS: Readonly<Record<string, string>> = {
  "0": "Delivered",
  "1": "Unknown",
  "2": "Absent subscriber, temporary",
  "3": "Absent subscriber, permanent",
  "4": "Call barred by user",
  "5": "Portability error",
  "6": "Anti-spam rejection",
  "7": "Handset busy",
  "8": "Network error",
  "9": "Illegal number: the user asked not to receive messages from this service",
  "10": "Illegal message",
  "11": "Unroutable",
  "12": "Destination unreachable",
  "13": "Subscriber age restriction",
  "14": "Number blocked by carrier",
  "15": "Prepaid insufficient funds",
  "99": "General error",
};

const MAX_ID = 255;

/** `delivered`, then the error code and its meaning and the carrier's time when the receipt has them. */
export function receiptDetail(params: Readonly<Record<string, string>>): string {
  const status = params.status.trim().toLowerCase();
  const code = params["err-code"]?.trim();
  const parts = [status];
  if (code) parts.push(`err-code ${code.slice(0, 10)}${RECEIPT_ERRORS[code] ? ` (${RECEIPT_ERRORS[code]})` : ""}`);
  const scts = params.scts?.trim();
  if (scts) parts.push(`scts ${scts.slice(0, 20)}`);
  return parts.join(", ");
}

/**
 * `/backend/<name>/status/`: Vonage's delivery receipts (GET or POST, as the dashboard's webhook
 * method says), signed like inbound messages. A receipt names the part it is about by
 * `messageId`; the send recorded every part's id (`partIds`), so the message is D once every
 * part is delivered and E once one failed, whichever process receives the receipts. Answered 200 with an empty body when recorded
 * (or kept for a send whose answer is not recorded yet); a malformed receipt, or one whose id no
 * store can match, is a 400 with the reason, for the same reason as inbound (see
 * VonageInboundView).
 */
export class VonageStatusView implements BackendView {
  readonly path = "status/";
  private readonly port: BackendPort;
  private readonly auth: WebhookAuth;

  constructor(options: { port: BackendPort; auth: WebhookAuth }) {
    this.port = options.port;
    this.auth = options.auth;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["GET", "POST"]);
    if (refused) return refused;
    const read = readWebhookParams(request);
    if (!read.ok) return textResponse(400, formatFormErrors({ [read.field]: [read.reason] }));
    const { params } = read;
    const refusal = webhookRefusal(this.auth, params);
    if (refusal) return refusal;
    const errors: Record<string, string[]> = {};
    const messageId = params.messageId?.trim() ?? "";
    const word = params.status?.trim().toLowerCase() ?? "";
    if (messageId === "") errors.messageId = ["This field is required."];
    else if (messageId.length > MAX_ID) errors.messageId = [`Longer than ${MAX_ID} characters (${messageId.length}).`];
    if (word === "") errors.status = ["This field is required."];
    const status = RECEIPT_STATUSES[word];
    if (word !== "" && !status) errors.status = [`unknown status ${JSON.stringify(word.slice(0, 40))}: expected ${Object.keys(RECEIPT_STATUSES).join(", ")}`];
    if (Object.keys(errors).length > 0) return textResponse(400, formatFormErrors(errors));
    const report: DeliveryReport = { status, detail: receiptDetail(params) };
    const outcome = await this.port.reportDelivery({ externalId: messageId }, report);
    return reportAnswer(outcome, `no message ${messageId} was sent through this backend`);
  }
}
