import { GenericHttpBackendView } from "../../src/index.ts";

/** A gateway that calls with `phone=…&message=…` instead of `identity=…&text=…`. */
export class PhoneMessageView extends GenericHttpBackendView {
  override params = { identityName: "phone", textName: "message" };
}
