import type { DeliveryReport } from "../../messages/status.ts";
import { NON_FIELD_ERRORS } from "../http/form.ts";
import { formatFormErrors, reportAnswer } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";
import { NOT_A_FORM, postedFields, scalar, type SecretCheck } from "./webhook.ts";

/**
 * Telerivet's message statuses (the SDK's Message `status`) as our transmission statuses: S on its
 * way, D delivered, E failed. `failed_queued` is S: Telerivet says the message failed to send and
 * that it will try again itself, so it is not final; a later `sent`, `delivered` or `failed` says
 * how it ended. (Made E, a later `sent` could not undo it, and a route without delivery reports
 * would leave a sent message failed.) `ignored` and `received` are statuses of incoming messages,
 * never of ours, and are refused as unknown.
 */
export const TELERIVET_STATUSES: Readonly<Record<string, DeliveryReport["status"]>> = {
  queued: "S",
  processing: "S",
  sent: "S",
  failed_queued: "S",
  delivered: "D",
  read: "D",
  failed: "E",
  not_delivered: "E",
  cancelled: "E",
};

/** The report's detail: Telerivet's status word, then its route's error code and its error message when it gave them. */
function detailOf(word: string, fields: Record<string, unknown>): string {
  const code = scalar(fields.error_code);
  const message = scalar(fields.error_message);
  return `${word}${code ? ` (error_code ${code})` : ""}${message ? `: ${message}` : ""}`;
}

/**
 * Records a `send_status` callback (already authenticated) on the transmission whose Telerivet
 * message `id` it names. 200 with an empty body when it matched, or when the port keeps it (it
 * overtook the send's answer); 400 with the reason otherwise. Telerivet retries anything but 200
 * for up to a day, which for a malformed report is harmless and shows in its webhook log.
 */
export async function recordSendStatus(port: BackendPort, fields: Record<string, unknown>): Promise<ViewResponse> {
  const id = scalar(fields.id);
  const word = scalar(fields.status)?.toLowerCase();
  const status = word === undefined ? undefined : TELERIVET_STATUSES[word];
  const errors: Record<string, string[]> = {};
  if (!id) errors.id = ["This field is required."];
  if (!word) errors.status = ["This field is required."];
  else if (!status) errors.status = [`unknown status ${JSON.stringify(word)}: expected one of ${Object.keys(TELERIVET_STATUSES).join(", ")}`];
  if (!id || !word || !status) return textResponse(400, formatFormErrors(errors));
  const outcome = await port.reportDelivery({ externalId: id }, { status, detail: detailOf(word, fields) });
  return reportAnswer(outcome, `no message sent through this backend has the Telerivet id ${id}`);
}

/**
 * `/backend/<name>/status/`: the `status_url` given with every message. Telerivet POSTs a form
 * with `event=send_status`, the message's `id`, `status`, `error_message` (and the rest of the
 * message) and `secret` = the `status_secret` we sent. The secret is checked first; a request with
 * another `event` is answered 200 and ignored.
 */
export class TelerivetStatusView implements BackendView {
  readonly path = "status/";
  private readonly port: BackendPort;
  private readonly check: SecretCheck;

  constructor(port: BackendPort, check: SecretCheck) {
    this.port = port;
    this.check = check;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    const { fields, form } = postedFields(request);
    const refusal = this.check(fields);
    if (refusal) return refusal;
    if (!form) return textResponse(400, formatFormErrors({ [NON_FIELD_ERRORS]: [NOT_A_FORM] }));
    const event = scalar(fields.event);
    if (event !== undefined && event !== "send_status") return textResponse(200, "");
    return recordSendStatus(this.port, fields);
  }
}
