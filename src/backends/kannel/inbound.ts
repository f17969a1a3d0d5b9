import { z } from "zod";
import { BaseHttpForm, textField, type FormContext, type FormData, type IncomingData } from "../http/form.ts";
import { BaseHttpBackendView, type FormClass, type HttpViewOptions } from "../http/view.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";
import { decodeText, rawQuery } from "./charset.ts";

export interface KannelParams {
  /** The sender (`%p`); default `id`. */
  identityName?: string;
  /** The text (`%a`); default `text`. */
  textName?: string;
  /** The exact payload bytes (`%b`), preferred over the text when present; default `raw`. */
  rawName?: string;
  /** Kannel's message id (`%I`), kept as the gateway id for dedupe; default `msgid`. */
  externalIdName?: string;
}

/** Left by formData() in place of a text whose bytes could not be decoded; reported as the text's error. */
class UndecodableText {
  readonly reason: string;

  constructor(reason: string) {
    this.reason = reason;
  }
}

/** The decoded text: required and non-empty, or the reason it could not be decoded. */
const decodedText = z.unknown().transform((value, ctx) => {
  if (value instanceof UndecodableText) ctx.addIssue({ code: "custom", message: value.reason });
  else if (typeof value !== "string" || value === "") ctx.addIssue({ code: "custom", message: "This field is required." });
  return value as string;
});

type KannelFormContext = FormContext & { names: Required<KannelParams> };

/** Validates what Kannel's get-url sends; every parameter besides the sender and text goes into `fields`. */
export class KannelForm extends BaseHttpForm {
  readonly names: Required<KannelParams>;

  constructor(context: KannelFormContext) {
    super(context);
    this.names = context.names;
  }

  override schema() {
    const { identityName, textName } = this.names;
    return z
      .object({
        [identityName]: textField(),
        [textName]: decodedText,
        coding: z.enum(["0", "1", "2"], { error: "expected 0 (7-bit), 1 (8-bit) or 2 (UCS-2)" }).optional(),
        charset: z.string().optional(),
      })
      .catchall(z.unknown());
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const { identityName, textName, rawName, externalIdName } = this.names;
    const [connection] = await this.lookupConnections([String(data[identityName])]);
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) {
      if (![identityName, textName, rawName].includes(key) && value !== "") fields[key] = value;
    }
    if (fields[externalIdName]) fields.externalId = fields[externalIdName];
    return { connection, text: String(data[textName]), fields };
  }
}

/**
 * Kannel's sms-service get-url: GET only, parameters read from the raw query so that UCS-2 and
 * 8-bit payloads are decoded from their bytes. Answers 200 with an empty body, since Kannel would
 * send any body back to the phone.
 */
export class KannelBackendView extends BaseHttpBackendView {
  override httpMethodNames: readonly string[] = ["get"];
  override formClass: FormClass = KannelForm;
  readonly names: Required<KannelParams>;

  constructor(options: HttpViewOptions & { kannelParams?: KannelParams }) {
    super(options);
    this.names = { identityName: "id", textName: "text", rawName: "raw", externalIdName: "msgid", ...options.kannelParams };
  }

  protected override formContext() {
    return { ...super.formContext(), names: this.names };
  }

  protected override formData(request: ViewRequest): FormData {
    const bytes = rawQuery(request.url);
    const data: FormData = {};
    for (const [name, value] of bytes) data[name] = value.toString("utf8");
    const payload = bytes.get(this.names.rawName) ?? bytes.get(this.names.textName);
    if (payload !== undefined) {
      try {
        data[this.names.textName] = decodeText(payload, data.charset as string | undefined, data.coding as string | undefined);
      } catch (error) {
        data[this.names.textName] = new UndecodableText(
          `cannot decode the text as ${data.charset || "UTF-8"} (coding ${data.coding ?? "0"}): ${(error as Error).message}`,
        );
      }
    }
    return data;
  }

  protected override formValid(): ViewResponse {
    return textResponse(200, "");
  }
}
