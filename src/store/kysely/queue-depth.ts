import type { MetricsStore, QueueDepth } from "../store.ts";
import type { StoreContext } from "./rows.ts";

const seconds = (ms: number) => Math.max(0, ms) / 1_000;

/**
 * The backlog for /metrics in one statement of scalar subqueries, each a seek or a range on the
 * queues' indexes (messages_queue: direction, status, created_at; transmissions_queue: direction,
 * status, …): counting a backlog reads its index entries, never the tables' history.
 */
export class QueueDepths implements MetricsStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async queueDepth({ now = Date.now() }: { now?: number } = {}): Promise<QueueDepth> {
    const { db } = this.ctx;
    const inbound = () => db.selectFrom("messages").where("direction", "=", "I").where("status", "=", "Q");
    const queued = () => db.selectFrom("transmissions").where("direction", "=", "O").where("status", "=", "Q");
    const lapsed = () => db.selectFrom("transmissions").where("direction", "=", "O").where("status", "=", "P").where("claimed_until", "<", now);
    // A transmission never tried has no due time (0): it has waited since it was queued, and the
    // first of them has the lowest id, which the index holds.
    const firstQueued = queued()
      .where("next_attempt_at", "=", 0)
      .select((sub) => sub.fn.min<number>("id").as("id"));
    const row = await db
      .selectNoFrom(() => [
        inbound()
          .select((sub) => sub.fn.countAll<number | string>().as("n"))
          .as("inbound"),
        inbound()
          .select((sub) => sub.fn.min<string | null>("created_at").as("at"))
          .as("inbound_oldest"),
        queued()
          .where("next_attempt_at", "<=", now)
          .select((sub) => sub.fn.countAll<number | string>().as("n"))
          .as("queued"),
        db.selectFrom("transmissions").select("created_at").where("id", "=", firstQueued).as("queued_oldest"),
        queued()
          .where("next_attempt_at", ">", 0)
          .where("next_attempt_at", "<=", now)
          .select((sub) => sub.fn.min<number | string | null>("next_attempt_at").as("at"))
          .as("retry_oldest"),
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
