import { InvalidInputError } from "../../errors.ts";
import { NON_FIELD_ERRORS } from "../http/form.ts";
import { formatFormErrors, bodyFields } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";

export interface UssdOptions {
  /** How long a step may take the apps before the user is answered `END` with `timeoutText`. */
  deadlineMs: number;
  /** What the user reads when the apps did not answer in time, or failed. */
  timeoutText: string;
}

/** What Africa's Talking reads: `CON ` keeps the session open for the user's next input, `END ` closes it. */
export function ussdAnswer(text: string, end: boolean): ViewResponse {
  return { status: 200, body: `${end ? "END" : "CON"} ${text}`, contentType: "text/plain; charset=utf-8" };
}

/**
 * `/backend/<name>/ussd/`: one step of a USSD session. Africa's Talking POSTs `sessionId`,
 * `serviceCode`, `phoneNumber` and `text`, every input of the session so far joined by `*` (empty
 * on the first step), and waits for the answer. The step is stored first, then the apps see the
 * latest input as the message's text, in the session (`msg.session`); their reply is the answer,
 * `CON` when a reply asks for more (`respond(text, { endSession: false })`), else `END`.
 */
export class AfricasTalkingUssdView implements BackendView {
  readonly path = "ussd/";
  private readonly port: BackendPort;
  private readonly options: UssdOptions;

  constructor(port: BackendPort, options: UssdOptions) {
    this.port = port;
    this.options = options;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    const body = bodyFields(request);
    const errors: Record<string, string[]> = {};
    const required = (name: string) => {
      const value = typeof body[name] === "string" ? (body[name] as string).trim() : "";
      if (!value) errors[name] = [body[name] === undefined || body[name] === "" ? "This field is required." : "Expected text."];
      return value;
    };
    const sessionId = required("sessionId");
    const phoneNumber = required("phoneNumber");
    required("serviceCode");
    // Absent means the first step; anything but text is not Africa's Talking's (an object must not start a session).
    const history = typeof body.text === "string" ? body.text : "";
    if (body.text !== undefined && typeof body.text !== "string") errors.text = ["Expected text."];
    const unfit = phoneNumber ? this.port.checkIdentity(phoneNumber) : undefined;
    if (unfit) errors.phoneNumber = [unfit];
    if (Object.keys(errors).length > 0) return textResponse(400, formatFormErrors(errors));
    const inputs = history === "" ? [] : history.split("*");
    const fields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(body)) if (typeof value === "string") fields[name] = value;
    try {
      const [connection] = await this.port.lookupConnections([phoneNumber]);
      const conversation = await this.port.converse(inputs.at(-1) ?? "", connection, {
        session: { id: sessionId, event: inputs.length === 0 ? "new" : "resume" },
        // One step of one user's session: the same step sent again is the same message.
        fields: { ...fields, externalId: `${sessionId}#${phoneNumber}#${inputs.length}` },
        deadlineMs: this.options.deadlineMs,
      });
      if (conversation.outcome === "answered") return ussdAnswer(conversation.text, conversation.end);
      this.port.logger.warn(
        { backend: this.port.name, sessionId, outcome: conversation.outcome },
        "a USSD step got no answer from the apps in time; answered END",
      );
      return ussdAnswer(this.options.timeoutText, true);
    } catch (error) {
      if (error instanceof InvalidInputError) return textResponse(400, formatFormErrors({ [NON_FIELD_ERRORS]: [error.message] }));
      throw error;
    }
  }
}
