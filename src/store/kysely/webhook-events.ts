import { createHash } from "node:crypto";
import type { Transaction } from "kysely";
import type { Status } from "../../messages/status.ts";
import type { Database } from "../schema.ts";

/** What a receiver of status events is told a transmission's status is; P (being sent) is no event. */
export type EventStatus = "queued" | "sent" | "delivered" | "failed";

const EVENT_STATUS: Partial<Record<Status, EventStatus>> = { Q: "queued", S: "sent", D: "delivered", E: "failed" };

/** The body POSTed to a message's eventUrl for one status change of one transmission. */
export interface StatusEventBody {
  event: "status";
  messageId: string;
  transmissionId: number;
  backend: string;
  identity: string;
  status: EventStatus;
  error: string | null;
  /** For a send that failed and is tried again (`queued` with an error): when. */
  retryAt?: string;
  at: string;
}

/** A fixed-length key for an event, so that one event is queued once however often its write runs. */
export function dedupeKey(...parts: readonly (string | number)[]): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex");
}

/**
 * Queues a status event to `url` for each of these transmissions of `messageId` (all of them, for
 * `"all"`), as they are now in this transaction. An event already queued (the same transmission,
 * status and attempt: a send's answer after a report that overtook it) is not queued again.
 */
export async function queueStatusEvents(
  trx: Transaction<Database>,
  {
    messageId,
    url,
    transmissionIds,
    stamp,
    maxParameters,
  }: { messageId: string; url: string; transmissionIds: readonly number[] | "all"; stamp: string; maxParameters: number },
): Promise<void> {
  if (transmissionIds !== "all" && transmissionIds.length === 0) return;
  const rows = await trx
    .selectFrom("transmissions")
    .innerJoin("connections", "connections.id", "transmissions.connection_id")
    .innerJoin("backends", "backends.id", "connections.backend_id")
    .select([
      "transmissions.id",
      "transmissions.status",
      "transmissions.error",
      "transmissions.attempts",
      "transmissions.next_attempt_at",
      "backends.name as backend",
      "connections.identity",
    ])
    .where("transmissions.message_id", "=", messageId)
    .$if(transmissionIds !== "all", (q) => q.where("transmissions.id", "in", transmissionIds as number[]))
    .orderBy("transmissions.id")
    .execute();
  const values = rows.flatMap((row) => {
    const status = EVENT_STATUS[row.status];
    if (!status) return [];
    const retrying = row.status === "Q" && row.attempts > 0 && Number(row.next_attempt_at) > 0;
    const body: StatusEventBody = {
      event: "status",
      messageId,
      transmissionId: row.id,
      backend: row.backend,
      identity: row.identity,
      status,
      error: row.error,
      ...(retrying ? { retryAt: new Date(Number(row.next_attempt_at)).toISOString() } : {}),
      at: stamp,
    };
    return [
      {
        kind: "status" as const,
        dedupe_key: dedupeKey("status", row.id, row.status, row.attempts, url),
        message_id: messageId,
        transmission_id: row.id,
        url,
        body: JSON.stringify(body),
        status: "Q" as const,
        attempts: 0,
        next_attempt_at: 0,
        created_at: stamp,
        updated_at: stamp,
      },
    ];
  });
  // Each row binds 11 values; a message to many recipients is written in statements under the database's limit.
  const size = Math.max(1, Math.floor(maxParameters / 11));
  for (let i = 0; i < values.length; i += size)
    await trx
      .insertInto("webhook_deliveries")
      .values(values.slice(i, i + size))
      .onConflict((oc) => oc.column("dedupe_key").doNothing())
      .execute();
}
