import type { QueryCreator } from "kysely";
import type { Database } from "../schema.ts";
import type { Db } from "./rows.ts";

/** The common table expression withQueuedRanks adds: one row per rank, plus a last row whose rank is null. */
export interface QueuedRanks {
  queued_ranks: { rank: number | null };
}

/**
 * `db` with `queued_ranks`: the distinct ranks of queued outbound transmissions, lowest first, found
 * by a loose index scan of transmissions_queue (direction, status, rank, next_attempt_at, id): one
 * seek per rank, however many transmissions each holds. A query that names a rank exactly can then
 * read the range `next_attempt_at <= now` of each: with the rank left open, `next_attempt_at` is no
 * bound on the index, and every transmission scheduled for later would be walked to find the due
 * ones (a `send --file --at` next month is hundreds of thousands). Ranks are few (replies, bulk).
 * Filter on `queued_ranks.rank is not null`: the scan ends with a null row.
 */
export function withQueuedRanks(db: Db): QueryCreator<Database & QueuedRanks> {
  return db.withRecursive("queued_ranks(rank)", (qc) =>
    qc
      .selectFrom("transmissions")
      .select((eb) => eb.fn.min<number | null>("transmissions.rank").as("rank"))
      .where("transmissions.direction", "=", "O")
      .where("transmissions.status", "=", "Q")
      .unionAll((next) =>
        next
          .selectFrom("queued_ranks")
          .select((eb) =>
            eb
              .selectFrom("transmissions")
              .select((sub) => sub.fn.min<number | null>("transmissions.rank").as("rank"))
              .where("transmissions.direction", "=", "O")
              .where("transmissions.status", "=", "Q")
              .whereRef("transmissions.rank", ">", "queued_ranks.rank")
              .as("rank"),
          )
          .where("queued_ranks.rank", "is not", null),
      ),
  );
}
