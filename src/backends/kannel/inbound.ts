import { z } from "zod";
import { BaseHttpForm, textField, type FieldRoles, type FormContext, type FormData, type IncomingData } from "../http/form.ts";
import { BaseHttpBackendView, type FormClass, type HttpViewOptions } from "../http/view.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";
import { decodeBytes, percentEncodeBytes, rawQuery } from "../../http/urlencoded.ts";
import { decodeText } from "./charset.ts";

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

/**
 * A parameter besides the text, as text: its bytes as UTF-8 when they are valid UTF-8 with no NUL;
 * else (binary parameters such as the UDH, `%u`) percent-encoded as Kannel sent them, so that
 * they are kept exactly, and in any store.
 */
function parameterText(bytes: Buffer): string {
  try {
    const text = decodeBytes(bytes);
    if (!text.includes("\0")) return text;
  } catch {
    // Not UTF-8: kept percent-encoded.
  }
  return percentEncodeBytes(bytes);
}

function strictText(bytes: Buffer): string | UndecodableText {
  try {
    return decodeBytes(bytes);
  } catch {
    return new UndecodableText(NOT_UTF8);
  }
}

/** Left by formData() in place of a text whose bytes could not be decoded; reported as the text's error. */
class UndecodableText {
  readonly reason: string;

  constructor(reason: string) {
    this.reason = reason;
  }
}

const NOT_UTF8 = "not valid UTF-8 once percent-decoded";

/** A sender or gateway id: its bytes must be UTF-8 (they are not kept percent-encoded, as other parameters may be). */
const decodedField = (field: z.ZodType) =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      if (value instanceof UndecodableText) ctx.addIssue({ code: "custom", message: value.reason });
    })
    .pipe(field);

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
    const { identityName, textName, externalIdName } = this.names;
    return z
      .object({
        [identityName]: decodedField(textField()),
        [externalIdName]: decodedField(z.string()).optional(),
        [textName]: decodedText,
        coding: z.enum(["0", "1", "2"], { error: "expected 0 (7-bit), 1 (8-bit) or 2 (UCS-2)" }).optional(),
        charset: z.string().optional(),
      })
      .catchall(z.unknown());
  }

  protected override roles(): FieldRoles {
    return { identity: this.names.identityName, text: this.names.textName, externalId: this.names.externalIdName };
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
    const { identityName, externalIdName, rawName } = this.names;
    for (const [name, value] of bytes) {
      if (name === rawName) continue;
      data[name] = name === identityName || name === externalIdName ? strictText(value) : parameterText(value);
    }
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
