import type { MetricsStore, QueueDepth } from "../store.ts";
import { type Expression, sql } from "kysely";
import { withQueuedRanks } from "./queued-ranks.ts";
import type { StoreContext } from "./rows.ts";

const seconds = (ms: number) => Math.max(0, ms) / 1_000;

/**
 * The backlog for /metrics in one statement of scalar subqueries, each a seek or a range on the
 * queues' indexes (messages_queue: direction, status, created_at; transmissions_queue: direction,
 * status, rank, next_attempt_at, id): counting a backlog reads its index entries, never the tables'
 * history. Queued transmissions are read rank by rank (see queued-ranks.ts), so that those
 * scheduled for later are not walked to count the due ones.
 */
export class QueueDepths implements MetricsStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async queueDepth({ now = Date.now() }: { now?: number } = {}): Promise<QueueDepth> {
    const db = withQueuedRanks(this.ctx.db);
    const inbound = () => db.selectFrom("messages").where("direction", "=", "I").where("status", "=", "Q");
    // Over the ranks, of each rank's queued transmissions: `of` an exact range of the index.
    const perRank = <O>(over: "sum" | "min", of: (rank: ReturnType<typeof queuedOfRank>) => Expression<O>) =>
      db
        .selectFrom("queued_ranks")
        .where("queued_ranks.rank", "is not", null)
        .select((eb) => eb.fn<O>(over, [of(queuedOfRank())]).as("v"));
    const queuedOfRank = () =>
      db.selectFrom("transmissions").where("direction", "=", "O").where("status", "=", "Q").whereRef("transmissions.rank", "=", sql.ref("queued_ranks.rank"));
    const lapsed = () => db.selectFrom("transmissions").where("direction", "=", "O").where("status", "=", "P").where("claimed_until", "<", now);
    // A transmission never tried has no due time (0): it has waited since it was queued, and the
    // first of them has the lowest id, which the index holds.
    const firstQueued = perRank<number | null>("min", (queued) =>
      queued
        .where("next_attempt_at", "=", 0)
        .select((sub) => sub.fn.min<number>("id").as("id"))
        .$asScalar(),
    );
    const row = await db
      .selectNoFrom(() => [
        inbound()
          .select((sub) => sub.fn.countAll<number | string>().as("n"))
          .as("inbound"),
        inbound()
          .select((sub) => sub.fn.min<string | null>("created_at").as("at"))
          .as("inbound_oldest"),
        perRank<number | string | null>("sum", (queued) =>
          queued
            .where("next_attempt_at", "<=", now)
            .select((sub) => sub.fn.countAll<number | string>().as("n"))
            .$asScalar(),
        ).as("queued"),
        db.selectFrom("transmissions").select("created_at").where("id", "=", firstQueued).as("queued_oldest"),
        perRank<number | string | null>("min", (queued) =>
          queued
            .where("next_attempt_at", ">", 0)
            .where("next_attempt_at", "<=", now)
            .select((sub) => sub.fn.min<number | string | null>("next_attempt_at").as("at"))
            .$asScalar(),
        ).as("retry_oldest"),
        lapsed()
          .select((sub) => sub.fn.countAll<number | string>().as("n"))
          .as("lapsed"),
        lapsed()
          .select((sub) => sub.fn.min<number | string | null>("claimed_until").as("at"))
          .as("lapsed_oldest"),
      ])
      .executeTakeFirstOrThrow();
    const dueSince = [row.queued_oldest ? Date.parse(row.queued_oldest) : null, row.retry_oldest, row.lapsed_oldest]
      .filter((at) => at !== null && at !== undefined)
      .map(Number);
    return {
      inboundQueued: Number(row.inbound ?? 0),
      inboundOldestSeconds: row.inbound_oldest ? seconds(now - Date.parse(row.inbound_oldest)) : 0,
      transmissionsDue: Number(row.queued ?? 0) + Number(row.lapsed ?? 0),
      oldestDueSeconds: dueSince.length > 0 ? seconds(now - Math.min(...dueSince)) : 0,
    };
  }
}
