import { z } from "zod";
import type { DeliveryReport } from "../../messages/status.ts";
import { fieldErrors, NON_FIELD_ERRORS, textField } from "../http/form.ts";
import { formatFormErrors, reportAnswer } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type ViewResponse } from "../view.ts";
import { deliveryId } from "./outbound.ts";

/** The app's events about a message it sends, and what each means for the transmission. */
export const REPORT_EVENTS: Readonly<Record<string, DeliveryReport["status"]>> = {
  // Every part went out to the network; `partsCount` parts.
  "sms:sent": "S",
  // The recipient's handset has it (sent once per part: the first one finishes the transmission, the rest are recorded once).
  "sms:delivered": "D",
  // A part could not be sent or delivered; `reason` is the app's (an Android SmsManager result, or its own check).
  "sms:failed": "E",
  // Cancelled through the API before any part went out: it never will.
  "sms:cancelled": "E",
};

const nullableText = z.string({ error: "Expected text." }).nullish();

/**
 * A report's payload: the app's message id and the recipient it is about (`recipient`; older
 * apps send only the deprecated `phoneNumber`, the same number), plus `partsCount` on sms:sent and `reason` on sms:failed.
 */
const reportPayload = z.object({
  messageId: textField(),
  recipient: nullableText,
  phoneNumber: nullableText,
  partsCount: z.number({ error: "Expected a number." }).int().nonnegative().nullish(),
  reason: nullableText,
});

function detail(event: string, payload: z.infer<typeof reportPayload>): string {
  if (event === "sms:sent" && typeof payload.partsCount === "number") return `${event} (${payload.partsCount} part${payload.partsCount === 1 ? "" : "s"})`;
  if (event === "sms:failed") return `${event}: ${payload.reason?.trim() || "no reason given"}`;
  return event;
}

/**
 * Records one report (sms:sent, sms:delivered, sms:failed, sms:cancelled) on the transmission to
 * the recipient it names, matched by the external id our send gave it (see `deliveryId`). A
 * report that names no recipient cannot say which transmission it is about: 400. One for an id
 * no send has brought yet is kept (the app's sms:sent can overtake our record of the answer)
 * and answered 200.
 */
export async function recordReport(port: BackendPort, event: string, payload: unknown): Promise<ViewResponse> {
  const parsed = reportPayload.safeParse(payload);
  if (!parsed.success) return textResponse(400, formatFormErrors(payloadErrors(fieldErrors(parsed.error.issues))));
  const recipient = parsed.data.recipient?.trim() || parsed.data.phoneNumber?.trim();
  if (!recipient) {
    return textResponse(
      400,
      formatFormErrors({
        "payload.recipient": ["This field is required: the app reports each recipient of a message on its own, and this report names none."],
      }),
    );
  }
  const outcome = await port.reportDelivery(
    { externalId: deliveryId(parsed.data.messageId, recipient) },
    { status: REPORT_EVENTS[event], detail: detail(event, parsed.data) },
  );
  return reportAnswer(outcome, `no message ${parsed.data.messageId} to ${recipient} was sent through this backend`);
}

/** Field errors of the payload, named as the app's docs name them (`payload.messageId`). */
export function payloadErrors(errors: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(errors).map(([field, messages]) => [field === NON_FIELD_ERRORS ? "payload" : `payload.${field}`, messages]));
}
