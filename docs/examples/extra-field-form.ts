import { GenericHttpBackendView, GenericHttpForm, textField, type FormData, type IncomingData } from "../../src/index.ts";

/** Requires an `extra` parameter besides identity and text, and passes it on in the message's fields. */
export class ExtraParamsHttpForm extends GenericHttpForm {
  override schema() {
    return super.schema().extend({ extra: textField() });
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const incoming = await super.getIncomingData(data);
    return { ...incoming, fields: { extra: data.extra } };
  }
}

export class ExtraParamsHttpBackendView extends GenericHttpBackendView {
  override formClass = ExtraParamsHttpForm;
}
