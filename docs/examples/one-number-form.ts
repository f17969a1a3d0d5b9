import { GenericHttpBackendView, GenericHttpForm } from "../../src/index.ts";

export const MY_NUMBER = "1231231234";

/** Accepts messages from one phone number only; any other gets a 400 saying why. */
export class OnlyTextMeHttpForm extends GenericHttpForm {
  override schema() {
    return super.schema().refine((data) => data[this.identityName] === MY_NUMBER, {
      path: [this.identityName],
      message: `SMS received from number other than ${MY_NUMBER}`,
    });
  }
}

export class OnlyTextMeHttpBackendView extends GenericHttpBackendView {
  override formClass = OnlyTextMeHttpForm;
}
