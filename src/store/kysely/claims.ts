import { CANCELLED } from "../../messages/status.ts";
import type { ClaimStore } from "../store.ts";
import { isoNow, refreshMessageStatus, slices, type StoreContext } from "./rows.ts";

/** Leases by claim token: each statement walks the claimed_by index (claims are few; history is not scanned). */
export class Claims implements ClaimStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async renewClaims({ tokens, until }: { tokens: readonly string[]; until: number }): Promise<void> {
    if (tokens.length === 0) return;
    await this.ctx.dialect.write(async (trx) => {
      for (const slice of slices(tokens, 1, this.ctx.dialect)) {
        await trx.updateTable("messages").set({ claimed_until: until }).where("claimed_by", "in", slice).where("status", "=", "Q").execute();
        await trx.updateTable("transmissions").set({ claimed_until: until }).where("claimed_by", "in", slice).execute();
        await trx.updateTable("webhook_deliveries").set({ claimed_until: until }).where("claimed_by", "in", slice).where("status", "=", "P").execute();
      }
    });
  }

  async releaseClaims({ tokens }: { tokens: readonly string[] }): Promise<void> {
    if (tokens.length === 0) return;
    await this.ctx.dialect.write(async (trx) => {
      for (const slice of slices(tokens, 1, this.ctx.dialect)) {
        await trx
          .updateTable("messages")
          .set((eb) => ({ claimed_by: null, claimed_until: null, next_attempt_at: 0, attempts: eb("attempts", "-", 1) }))
          .where("claimed_by", "in", slice)
          .where("status", "=", "Q")
          .execute();
        // A send cut short whose message was cancelled meanwhile is not given back to be sent: it ends E `cancelled`.
        const cancelled = await trx
          .selectFrom("transmissions")
          .innerJoin("messages", "messages.id", "transmissions.message_id")
          .select(["transmissions.id", "transmissions.message_id"])
          .where("transmissions.claimed_by", "in", slice)
          .where("transmissions.status", "=", "P")
          .where("messages.cancelled_at", "is not", null)
          .execute();
        if (cancelled.length > 0) {
          const stamp = isoNow();
          await trx
            .updateTable("transmissions")
            .set({ status: "E", error: CANCELLED, claimed_by: null, claimed_until: null, updated_at: stamp })
            .where(
              "id",
              "in",
              cancelled.map((t) => t.id),
            )
            .execute();
          for (const [messageId, rows] of Map.groupBy(cancelled, (t) => t.message_id))
            await refreshMessageStatus(
              trx,
              this.ctx,
              messageId,
              stamp,
              rows.map((t) => t.id),
            );
        }
        await trx
          .updateTable("transmissions")
          .set((eb) => ({ status: "Q", claimed_by: null, claimed_until: null, next_attempt_at: 0, attempts: eb("attempts", "-", 1) }))
          .where("claimed_by", "in", slice)
          .where("status", "=", "P")
          .execute();
        // Moved on by a delivery report while its send was under way: nothing to give back but the claim.
        await trx.updateTable("transmissions").set({ claimed_by: null, claimed_until: null }).where("claimed_by", "in", slice).execute();
        await trx
          .updateTable("webhook_deliveries")
          .set((eb) => ({ status: "Q", claimed_by: null, claimed_until: null, next_attempt_at: 0, attempts: eb("attempts", "-", 1) }))
          .where("claimed_by", "in", slice)
          .where("status", "=", "P")
          .execute();
      }
    });
  }
}
