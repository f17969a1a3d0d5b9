import { z } from "zod";
import { InvalidInputError } from "../../errors.ts";
import { BaseHttpForm, textField, type FieldErrors, type FieldRoles, type FormData, type IncomingData } from "../http/form.ts";
import { formatFormErrors } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";
import { readResults, resultErrors } from "./json-body.ts";

/** Optional text: absent or null is "", numbers are taken as their digits. */
function optionalText() {
  return z.preprocess(
    (value) => (value === null || value === undefined ? "" : typeof value === "number" ? String(value) : value),
    z.string({ error: "Expected text." }),
  );
}

/**
 * One inbound message of Infobip's MO_JSON_2 format: `messageId`, `from`, `to`, `text` (the whole
 * text, keyword included), `cleanText`, `keyword`, `receivedAt`, `smsCount`, `price`, … Every
 * field it sent is kept in `fields`, plus `externalId` = `messageId` for dedupe.
 */
export class InfobipInboundForm extends BaseHttpForm {
  protected override roles(): FieldRoles {
    return { identity: "from", text: "text", externalId: "messageId" };
  }

  override schema(): z.ZodType<FormData> {
    return z.looseObject({ messageId: textField(), from: textField(), text: optionalText() });
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data.from)]);
    return { connection, text: String(data.text), fields: { ...data, externalId: data.messageId } };
  }
}

/**
 * `/backend/<name>/`: Infobip forwards inbound SMS as a POST of `{ "results": [ … ] }`, one entry
 * per message. Every entry is checked before any is stored (one bad entry refuses the request
 * whole, with the reason); then each is received in order, and the 200 comes once all are stored.
 * Should storing stop half-way, Infobip sends the request again, and the messages already stored
 * are recognised by their `messageId` and not stored twice.
 */
export class InfobipInboundView implements BackendView {
  readonly path = "";
  private readonly port: BackendPort;
  private readonly form: InfobipInboundForm;

  constructor(port: BackendPort) {
    this.port = port;
    this.form = new InfobipInboundForm({ backendName: port.name, port });
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    const read = readResults(request);
    if (!read.ok) return textResponse(400, formatFormErrors(read.errors));
    const valid: FormData[] = [];
    let errors: FieldErrors = {};
    read.results.forEach((result, i) => {
      const checked = this.form.validate(result);
      if (checked.success) valid.push(checked.data);
      else errors = { ...errors, ...resultErrors(i, checked.errors) };
    });
    if (Object.keys(errors).length > 0) return textResponse(400, formatFormErrors(errors));
    for (const [i, data] of valid.entries()) {
      try {
        const incoming = await this.form.getIncomingData(data);
        await this.port.receive(incoming.text, incoming.connection, { fields: incoming.fields });
      } catch (error) {
        if (error instanceof InvalidInputError) return textResponse(400, formatFormErrors(resultErrors(i, { [error.field]: [error.reason] })));
        throw error;
      }
    }
    return textResponse(200, "");
  }
}
