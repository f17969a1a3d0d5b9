import { z } from "zod";
import { BaseHttpForm, textField, type FieldRoles, type FormData, type IncomingData } from "../http/form.ts";
import { BaseHttpBackendView, formatFormErrors, type FormClass, type HttpViewOptions } from "../http/view.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";
import type { DurableConcat } from "../durable-concat.ts";
import { readWebhookParams, webhookRefusal, type WebhookAuth } from "./webhook.ts";

/** Parts a concatenated SMS can have: its header counts them in one byte. */
const MAX_PARTS = 255;

const partNumber = z
  .string({ error: "This field is required." })
  .regex(/^\d{1,3}$/, "Expected a whole number.")
  .transform(Number)
  .pipe(z.number().int().min(1, "Expected a part number from 1.").max(MAX_PARTS, `Expected at most ${MAX_PARTS} parts.`));

/**
 * An inbound SMS as the SMS API's webhook sends it: `msisdn` (the sender, digits without `+`),
 * `to`, `messageId` and `text` (absent from a `binary` message, which carries `data` and `udh`),
 * and every other parameter (`type`, `keyword`, `message-timestamp`, `api-key`, `nonce`, …) kept.
 * A part of a long SMS carries `concat-ref`, `concat-total` and `concat-part` as well.
 */
const inboundSchema = z
  .looseObject({
    msisdn: textField(),
    to: textField(),
    messageId: textField(),
    text: z.string({ error: "Expected text." }).optional(),
    type: z.string().optional(),
  })
  .superRefine((data, ctx) => {
    if (data.text === undefined && data.type !== "binary") ctx.addIssue({ code: "custom", path: ["text"], message: "This field is required." });
  });

const concatSchema = z.object({ "concat-ref": textField(), "concat-total": partNumber, "concat-part": partNumber }).superRefine((part, ctx) => {
  // Only between two valid numbers: a refinement runs even when a field failed.
  const [total, n] = [part["concat-total"], part["concat-part"]];
  if (Number.isInteger(total) && Number.isInteger(n) && n > total)
    ctx.addIssue({ code: "custom", path: ["concat-part"], message: "Expected a part number no greater than concat-total." });
});

/** A part of a long SMS: `concat=true`, or any of its three fields (a single SMS carries none of them). */
function isPart(data: FormData): boolean {
  return data.concat === "true" || data["concat-ref"] !== undefined || data["concat-total"] !== undefined || data["concat-part"] !== undefined;
}

/** Validates one inbound webhook; `fields` carries every parameter but `sig`, plus `externalId` (the `messageId`) for dedupe. */
export class VonageInboundForm extends BaseHttpForm {
  protected override roles(): FieldRoles {
    return { identity: "msisdn", text: "text", externalId: "messageId" };
  }

  override schema(): z.ZodType<FormData> {
    return inboundSchema.superRefine((data, ctx) => {
      if (!isPart(data)) return;
      const part = concatSchema.safeParse(data);
      for (const issue of part.success ? [] : part.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    });
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data.msisdn)]);
    const { sig: _sig, ...fields } = data;
    return { connection, text: String(data.text ?? ""), fields: { ...fields, externalId: data.messageId } };
  }
}

/**
 * `/backend/<name>/`: inbound SMS from Vonage's SMS API, by GET or POST (form or JSON), as the
 * dashboard's webhook method says. With a signatureSecret the `sig` is checked before anything is
 * read (403 otherwise, nothing stored). Answered 200 with an empty body, which is what Vonage
 * needs to stop resending; a message it resends with the same `messageId` is stored once. The
 * parts of a long SMS are kept until they make one message (see DurableConcat).
 *
 * A malformed request is a 400 with the reason. Vonage resends it for a day, which cannot make it
 * valid; but a 2xx would drop the message without a trace, while a 400 carries the reason to
 * whoever traces the webhook (the Messages API's format sent here, say).
 */
export class VonageInboundView extends BaseHttpBackendView {
  override httpMethodNames: readonly string[] = ["get", "post"];
  override formClass: FormClass = VonageInboundForm;
  private readonly auth: WebhookAuth;
  private readonly concat: DurableConcat;

  constructor(options: HttpViewOptions & { auth: WebhookAuth; concat: DurableConcat }) {
    super(options);
    this.auth = options.auth;
    this.concat = options.concat;
  }

  override async handle(request: ViewRequest): Promise<ViewResponse> {
    if (!this.httpMethodNames.includes(request.method.toLowerCase())) return super.handle(request);
    const read = readWebhookParams(request);
    if (!read.ok) return textResponse(400, formatFormErrors({ [read.field]: [read.reason] }));
    return webhookRefusal(this.auth, read.params) ?? super.handle(request);
  }

  protected override formData(request: ViewRequest): FormData {
    const read = readWebhookParams(request);
    return read.ok ? read.params : {};
  }

  protected override async accept(incoming: IncomingData, _request: ViewRequest): Promise<void> {
    const fields = (incoming.fields ?? {}) as Record<string, string>;
    const total = Number(fields["concat-total"] ?? 1);
    if (!isPart(fields) || total === 1) {
      await this.port.receive(incoming.text, incoming.connection, { fields });
      return;
    }
    const { externalId: _externalId, ...own } = fields;
    // Sender, recipient and reference: a reference is only unique among one sender's messages to one number.
    const key = JSON.stringify([fields.msisdn, fields.to, fields["concat-ref"]]);
    await this.concat.hold(key, {
      part: Number(fields["concat-part"]),
      total,
      text: incoming.text,
      messageId: fields.messageId,
      sender: fields.msisdn,
      fields: own,
    });
  }

  protected override formValid(): ViewResponse {
    return textResponse(200, "");
  }
}
