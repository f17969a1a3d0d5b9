import { sql, type Kysely } from "kysely";
import { PreparedQuery, type Executor } from "./prepared.ts";
import type { Database } from "./schema.ts";

const MESSAGE_COLUMNS = [
  "id",
  "direction",
  "status",
  "text",
  "fields",
  "context",
  "external_id",
  "in_response_to",
  "priority",
  "error",
  "attempts",
  "next_attempt_at",
  "claimed_by",
  "claimed_until",
  "created_at",
  "updated_at",
  "sent_at",
  "delivered_at",
  "event_url",
] as const satisfies readonly (keyof Database["messages"])[];

const TRANSMISSION_COLUMNS = [
  "message_id",
  "connection_id",
  "direction",
  "status",
  "rank",
  "error",
  "attempts",
  "next_attempt_at",
  "claimed_by",
  "claimed_until",
  "external_id",
  "segments",
  "created_at",
  "updated_at",
  "sent_at",
  "delivered_at",
] as const satisfies readonly (keyof Database["transmissions"])[];

const ATTEMPT_COLUMNS = [
  "transmission_id",
  "attempt",
  "at",
  "outcome",
  "duration_ms",
  "error",
  "answer",
] as const satisfies readonly (keyof Database["attempts"])[];

/**
 * The statements every message runs through, compiled once per store (see PreparedQuery); with
 * `direct`, run by it rather than through Kysely.
 */
