/**
 * Message and transmission statuses of the RapidSMS database router:
 * Q queued, R received, P processing, S sent, D delivered, E errored.
 */
export type Status = "Q" | "R" | "P" | "S" | "D" | "E";
export type Direction = "I" | "O";

export const STATUSES: readonly Status[] = ["Q", "R", "P", "S", "D", "E"];

/** The error of a transmission not sent because its recipient opted out (see docs/operations.md). */
export const OPTED_OUT = "opted out";
/** The error of a transmission cancelled before it was sent (DELETE /api/messages/<id>). */
export const CANCELLED = "cancelled";

/** A message's status derived from its transmissions' statuses (CONTRACTS.md §7.6). */
export function deriveMessageStatus(direction: Direction, transmissions: readonly Status[]): Status {
  if (transmissions.includes("E")) return "E";
  if (direction === "I") {
    return transmissions.every((s) => s === "R") ? "R" : "Q";
  }
  if (transmissions.some((s) => s !== "S" && s !== "D")) return "P";
  if (transmissions.some((s) => s !== "D")) return "S";
  return "D";
}

/** What a gateway reports about a message it took. */
export interface DeliveryReport {
  /** D delivered; E failed; S still on its way (buffered, submitted): recorded, status unchanged. */
  status: "D" | "E" | "S";
  detail?: string;
}
