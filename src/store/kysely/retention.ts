import type { RetentionStore } from "../store.ts";
import type { StoreContext } from "./rows.ts";

/**
 * Purges what a service no longer needs to keep: finished messages (inbound processed or failed
 * with no reply still to send; outbound with every transmission final) older than a cutoff, with
 * their transmissions, attempts, reports and part ids (the foreign keys cascade), and the
 * database backend's rows of that age. A batch is one short transaction, so the store's one
 * writer (SQLite) is never held for long.
 */
export class Retention implements RetentionStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async purgeFinished({ olderThan, limit }: { olderThan: number; limit: number }): Promise<{ messages: number; backendMessages: number }> {
    const cutoff = new Date(olderThan).toISOString();
    return this.ctx.dialect.write(async (trx) => {
      const finished = trx
        .selectFrom("messages as m")
        .select("m.id")
        .where("m.created_at", "<", cutoff)
        .where("m.updated_at", "<", cutoff)
        .where((eb) =>
          eb.or([
            eb.and([
              eb("m.direction", "=", "I"),
              eb("m.status", "in", ["R", "E"]),
              // A reply still to be sent keeps its message: its log says what it answers.
              eb.not(
                eb.exists(
                  eb
                    .selectFrom("messages as r")
                    .innerJoin("transmissions as rt", "rt.message_id", "r.id")
                    .select("rt.id")
                    .whereRef("r.in_response_to", "=", "m.id")
                    .where("rt.status", "in", ["Q", "P"]),
                ),
              ),
            ]),
            eb.and([
              eb("m.direction", "=", "O"),
              eb("m.status", "in", ["S", "D", "E"]),
              // E when one recipient failed, while others may still be waiting to be sent.
              eb.not(eb.exists(eb.selectFrom("transmissions as t").select("t.id").whereRef("t.message_id", "=", "m.id").where("t.status", "in", ["Q", "P"]))),
            ]),
          ]),
        )
        // A forward to another app, or a status event, still to be POSTed keeps its message.
        .where((eb) =>
          eb.not(eb.exists(eb.selectFrom("webhook_deliveries as w").select("w.id").whereRef("w.message_id", "=", "m.id").where("w.status", "in", ["Q", "P"]))),
        )
        .orderBy("m.created_at")
        .limit(limit);
      const messages = await trx.deleteFrom("messages").where("id", "in", finished).executeTakeFirst();
      const oldRows = trx.selectFrom("backend_messages").select("id").where("date", "<", cutoff).orderBy("date").limit(limit);
      const backendMessages = await trx.deleteFrom("backend_messages").where("id", "in", oldRows).executeTakeFirst();
      return { messages: Number(messages.numDeletedRows), backendMessages: Number(backendMessages.numDeletedRows) };
    });
  }
}
