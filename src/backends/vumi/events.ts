import { z } from "zod";
import type { DeliveryReport } from "../../messages/status.ts";
import type { BackendPort } from "../port.ts";
import { fieldErrors, NON_FIELD_ERRORS, textField } from "../http/form.ts";
import { formatFormErrors, reportAnswer } from "../http/view.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";
import type { InboundGuard } from "./auth.ts";
import { readJsonBody } from "../json-body.ts";

const VUMI_EVENTS = ["ack", "nack", "delivery_report"] as const;
const JUNEBUG_EVENTS = ["submitted", "rejected", "delivery_succeeded", "delivery_failed", "delivery_pending"] as const;

/** Vumi events name our message by `user_message_id`; Junebug's own events by `message_id`. */
const eventSchema = z.discriminatedUnion(
  "event_type",
  [
    z.object({ event_type: z.literal("ack"), user_message_id: textField(), sent_message_id: z.string().nullish() }),
    z.object({ event_type: z.literal("nack"), user_message_id: textField(), nack_reason: z.string().nullish() }),
    z.object({
      event_type: z.literal("delivery_report"),
      user_message_id: textField(),
      delivery_status: z.enum(["pending", "failed", "delivered"], { error: "expected pending, failed or delivered" }),
    }),
    z.object({ event_type: z.enum(JUNEBUG_EVENTS), message_id: textField(), event_details: z.looseObject({}).nullish() }),
  ],
  { error: `expected ${VUMI_EVENTS.join(", ")} (Vumi) or ${JUNEBUG_EVENTS.join(", ")} (Junebug)` },
);

type VumiEvent = z.infer<typeof eventSchema>;

const DELIVERY_STATUSES = { delivered: "D", failed: "E", pending: "S" } as const;
const JUNEBUG_STATUSES: Record<(typeof JUNEBUG_EVENTS)[number], DeliveryReport["status"]> = {
  submitted: "S",
  rejected: "E",
  delivery_succeeded: "D",
  delivery_failed: "E",
  delivery_pending: "S",
};

/** The id the event names, and what it means for the transmission. */
function readEvent(event: VumiEvent): { id: string; report: DeliveryReport } {
  switch (event.event_type) {
    case "ack":
      return { id: event.user_message_id, report: { status: "S", detail: event.sent_message_id ? `ack: sent as ${event.sent_message_id}` : "ack" } };
    case "nack":
      return { id: event.user_message_id, report: { status: "E", detail: `nack: ${event.nack_reason || "no reason given"}` } };
    case "delivery_report":
      return { id: event.user_message_id, report: { status: DELIVERY_STATUSES[event.delivery_status], detail: `delivery_report: ${event.delivery_status}` } };
    default: {
      const reason = event.event_details?.reason;
      const detail = typeof reason === "string" && reason !== "" ? `${event.event_type}: ${reason}` : event.event_type;
      return { id: event.message_id, report: { status: JUNEBUG_STATUSES[event.event_type], detail } };
    }
  }
}

/**
 * `/backend/<name>/events/`: Vumi's (and Junebug's) events about the messages we sent. ack and
 * pending are recorded with the transmission staying S; delivered marks it D; nack and failed
 * mark it E with the reason. The event's id is matched first against the ids the gateway
 * answered our sends with, then against our own message ids (relays that echo
 * `metadata.rapidsms_msg_id`). Unknown messages and malformed events get 400, never 500.
 */
export class VumiEventView implements BackendView {
  readonly path = "events/";
  private readonly port: BackendPort;
  private readonly guard: InboundGuard;

  constructor(options: { port: BackendPort; guard: InboundGuard }) {
    this.port = options.port;
    this.guard = options.guard;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refusal = this.guard(request);
    if (refusal) return refusal;
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    const body = readJsonBody(request);
    if (!body.ok) return textResponse(400, formatFormErrors({ [NON_FIELD_ERRORS]: [body.reason] }));
    const parsed = eventSchema.safeParse(body.value);
    if (!parsed.success) return textResponse(400, formatFormErrors(fieldErrors(parsed.error.issues)));
    const { id, report } = readEvent(parsed.data);
    const outcome = await this.port.reportDelivery({ externalIdOrMessageId: id }, report);
    return reportAnswer(outcome, `no message ${id} was sent through this backend`);
  }
}
