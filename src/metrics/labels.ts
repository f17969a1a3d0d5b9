import type { ReportResult, SendOutcome } from "../store/store.ts";
import { type DeliveryReport, OPTED_OUT } from "../messages/status.ts";
import type { ReportLabel, SendOutcomeLabel } from "./metrics.ts";

/**
 * A recorded attempt as /metrics counts it. A recipient who opted out is recorded E with the error
 * `opted out` (the opt-out check before sending) or with `RECIPIENT_OPTED_OUT` (the gateway said so).
 */
export function sendOutcomeLabel(outcome: Pick<SendOutcome, "status" | "error">): SendOutcomeLabel {
  if (outcome.status === "S") return "sent";
  if (outcome.status === "Q") return "retry";
  const error = outcome.error ?? "";
  return error === OPTED_OUT || error.includes("RECIPIENT_OPTED_OUT") ? "opted_out" : "failed";
}

/** A delivery report as /metrics counts it: its status when it matched, else kept or unmatched. */
export function reportLabel(report: DeliveryReport, result: ReportResult): ReportLabel {
  if (result.transmissionIds.length > 0) return report.status;
  return result.kept ? "kept" : "unmatched";
}