export function hotQueries(db: Kysely<Database>, direct?: Executor) {
  return {
    /** Takes a gateway id for a message, unless it was taken within the window. */
    claimGatewayId: new PreparedQuery<"backend" | "externalId" | "messageId" | "at" | "windowStart", { message_id: string }>(
      (p) =>
        db
          .insertInto("inbound_dedupe")
          .values({ backend: p("backend"), external_id: p("externalId"), message_id: p("messageId"), received_at: p("at") })
          .onConflict((oc) =>
            oc
              .columns(["backend", "external_id"])
              .doUpdateSet({ message_id: p("messageId"), received_at: p("at") })
              .where("inbound_dedupe.received_at", "<", p("windowStart")),
          )
          .returning("message_id"),
      direct,
    ),
    insertMessage: new PreparedQuery<(typeof MESSAGE_COLUMNS)[number], never>(
      (p) => db.insertInto("messages").values(Object.fromEntries(MESSAGE_COLUMNS.map((c) => [c, p(c)])) as never),
      direct,
    ),
    /** Returns the new transmission's id (a transmission stored already claimed goes to the sender). */
    insertTransmission: new PreparedQuery<(typeof TRANSMISSION_COLUMNS)[number], { id: number }>(
      (p) =>
        db
          .insertInto("transmissions")
          .values(Object.fromEntries(TRANSMISSION_COLUMNS.map((c) => [c, p(c)])) as never)
          .returning("id"),
      direct,
    ),
    /**
     * As insertTransmission, for a transmission stored claimed; `opted_out_by` says whether its
     * recipient opted out: null when not, else the id of the message that opted them out ("" for none).
     */
    insertClaimedTransmission: new PreparedQuery<(typeof TRANSMISSION_COLUMNS)[number], { id: number; opted_out_by: string | null }>(
      (p) =>
        db
          .insertInto("transmissions")
          .values(Object.fromEntries(TRANSMISSION_COLUMNS.map((c) => [c, p(c)])) as never)
          .returning((eb) => [
            "id",
            eb
              .selectFrom("opt_outs")
              .select((o) => o.fn.coalesce("opt_outs.message_id", sql.lit("")).as("m"))
              .where("opt_outs.connection_id", "=", p("connection_id"))
              .as("opted_out_by"),
          ]),
      direct,
    ),
    insertAttempt: new PreparedQuery<(typeof ATTEMPT_COLUMNS)[number], never>(
      (p) => db.insertInto("attempts").values(Object.fromEntries(ATTEMPT_COLUMNS.map((c) => [c, p(c)])) as never),
      direct,
    ),
    /** Finishes an unprocessed inbound message, if this claim still holds it. */
    completeIncoming: new PreparedQuery<"id" | "token" | "stamp" | "handledBy", never>(
      (p) =>
        db
          .updateTable("messages")
          .set({
            status: "R",
            error: null,
            updated_at: p("stamp"),
            processed_at: p("stamp"),
            handled_by: p("handledBy"),
            claimed_by: null,
            claimed_until: null,
          })
          .where("id", "=", p("id"))
          .where("status", "=", "Q")
          .where("claimed_by", "=", p("token")),
      direct,
    ),
    setTransmissionsOf: new PreparedQuery<"messageId" | "status" | "error" | "stamp", never>(
      (p) =>
        db
          .updateTable("transmissions")
          .set({ status: p("status"), error: p("error"), updated_at: p("stamp") })
          .where("message_id", "=", p("messageId")),
      direct,
    ),
    /**
     * Records a send's outcome on a transmission, if this claim still holds it; null keeps a
     * column as it was. A transmission that a delivery report already moved on (D, E) keeps its
     * status: the report knows more than the send's answer.
     */
    recordAttempt: new PreparedQuery<"id" | "token" | "status" | "error" | "nextAttemptAt" | "stamp" | "sentAt" | "externalId" | "segments", never>(
      (p) =>
        db
          .updateTable("transmissions")
          .set({
            status: sql`case when status = 'P' then ${p("status")} else status end`,
            error: sql`case when status = 'P' then ${p("error")} else error end`,
            next_attempt_at: sql`case when status = 'P' then ${p("nextAttemptAt")} else next_attempt_at end`,
            claimed_by: null,
            claimed_until: null,
            updated_at: p("stamp"),
            sent_at: sql`coalesce(${p("sentAt")}, sent_at)`,
            external_id: sql`coalesce(${p("externalId")}, external_id)`,
            segments: sql`coalesce(${p("segments")}, segments)`,
          })
          .where("id", "=", p("id"))
          .where("claimed_by", "=", p("token")),
      direct,
    ),
    messageOfTransmission: new PreparedQuery<"id", { message_id: string }>(
      (p) => db.selectFrom("transmissions").select("message_id").where("id", "=", p("id")),
      direct,
    ),
    /**
     * A message's direction, status and eventUrl with each of its transmissions' id, status and
     * error (none: nulls). The eventUrl comes with it so that a message without one pays nothing for status events.
     */
    messageStatuses: new PreparedQuery<
      "id",
      {
        direction: Database["messages"]["direction"];
        message_status: Database["messages"]["status"];
        event_url: string | null;
        transmission_id: number | null;
        status: Database["transmissions"]["status"] | null;
        error: string | null;
      }
    >(
      (p) =>
        db
          .selectFrom("messages")
          .leftJoin("transmissions", "transmissions.message_id", "messages.id")
          .select([
            "messages.direction",
            "messages.status as message_status",
            "messages.event_url",
            "transmissions.id as transmission_id",
            "transmissions.status",
            "transmissions.error",
          ])
          .where("messages.id", "=", p("id")),
      direct,
    ),
    /** Saves a message's derived status; null sent or delivered times keep theirs. */
    setMessageStatus: new PreparedQuery<"id" | "status" | "error" | "stamp" | "sentAt" | "deliveredAt", never>(
      (p) =>
        db
          .updateTable("messages")
          .set({
            status: p("status"),
            error: p("error"),
            updated_at: p("stamp"),
            sent_at: sql`coalesce(${p("sentAt")}, sent_at)`,
            delivered_at: sql`coalesce(${p("deliveredAt")}, delivered_at)`,
          })
          .where("id", "=", p("id")),
      direct,
    ),
  };
}

export type HotQueries = ReturnType<typeof hotQueries>;
