import { z } from "zod";
import { BaseHttpForm, textField, type FieldRoles, type FormData, type IncomingData } from "../http/form.ts";
import { BaseHttpBackendView, lastValues, type FormClass, type HttpViewOptions } from "../http/view.ts";
import type { ViewRequest, ViewResponse } from "../view.ts";
import { twilioRefusal, webhookParams } from "./webhook.ts";

/** What Twilio wants back when it should send no reply of its own: an empty TwiML document. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/**
 * Twilio's incoming-message webhook: `MessageSid`, `From`, `Body` (empty for a picture without
 * words), and every other parameter Twilio sends (`To`, `NumMedia`, `MediaUrl0`…, `FromCountry`,
 * …) kept as a field; `MessageSid` is the gateway id the message is deduplicated on.
 */
export class TwilioForm extends BaseHttpForm {
  protected override roles(): FieldRoles {
    return { identity: "From", text: "Body", externalId: "MessageSid" };
  }

  override schema(): z.ZodType<FormData> {
    return z.looseObject({ MessageSid: textField(), From: textField(), Body: z.string({ error: "Expected text." }).default("") });
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data.From)]);
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(data)) if (typeof value === "string") fields[name] = value;
    return { connection, text: String(data.Body), fields: { ...fields, externalId: String(data.MessageSid) } };
  }
}

/**
 * `/backend/<name>/`: Twilio's incoming SMS and MMS, POST (or GET, if the number's webhook is set
 * so), signed with `X-Twilio-Signature`. An unsigned or wrongly signed request is a 403 and
 * nothing is stored; an accepted one is answered with empty TwiML, so that Twilio sends nothing
 * itself (replies go out through the Messages API).
 */
export class TwilioInboundView extends BaseHttpBackendView {
  override httpMethodNames: readonly string[] = ["post", "get"];
  override formClass: FormClass = TwilioForm;
  private readonly key: string;

  constructor(options: HttpViewOptions & { key: string }) {
    super(options);
    this.key = options.key;
  }

  override async handle(request: ViewRequest): Promise<ViewResponse> {
    return twilioRefusal(this.port, this.key, request) ?? super.handle(request);
  }

  protected override formData(request: ViewRequest): FormData {
    return lastValues(webhookParams(request));
  }

  protected override formValid(): ViewResponse {
    return { status: 200, body: EMPTY_TWIML, contentType: "text/xml; charset=utf-8" };
  }
}
