import { type Kysely, sql } from "kysely";
import { PreparedQuery } from "../prepared.ts";
import type { Database } from "../schema.ts";
import type { StoreDialect } from "./dialect.ts";
import { withQueuedRanks } from "./queued-ranks.ts";
import { recipients } from "./rows.ts";

/** A transmission a claim may take, with what its sender needs. */
export interface ClaimableRow {
  id: number;
  message_id: string;
  attempts: number;
  text: string;
  context: string;
  /** Its message's cancel time: a transmission being sent when its message was cancelled is not sent again. */
  cancelled_at: string | null;
  backend: string;
  identity: string;
  in_response_to: string | null;
  /** The id of the message that opted its recipient out ("" for none); meaningful only when `opted_out` is not null. */
  opted_out_by: string;
  opted_out: number | null;
}

/**
 * The statements of a claim (claimTransmissions), compiled once per store (see PreparedQuery): a
 * claim runs one to four of them, and building each anew cost more than running it.
 */
export function claimQueries(db: Kysely<Database>, dialect: StoreDialect) {
  const claimable = (
    // biome-ignore lint/suspicious/noExplicitAny: each statement's PreparedQuery names the parameters it takes
    p: (name: any) => any,
    status: "P" | "Q",
    { rank = false, only = false }: { rank?: boolean; only?: boolean } = {},
  ) =>
    dialect.lockForClaim(
      recipients(db)
        .leftJoin("opt_outs", "opt_outs.connection_id", "transmissions.connection_id")
        .select([
          "transmissions.id",
          "transmissions.message_id",
          "transmissions.attempts",
          "messages.text",
          "messages.context",
          "messages.cancelled_at",
          "backends.name as backend",
          "connections.identity",
          "messages.in_response_to",
          (eb) => eb.fn.coalesce("opt_outs.message_id", sql.lit("")).as("opted_out_by"),
          "opt_outs.connection_id as opted_out",
        ])
        .where("transmissions.direction", "=", "O")
        .where("transmissions.status", "=", status)
        .$if(rank, (q) => q.where("transmissions.rank", "=", p("rank")))
        .$if(status === "Q", (q) => q.where("transmissions.next_attempt_at", "<=", p("now")))
        .$if(status === "P", (q) => q.where("transmissions.claimed_until", "<", p("now")))
        .$if(only, (q) => q.where("transmissions.message_id", "=", p("messageId")).where("backends.name", "=", p("backend")))
        // One message's transmissions share its rank (its priority): any one of them names the range.
        .$if(only && status === "Q", (q) =>
          q.where("transmissions.rank", "=", (eb) =>
            eb.selectFrom("transmissions as mine").select("mine.rank").where("mine.message_id", "=", p("messageId")).limit(1),
          ),
        )
        .$if(!rank && !(only && status === "Q"), (q) => q.orderBy("transmissions.rank"))
        .orderBy("transmissions.next_attempt_at")
        .orderBy("transmissions.id")
        .limit(p("limit")),
      "transmissions",
    );
  return {
    /** The distinct ranks of the queue, lowest first (see queued-ranks.ts). */
    ranks: new PreparedQuery<never, { rank: number | null }>(() =>
      withQueuedRanks(db).selectFrom("queued_ranks").select("rank").where("rank", "is not", null).orderBy("rank"),
    ),
    /** Transmissions whose claim ran out (their claimer died or hung). */
    expired: new PreparedQuery<"now" | "limit", ClaimableRow>((p) => claimable(p, "P")),
    expiredOf: new PreparedQuery<"now" | "limit" | "messageId" | "backend", ClaimableRow>((p) => claimable(p, "P", { only: true })),
    /** One rank's due transmissions: an exact range of transmissions_queue. */
    queued: new PreparedQuery<"now" | "limit" | "rank", ClaimableRow>((p) => claimable(p, "Q", { rank: true })),
    /** One message's due transmissions on one backend: the range of its rank, filtered. */
    queuedOf: new PreparedQuery<"now" | "limit" | "messageId" | "backend", ClaimableRow>((p) => claimable(p, "Q", { only: true })),
  };
}

export type ClaimQueries = ReturnType<typeof claimQueries>;
