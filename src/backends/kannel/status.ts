import { z } from "zod";
import type { DeliveryReport } from "../../messages/status.ts";
import type { BackendPort } from "../port.ts";
import { fieldErrors, NON_FIELD_ERRORS, textField } from "../http/form.ts";
import { formatFormErrors, lastValues } from "../http/view.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";

/** Kannel's DLR types (`%d`) and what each means for the transmission. */
const DLR_TYPES: Record<string, { label: string; status: DeliveryReport["status"] }> = {
  "1": { label: "delivery success", status: "D" },
  "2": { label: "delivery failure", status: "E" },
  "4": { label: "message buffered", status: "S" },
  "8": { label: "SMSC submit", status: "S" },
  "16": { label: "SMSC reject", status: "E" },
};

const reportSchema = z.object({
  message_id: textField(),
  identity: textField(),
  status: z.enum(Object.keys(DLR_TYPES) as [string, ...string[]], { error: "expected a Kannel DLR type: 1, 2, 4, 8 or 16" }),
  status_text: z.string().optional(),
  smsc: z.string().optional(),
  sms_id: z.string().optional(),
  fid: z.string().optional(),
  date_sent: z.string().optional(),
});

/**
 * `/backend/<name>/status/`: the dlr-url Kannel calls back. Records the report and moves the
 * transmission: 1 → D, 2 and 16 → E, 4 and 8 → stays S. Unknown or malformed reports get 400.
 */
export class KannelDeliveryReportView implements BackendView {
  readonly path = "status/";
  private readonly port: BackendPort;

  constructor(port: BackendPort) {
    this.port = port;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["GET"]);
    if (refused) return refused;
    const parsed = reportSchema.safeParse(lastValues(request.query));
    if (!parsed.success) return textResponse(400, formatFormErrors(fieldErrors(parsed.error.issues)));
    const report = parsed.data;
    const type = DLR_TYPES[report.status];
    const detail = [`${report.status} ${type.label}`, report.status_text, report.fid && `smsc id ${report.fid}`].filter(Boolean).join(": ");
    const outcome = await this.port.reportDelivery({ messageId: report.message_id, identity: report.identity }, { status: type.status, detail });
    if (outcome.matched === 0)
      return textResponse(
        400,
        formatFormErrors({ [NON_FIELD_ERRORS]: [outcome.reason ?? `no message ${report.message_id} was sent to ${report.identity} through this backend`] }),
      );
    return textResponse(200, "");
  }
}
