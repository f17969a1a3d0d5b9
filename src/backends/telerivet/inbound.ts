import { z } from "zod";
import { BaseHttpForm, NON_FIELD_ERRORS, textField, type FieldRoles, type FormData, type IncomingData } from "../http/form.ts";
import { BaseHttpBackendView, formatFormErrors, type FormClass, type HttpViewOptions } from "../http/view.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";
import { recordSendStatus } from "./status.ts";
import { NOT_A_FORM, postedFields, scalar, withoutSecret, type SecretCheck } from "./webhook.ts";

/** The text of an incoming message: kept exactly as sent; absent (a call, an MMS with media only) is empty. */
const content = z.preprocess(
  (value) => (value === undefined ? "" : value),
  z.string({ error: "Expected text." }).refine((value) => !value.includes("\0"), "Null characters are not allowed."),
);

/**
 * Telerivet's `incoming_message` webhook: `id` (its message id), `from_number` (the contact: the
 * sender, and where a reply goes), `content`; every other field it sends (`message_type`,
 * `from_number_e164`, `to_number`, `time_created`, `phone_id`, `contact_id`, `project_id`, …) is
 * kept as it came.
 */
const incomingMessage = z.looseObject({
  event: z.literal("incoming_message"),
  id: textField(),
  from_number: textField(),
  content,
});

/** Validates an incoming message; `fields` carries every field but the secret, plus `externalId` (Telerivet's `id`) for dedupe. */
export class TelerivetForm extends BaseHttpForm {
  protected override roles(): FieldRoles {
    return { identity: "from_number", text: "content", externalId: "id" };
  }

  override schema(): z.ZodType<FormData> {
    return incomingMessage;
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data.from_number)]);
    return { connection, text: String(data.content), fields: { ...data, externalId: String(data.id) } };
  }
}

export interface TelerivetInboundOptions extends HttpViewOptions {
  /** The webhook service's secret, checked on every event but `send_status`. */
  webhookCheck: SecretCheck;
  /** The status secrets, checked on `send_status` events. */
  statusCheck: SecretCheck;
}

/**
 * `/backend/<name>/`: the URL of a Telerivet "Webhook API" service. POST only. `incoming_message`
 * is received and answered 200 with an empty body (Telerivet wants a 200 within 10 s, and needs no
 * content; an empty body asks it to send nothing back). `send_status` (a service that also
 * notifies message statuses) is recorded as a delivery report, checked against the status
 * secrets; any other event is answered 200 and ignored, so that Telerivet does not retry it.
 */
export class TelerivetInboundView extends BaseHttpBackendView {
  override httpMethodNames: readonly string[] = ["post"];
  override formClass: FormClass = TelerivetForm;
  private readonly webhookCheck: SecretCheck;
  private readonly statusCheck: SecretCheck;

  constructor(options: TelerivetInboundOptions) {
    super(options);
    this.webhookCheck = options.webhookCheck;
    this.statusCheck = options.statusCheck;
  }

  override async handle(request: ViewRequest): Promise<ViewResponse> {
    if (request.method.toUpperCase() !== "POST") return super.handle(request);
    const { fields, form } = postedFields(request);
    const event = scalar(fields.event);
    const refusal = event === "send_status" ? this.statusCheck(fields) : this.webhookCheck(fields);
    if (refusal) return refusal;
    if (!form) return this.formInvalid({ [NON_FIELD_ERRORS]: [NOT_A_FORM] });
    if (event === "send_status") return recordSendStatus(this.port, fields);
    if (event === undefined) return textResponse(400, formatFormErrors({ event: ["This field is required."] }));
    if (event !== "incoming_message") {
      this.port.logger.debug({ event }, "Telerivet webhook event ignored: only incoming_message and send_status are taken");
      return textResponse(200, "");
    }
    return super.handle(request);
  }

  protected override formData(request: ViewRequest): FormData {
    return withoutSecret(postedFields(request).fields);
  }

  protected override formValid(): ViewResponse {
    return textResponse(200, "");
  }
}
