import { z } from "zod";
import { BaseHttpForm, textField, type FieldRoles, type FormData, type IncomingData } from "../http/form.ts";
import { BaseHttpBackendView, type FormClass, type HttpViewOptions } from "../http/view.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";
import type { InboundGuard } from "./auth.ts";
import { readJsonBody } from "../json-body.ts";

/** Where formData() leaves the reason the body is not a JSON object, for the form to report. */
const UNREADABLE_BODY = Symbol("unreadable body");

const readableBody = z.unknown().transform((data, ctx) => {
  const reason = (data as { [UNREADABLE_BODY]?: string })[UNREADABLE_BODY];
  if (reason !== undefined) {
    ctx.addIssue({ code: "custom", message: reason });
    return z.NEVER;
  }
  return data;
});

/** An optional Vumi field: JSON null or absent is "", numbers are taken as their digits. */
function optionalText() {
  return z.preprocess(
    (value) => (value === null || value === undefined ? "" : typeof value === "number" ? String(value) : value),
    z.string({ error: "Expected text." }).refine((value) => !value.includes("\0"), "Null characters are not allowed."),
  );
}

/** A Vumi message's fields, in RapidSMS's order; any other key (timestamp, helper_metadata, …) is dropped. */
const vumiMessage = z.object({
  message_id: textField(),
  to_addr: textField(),
  from_addr: textField(),
  in_reply_to: optionalText(),
  session_event: optionalText(),
  content: optionalText(),
  transport_name: textField(),
  transport_type: textField(),
  group: optionalText(),
});

const SESSION_EVENTS = ["new", "resume", "close"] as const;

/** Validates a Vumi message; `fields` carries every field, plus `externalId` (Vumi's `message_id`) for dedupe. */
export class VumiForm extends BaseHttpForm {
  protected override roles(): FieldRoles {
    return { identity: "from_addr", text: "content", externalId: "message_id" };
  }

  override schema(): z.ZodType<FormData> {
    return readableBody.pipe(vumiMessage);
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data.from_addr)]);
    const event = SESSION_EVENTS.find((known) => known === data.session_event);
    // Vumi keeps one session per user on a transport (USSD), and names no session id.
    const session = event ? { id: `${String(data.transport_name)}:${String(data.from_addr)}`, event } : undefined;
    return { connection, text: String(data.content), fields: { ...data, externalId: data.message_id }, session };
  }
}

/**
 * Vumi's inbound messages: POST only, the body a JSON Vumi message whatever its content type.
 * Answers 200 with an empty body; a message_id already accepted is answered 200 and not processed again.
 */
export class VumiBackendView extends BaseHttpBackendView {
  override httpMethodNames: readonly string[] = ["post"];
  override formClass: FormClass = VumiForm;
  private readonly guard: InboundGuard;

  constructor(options: HttpViewOptions & { guard: InboundGuard }) {
    super(options);
    this.guard = options.guard;
  }

  override async handle(request: ViewRequest): Promise<ViewResponse> {
    return this.guard(request) ?? super.handle(request);
  }

  protected override formData(request: ViewRequest): FormData {
    const body = readJsonBody(request);
    return body.ok ? body.value : { [UNREADABLE_BODY]: body.reason };
  }

  protected override formValid(): ViewResponse {
    return textResponse(200, "");
  }
}
