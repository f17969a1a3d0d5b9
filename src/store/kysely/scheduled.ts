import type { Transaction } from "kysely";
import { CANCELLED, type Status } from "../../messages/status.ts";
import type { Database } from "../schema.ts";
import type { CancelResult, ScheduledStore } from "../store.ts";
import { recipients, refreshMessageStatus, slices, type StoreContext } from "./rows.ts";

/** Scheduled sends: cancelling what is still queued, and what is being sent from being tried again. */
export class Scheduled implements ScheduledStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  cancelOutgoing({ id, now = Date.now() }: { id: string; now?: number }): Promise<CancelResult | "inbound" | undefined> {
    const { dialect } = this.ctx;
    const stamp = new Date(now).toISOString();
    return dialect.write(async (trx) => {
      const message = await trx.selectFrom("messages").select("direction").where("id", "=", id).executeTakeFirst();
      if (!message) return undefined;
      if (message.direction !== "O") return "inbound";
      // Marked first, holding the message's row: a send under way now whose attempt fails is not
      // tried again (recordAttempts reads the mark under that lock, so a retry it records either
      // sees the mark or committed before, and is cancelled below), nor one whose claim runs out.
      await trx
        .updateTable("messages")
        .set((eb) => ({ cancelled_at: eb.fn.coalesce("cancelled_at", eb.val(stamp)) }))
        .where("id", "=", id)
        .execute();
      // One statement decides which are cancelled: a sender's claim (Q to P) that commits first
      // keeps its transmissions, and one that comes after finds them E.
      const cancelled = await trx
        .updateTable("transmissions")
        .set({ status: "E", error: CANCELLED, claimed_by: null, claimed_until: null, updated_at: stamp })
        .where("message_id", "=", id)
        .where("status", "=", "Q")
        .returning("id")
        .execute();
      const changes: CancelResult["changes"] = [];
      for (const slice of slices(cancelled, 1, dialect)) {
        const rows = await recipients(trx)
          .select(["transmissions.id", "connections.identity", "backends.name as backend"])
          .where(
            "transmissions.id",
            "in",
            slice.map((r) => r.id),
          )
          .orderBy("transmissions.id")
          .execute();
        for (const row of rows)
          changes.push({ transmissionId: row.id, messageId: id, identity: row.identity, backend: row.backend, status: "E", error: CANCELLED });
      }
      const status =
        cancelled.length > 0
          ? await refreshMessageStatus(
              trx,
              this.ctx,
              id,
              stamp,
              cancelled.map((r) => r.id),
            )
          : await this.statusOf(trx, id);
      const counts = await trx
        .selectFrom("transmissions")
        .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
        .where("message_id", "=", id)
        .groupBy("status")
        .execute();
      const count = (...statuses: Status[]) => counts.filter((c) => statuses.includes(c.status)).reduce((n, c) => n + Number(c.n), 0);
      return {
        cancelled: cancelled.length,
        sending: count("P"),
        sent: count("S", "D"),
        failed: count("E") - cancelled.length,
        status,
        changes,
      };
    });
  }

  private async statusOf(trx: Transaction<Database>, id: string): Promise<Status> {
    return (await trx.selectFrom("messages").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;
  }
}
