import type { ExpressionBuilder } from "kysely";
import type { Database } from "../schema.ts";
import type { PurgeCursor, PurgeResult, RetentionStore } from "../store.ts";
import type { StoreContext } from "./rows.ts";

/** Before every message: where a purge that must come back to the same message starts again. */
const PURGE_START: PurgeCursor = { createdAt: "", id: "" };

type Messages = ExpressionBuilder<Database & { m: Database["messages"] }, "m">;

/** A finished message (see RetentionStore.purgeFinished), as a condition on `messages as m`. */
function finished(eb: Messages) {
  return eb.and([
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
    // A forward to another app, or a status event, still to be POSTed keeps its message.
    eb.not(eb.exists(eb.selectFrom("webhook_deliveries as w").select("w.id").whereRef("w.message_id", "=", "m.id").where("w.status", "in", ["Q", "P"]))),
  ]);
}

/**
 * Purges what a service no longer needs to keep: finished messages older than a cutoff, with
 * their transmissions, attempts, reports, part ids and webhook deliveries (the foreign keys
 * cascade), and the database backend's rows of that age. Each call is one short transaction that
 * deletes a bounded number of rows, so the store's one writer (SQLite) is never held for long.
 */
export class Retention implements RetentionStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  purgeFinished({
    olderThan,
    limit,
    maxTransmissions = 2_000,
    after,
  }: {
    olderThan: number;
    limit: number;
    maxTransmissions?: number;
    after?: PurgeCursor | null;
  }): Promise<PurgeResult> {
    const cutoff = new Date(olderThan).toISOString();
    return this.ctx.dialect.write(async (trx) => {
      const candidates = await trx
        .selectFrom("messages as m")
        .select([
          "m.id",
          "m.created_at",
          (eb) => eb.selectFrom("transmissions as c").select(eb.fn.countAll<number>().as("n")).whereRef("c.message_id", "=", "m.id").as("recipients"),
        ])
        .where("m.created_at", "<", cutoff)
        .where("m.updated_at", "<", cutoff)
        .$if(!!after, (q) =>
          q.where((eb) => eb.or([eb("m.created_at", ">", after!.createdAt), eb.and([eb("m.created_at", "=", after!.createdAt), eb("m.id", ">", after!.id)])])),
        )
        .where(finished)
        .orderBy("m.created_at")
        .orderBy("m.id")
        .limit(limit)
        .execute();
      // As many whole messages as fit the budget of transmissions (each with its attempts and reports).
      const ids: string[] = [];
      let transmissions = 0;
      for (const c of candidates) {
        const n = Number(c.recipients ?? 0);
        if (ids.length > 0 && transmissions + n > maxTransmissions) break;
        if (n > maxTransmissions) {
          // One bulk message bigger than the budget: its transmissions go a slice at a time, the message with the last slice.
          const slice = trx.selectFrom("transmissions").select("id").where("message_id", "=", c.id).orderBy("id").limit(maxTransmissions);
          const deleted = await trx.deleteFrom("transmissions").where("id", "in", slice).executeTakeFirst();
          return { messages: 0, transmissions: Number(deleted.numDeletedRows), backendMessages: 0, next: after ?? PURGE_START };
        }
        ids.push(c.id);
        transmissions += n;
      }
      let messages = 0;
      if (ids.length > 0) messages = Number((await trx.deleteFrom("messages").where("id", "in", ids).executeTakeFirst()).numDeletedRows);
      const oldRows = trx.selectFrom("backend_messages").select("id").where("date", "<", cutoff).orderBy("date").limit(limit);
      const backendMessages = Number((await trx.deleteFrom("backend_messages").where("id", "in", oldRows).executeTakeFirst()).numDeletedRows);
      const last = candidates.find((c) => c.id === ids.at(-1));
      const more = candidates.length === limit || ids.length < candidates.length;
      return { messages, transmissions, backendMessages, next: more && last ? { createdAt: last.created_at, id: last.id } : null };
    });
  }
}
