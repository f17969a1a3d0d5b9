import type { DeliveryReport } from "../../messages/status.ts";
import { formatFormErrors, lastValues, reportAnswer } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";
import { twilioRefusal, webhookParams } from "./webhook.ts";

/**
 * Twilio's `MessageStatus` values and what they mean here: on its way (S), delivered (D), or
 * failed for good (E). `read` is WhatsApp's and RCS's receipt; `canceled` a scheduled message
 * withdrawn.
 */
export const TWILIO_STATUSES: Readonly<Record<string, DeliveryReport["status"]>> = {
  accepted: "S",
  scheduled: "S",
  queued: "S",
  sending: "S",
  sent: "S",
  partially_delivered: "S",
  delivered: "D",
  read: "D",
  undelivered: "E",
  failed: "E",
  canceled: "E",
};

/**
 * `/backend/<name>/status/`: Twilio's status callbacks (the `StatusCallback` of each message we
 * send), signed like inbound. `MessageSid` names the message Twilio's answer to our send gave;
 * `ErrorCode` (30003 unreachable, 21610 unsubscribed, …) is kept with the status.
 */
export class TwilioStatusView implements BackendView {
  readonly path = "status/";
  private readonly port: BackendPort;
  private readonly key: string;

  constructor(port: BackendPort, key: string) {
    this.port = port;
    this.key = key;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refusal = twilioRefusal(this.port, this.key, request);
    if (refusal) return refusal;
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    const data = lastValues(webhookParams(request));
    const sid = typeof data.MessageSid === "string" ? data.MessageSid.trim() : "";
    const word = typeof data.MessageStatus === "string" ? data.MessageStatus.trim().toLowerCase() : "";
    const errors: Record<string, string[]> = {};
    if (!sid) errors.MessageSid = ["This field is required."];
    const status = TWILIO_STATUSES[word];
    if (!word) errors.MessageStatus = ["This field is required."];
    else if (!status) errors.MessageStatus = [`unknown status ${JSON.stringify(word)}: expected one of ${Object.keys(TWILIO_STATUSES).join(", ")}`];
    if (!sid || !status) return textResponse(400, formatFormErrors(errors));
    const code = typeof data.ErrorCode === "string" && data.ErrorCode.trim() !== "" ? data.ErrorCode.trim() : undefined;
    const detail = code ? `${word}: error ${code}${code === "21610" ? " (the recipient opted out)" : ""}` : word;
    const outcome = await this.port.reportDelivery({ externalId: sid }, { status, detail });
    return reportAnswer(outcome, `no message ${sid} was sent through this backend`);
  }
}
