import { z } from "zod";
import { BaseHttpForm, textField, type FieldRoles, type FormData, type IncomingData } from "../http/form.ts";
import { BaseHttpBackendView, type FormClass } from "../http/view.ts";
import { textResponse, type ViewResponse } from "../view.ts";

/**
 * Africa's Talking's incoming-message callback: `from`, `text`, `id` (its message id, the gateway
 * id the message is deduplicated on) and every other field it sends (`to`, `date`, `linkId` for a
 * premium reply, `networkCode`) kept as a field.
 */
export class AfricasTalkingForm extends BaseHttpForm {
  protected override roles(): FieldRoles {
    return { identity: "from", text: "text", externalId: "id" };
  }

  override schema(): z.ZodType<FormData> {
    return z.looseObject({ from: textField(), id: textField(), text: z.string({ error: "Expected text." }).default("") });
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data.from)]);
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(data)) if (typeof value === "string") fields[name] = value;
    return { connection, text: String(data.text), fields: { ...fields, externalId: String(data.id) } };
  }
}

/** `/backend/<name>/`: incoming SMS, POSTed as a form; answered 200 with an empty body. */
export class AfricasTalkingInboundView extends BaseHttpBackendView {
  override httpMethodNames: readonly string[] = ["post"];
  override formClass: FormClass = AfricasTalkingForm;

  protected override formValid(): ViewResponse {
    return textResponse(200, "");
  }
}
