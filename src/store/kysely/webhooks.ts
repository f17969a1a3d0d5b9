import type { Transaction } from "kysely";
import { storableNote } from "../../messages/limits.ts";
import type { Database } from "../schema.ts";
import type { Claim, ClaimedWebhook, OutgoingWork, WebhookOutcome, WebhookRecord, WebhookStore } from "../store.ts";
import { insertOutgoing } from "./outbound.ts";
import { isoNow, type StoreContext } from "./rows.ts";
import { dedupeKey } from "./webhook-events.ts";

/** The webhook outbox: queued, claimed under leases (fenced by token), retried, finished. */
export class Webhooks implements WebhookStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async queueWebhook({ messageId, url, body, now = Date.now() }: { messageId: string; url: string; body: string; now?: number }) {
    const stamp = new Date(now).toISOString();
    const key = dedupeKey("message", messageId, url);
    return this.ctx.dialect.write(async (trx) => {
      const inserted = await trx
        .insertInto("webhook_deliveries")
        .values({
          kind: "message",
          dedupe_key: key,
          message_id: messageId,
          transmission_id: null,
          url,
          body,
          status: "Q",
          attempts: 0,
          next_attempt_at: 0,
          created_at: stamp,
          updated_at: stamp,
        })
        .onConflict((oc) => oc.column("dedupe_key").doNothing())
        .returning("id")
        .executeTakeFirst();
      if (inserted) return { id: inserted.id, duplicate: false };
      const row = await trx.selectFrom("webhook_deliveries").select("id").where("dedupe_key", "=", key).executeTakeFirstOrThrow();
      return { id: row.id, duplicate: true };
    });
  }

  claimWebhooks({
    claim,
    limit,
    maxAttempts,
    kind,
    now = Date.now(),
  }: {
    claim: Claim;
    limit: number;
    maxAttempts: number;
    kind?: ClaimedWebhook["kind"];
    now?: number;
  }): Promise<ClaimedWebhook[]> {
    const { dialect } = this.ctx;
    return dialect.write(async (trx) => {
      const columns = ["id", "kind", "message_id", "url", "body", "attempts"] as const;
      // Claimed by a worker whose lease ran out (it died or hung): taken again, or given up when it had its tries.
      const expired = await dialect
        .lockForClaim(
          trx
            .selectFrom("webhook_deliveries")
            .select(columns)
            .where("status", "=", "P")
            .where("claimed_until", "<", now)
            .$if(kind !== undefined, (q) => q.where("kind", "=", kind as ClaimedWebhook["kind"]))
            .orderBy("id")
            .limit(limit),
          "webhook_deliveries",
        )
        .execute();
      const spent = expired.filter((r) => r.attempts >= maxAttempts);
      if (spent.length > 0) await this.giveUp(trx, spent, now);
      const retaken = expired.filter((r) => r.attempts < maxAttempts);
      const queued =
        retaken.length < limit
          ? await dialect
              .lockForClaim(
                trx
                  .selectFrom("webhook_deliveries")
                  .select(columns)
                  .where("status", "=", "Q")
                  .where("next_attempt_at", "<=", now)
                  .$if(kind !== undefined, (q) => q.where("kind", "=", kind as ClaimedWebhook["kind"]))
                  // A transmission's status events go in the order of its changes: each waits for those before it.
                  .where(({ not, exists, selectFrom }) =>
                    not(
                      exists(
                        selectFrom("webhook_deliveries as earlier")
                          .select("earlier.id")
                          .whereRef("earlier.transmission_id", "=", "webhook_deliveries.transmission_id")
                          .whereRef("earlier.id", "<", "webhook_deliveries.id")
                          .where("earlier.status", "in", ["Q", "P"]),
                      ),
                    ),
                  )
                  .orderBy("next_attempt_at")
                  .orderBy("id")
                  .limit(limit - retaken.length),
                "webhook_deliveries",
              )
              .execute()
          : [];
      const rows = [...retaken, ...queued];
      if (rows.length === 0) return [];
      await trx
        .updateTable("webhook_deliveries")
        .set((eb) => ({ status: "P", claimed_by: claim.token, claimed_until: claim.until, attempts: eb("attempts", "+", 1) }))
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        messageId: r.message_id,
        url: r.url,
        body: r.body,
        token: claim.token,
        attempt: r.attempts + 1,
      }));
    });
  }

  private async giveUp(trx: Transaction<Database>, spent: readonly { id: number; attempts: number }[], now: number): Promise<void> {
    for (const row of spent) {
      await trx
        .updateTable("webhook_deliveries")
        .set({
          status: "E",
          claimed_by: null,
          claimed_until: null,
          updated_at: new Date(now).toISOString(),
          error: `gave up after ${row.attempts} attempts: the last claim ran out before its POST was recorded (the worker died or hung)`,
        })
        .where("id", "=", row.id)
        .execute();
    }
  }

  completeWebhook(outcome: WebhookOutcome): Promise<{ applied: boolean; queued: OutgoingWork[] }> {
    const stamp = isoNow();
    return this.ctx.dialect.write(async (trx) => {
      const result = await trx
        .updateTable("webhook_deliveries")
        .set({
          status: outcome.status,
          error: storableNote(outcome.error) ?? null,
          next_attempt_at: outcome.status === "Q" ? (outcome.nextAttemptAt ?? 0) : 0,
          answer_status: outcome.answerStatus ?? null,
          answer: storableNote(outcome.answer) ?? null,
          claimed_by: null,
          claimed_until: null,
          updated_at: stamp,
        })
        .where("id", "=", outcome.id)
        .where("status", "=", "P")
        .where("claimed_by", "=", outcome.token)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return { applied: false, queued: [] };
      const queued: OutgoingWork[] = [];
      if (outcome.status === "S") {
        for (const reply of outcome.replies ?? []) {
          await insertOutgoing(trx, this.ctx, reply, stamp);
          for (const backend of new Set(reply.connections.map((c) => c.backend))) queued.push({ messageId: reply.id, backend, priority: reply.priority });
        }
      }
      return { applied: true, queued };
    });
  }

  async listWebhooks(messageId: string, limit = 100): Promise<WebhookRecord[]> {
    const newest = await this.ctx.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("message_id", "=", messageId)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return newest.reverse().map((r) => ({
      id: r.id,
      kind: r.kind,
      transmissionId: r.transmission_id,
      url: r.url,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.status === "Q" && Number(r.next_attempt_at) > 0 ? Number(r.next_attempt_at) : null,
      error: r.error,
      answerStatus: r.answer_status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }
}
