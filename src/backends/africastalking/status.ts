import type { DeliveryReport } from "../../messages/status.ts";
import { formatFormErrors, bodyFields, reportAnswer } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";

/** Africa's Talking's delivery statuses: on its way (S), delivered (D), failed for good (E). */
export const AFRICASTALKING_STATUSES: Readonly<Record<string, DeliveryReport["status"]>> = {
  Sent: "S",
  Submitted: "S",
  Buffered: "S",
  Success: "D",
  Rejected: "E",
  Failed: "E",
  Expired: "E",
};

/**
 * `/backend/<name>/status/`: delivery reports (`id`: the messageId our send was answered with,
 * `status`, `failureReason` when it failed: `UserInBlackList` is a recipient who opted out).
 */
export class AfricasTalkingStatusView implements BackendView {
  readonly path = "status/";
  private readonly port: BackendPort;

  constructor(port: BackendPort) {
    this.port = port;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    const body = bodyFields(request);
    const id = typeof body.id === "string" ? body.id.trim() : "";
    const word = typeof body.status === "string" ? body.status.trim() : "";
    const errors: Record<string, string[]> = {};
    if (!id) errors.id = ["This field is required."];
    const status = Object.entries(AFRICASTALKING_STATUSES).find(([known]) => known.toLowerCase() === word.toLowerCase())?.[1];
    if (!word) errors.status = ["This field is required."];
    else if (!status) errors.status = [`unknown status ${JSON.stringify(word)}: expected one of ${Object.keys(AFRICASTALKING_STATUSES).join(", ")}`];
    if (!id || !status) return textResponse(400, formatFormErrors(errors));
    const reason = typeof body.failureReason === "string" && body.failureReason.trim() !== "" ? body.failureReason.trim() : undefined;
    const detail = reason ? `${word}: ${reason}${reason === "UserInBlackList" ? " (the recipient opted out)" : ""}` : word;
    const outcome = await this.port.reportDelivery({ externalId: id }, { status, detail });
    return reportAnswer(outcome, `no message ${id} was sent through this backend`);
  }
}
