import type { RapidSms, StatusChange } from "rapidsms-ts";

/** A host's reactions to its messages' status changes: staff hear of failures, appointments are marked. */
export async function followStatus(
  sms: RapidSms,
  host: { notifyStaff(identity: string, error: string | null): void; markAppointment(change: StatusChange): Promise<void> },
  signal: AbortSignal,
) {
  const { notifyStaff, markAppointment } = host;
  const stop = sms.onStatus((change) => {
    // { messageId, backend, identity, status: "queued" | "sent" | "delivered" | "failed", error, retryAt?, at }
    if (change.status === "failed") notifyStaff(change.identity, change.error);
  });

  // Or as an async iterator, until the signal aborts or the loop breaks:
  for await (const change of sms.statusChanges({ signal })) await markAppointment(change);
  stop();
}
