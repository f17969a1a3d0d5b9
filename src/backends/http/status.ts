import type { DeliveryReport } from "../../messages/status.ts";
import { bodyFields, formatFormErrors, lastValues, reportAnswer } from "./view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse } from "../view.ts";

/** What the gateway's delivery reports look like: the names of their fields, and what each status means. */
export interface HttpStatusOptions {
  /** The field with the gateway's message id (the one its answer to the send gave). */
  idName: string;
  /** The field with the status. */
  statusName: string;
  /** A field with more about it (an error code, a reason), kept with the report. */
  detailName?: string;
  /** The gateway's statuses (any case) and what they mean: D delivered, E failed, S on its way. Merged over the common ones. */
  statuses: Record<string, DeliveryReport["status"]>;
  /** Methods the gateway calls with, lower case. */
  methods: readonly string[];
  /** The body of the 200 answer (some gateways want `OK`). */
  answer: string;
}

/** The words gateways use most, upper case: Kannel and SMPP receipts, and the plain ones. */
export const COMMON_STATUSES: Readonly<Record<string, DeliveryReport["status"]>> = {
  DELIVERED: "D",
  DELIVRD: "D",
  SUCCESS: "D",
  FAILED: "E",
  UNDELIV: "E",
  UNDELIVERED: "E",
  REJECTED: "E",
  REJECTD: "E",
  EXPIRED: "E",
  DELETED: "E",
  SENT: "S",
  QUEUED: "S",
  ACCEPTED: "S",
  ACCEPTD: "S",
  BUFFERED: "S",
  PENDING: "S",
  SUBMITTED: "S",
  ENROUTE: "S",
};

/**
 * `/backend/<name>/status/` of the generic http engine: a gateway's delivery report, read from
 * the query (GET) or the body (form or JSON), matched to the transmission by the gateway's
 * message id (or our message id, for gateways that echo it). A missing or unknown status is a 400
 * that says which; a report naming an id no send has brought yet is kept (it may have overtaken
 * the send's answer) and answered 200.
 */
export class HttpStatusView implements BackendView {
  readonly path = "status/";
  private readonly port: BackendPort;
  private readonly options: HttpStatusOptions;
  private readonly statuses: ReadonlyMap<string, DeliveryReport["status"]>;

  constructor(port: BackendPort, options: HttpStatusOptions) {
    this.port = port;
    this.options = options;
    this.statuses = new Map(Object.entries({ ...COMMON_STATUSES, ...options.statuses }).map(([word, status]) => [word.toUpperCase(), status]));
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const { methods, idName, statusName, detailName } = this.options;
    if (!methods.includes(request.method.toLowerCase())) {
      const allowed = methods.map((m) => m.toUpperCase()).join(", ");
      return { ...textResponse(405, `method ${request.method} not allowed: use ${allowed}`), headers: { allow: allowed } };
    }
    const data = request.method.toUpperCase() === "GET" ? lastValues(request.query) : bodyFields(request);
    const errors: Record<string, string[]> = {};
    const id = scalar(data[idName]);
    const word = scalar(data[statusName]);
    if (!id) errors[idName] = ["This field is required."];
    if (!word) errors[statusName] = ["This field is required."];
    const status = word ? this.statuses.get(word.toUpperCase()) : undefined;
    if (word && !status) errors[statusName] = [`unknown status ${JSON.stringify(word)}: map it in the backend's status.statuses option`];
    if (!id || !status) return textResponse(400, formatFormErrors(errors));
    const extra = detailName ? scalar(data[detailName]) : undefined;
    const outcome = await this.port.reportDelivery({ externalIdOrMessageId: id }, { status, detail: extra ? `${word}: ${extra}` : word });
    return reportAnswer(outcome, `no message ${id} was sent through this backend`, this.options.answer);
  }
}

/** A field's value as text: strings and numbers (a JSON status code), nothing else. */
function scalar(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
