import { writeSession } from "./sessions.ts";
import type { Transaction } from "kysely";
import { storableNote } from "../../messages/limits.ts";
import type { Database } from "../schema.ts";
import type { AcceptResult, Claim, ClaimedIncoming, ClaimedTransmission, IncomingRecordInit, InboundStore, OutgoingRecordInit, SessionStep } from "../store.ts";
import { insertOutgoing } from "./outbound.ts";
import { gatewayId, isoNow, newMessage, newTransmission, recipients, type StoreContext } from "./rows.ts";

/** Accepted inbound messages: dedupe, claims, completion and failure. */
export class Inbound implements InboundStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  acceptIncoming(args: { message: IncomingRecordInit; dedupeWindowMs: number; now?: number; claim?: Claim }): Promise<AcceptResult> {
    return this.ctx.dialect.write((trx) => this.acceptOne(trx, args));
  }

  private async acceptOne(
    trx: Transaction<Database>,
    { message, dedupeWindowMs, now, claim }: { message: IncomingRecordInit; dedupeWindowMs: number; now?: number; claim?: Claim },
  ): Promise<AcceptResult> {
    const { hot } = this.ctx;
    const at = now ?? Date.now();
    const stamp = new Date(at).toISOString();
    const externalId = gatewayId(message.fields.externalId);
    const backend = message.connection.backend;
    if (externalId !== null) {
      // One statement, so that two processes racing with the same gateway id cannot both win.
      const taken = await hot.claimGatewayId.run(trx, { backend, externalId, messageId: message.id, at, windowStart: at - dedupeWindowMs });
      if (taken.rows.length === 0) {
        const seen = await trx
          .selectFrom("inbound_dedupe")
          .select("message_id")
          .where("backend", "=", backend)
          .where("external_id", "=", externalId)
          .executeTakeFirstOrThrow();
        return { id: seen.message_id, duplicate: true };
      }
    }
    const held = claim ? { claimed_by: claim.token, claimed_until: claim.until, attempts: 1 } : {};
    await hot.insertMessage.run(
      trx,
      newMessage({ id: message.id, direction: "I", status: "Q", text: message.text, fields: message.fields, external_id: externalId, ...held }, stamp),
    );
    await hot.insertTransmission.run(trx, newTransmission(message.id, message.connection.id, "I", stamp));
    return { id: message.id, duplicate: false };
  }

  claimIncoming({
    claim,
    limit,
    maxAttempts,
    now = Date.now(),
    only,
  }: {
    claim: Claim;
    limit: number;
    maxAttempts: number;
    now?: number;
    only?: string;
  }): Promise<ClaimedIncoming[]> {
    const { dialect } = this.ctx;
    return dialect.write(async (trx) => {
      const query = recipients(trx)
        .select([
          "messages.id",
          "messages.text",
          "messages.fields",
          "messages.attempts",
          "messages.error",
          "connections.id as connection_id",
          "connections.identity",
          "connections.contact_id",
          "backends.name as backend",
        ])
        .where("messages.direction", "=", "I")
        .where("messages.status", "=", "Q")
        .where("messages.next_attempt_at", "<=", now)
        .where((eb) => eb.or([eb("messages.claimed_until", "is", null), eb("messages.claimed_until", "<", now)]))
        .$if(only !== undefined, (q) => q.where("messages.id", "=", only!))
        .orderBy("messages.created_at")
        .orderBy("messages.id")
        .limit(limit);
      const rows = await dialect.lockForClaim(query, "messages").execute();
      if (rows.length === 0) return [];
      // Tried as often as allowed (each claim is a try, a process that died with it included): give up.
      const spent = rows.filter((r) => r.attempts >= maxAttempts);
      const stamp = new Date(now).toISOString();
      for (const row of spent) {
        const error = `processing failed ${row.attempts} times; the last: ${row.error ?? "the worker stopped before it finished"}`;
        await this.finish(trx, row.id, error, stamp);
      }
      const taken = rows.filter((r) => r.attempts < maxAttempts);
      if (taken.length === 0) return [];
      await trx
        .updateTable("messages")
        .set((eb) => ({ claimed_by: claim.token, claimed_until: claim.until, attempts: eb("attempts", "+", 1) }))
        .where(
          "id",
          "in",
          taken.map((r) => r.id),
        )
        .execute();
      return taken.map((r) => ({
        id: r.id,
        text: r.text,
        fields: JSON.parse(r.fields),
        connection: { id: r.connection_id, backend: r.backend, identity: r.identity, contactId: r.contact_id },
        token: claim.token,
        attempt: r.attempts + 1,
      }));
    });
  }

  completeIncoming({
    id,
    token,
    replies,
    claimReplies,
    session,
    handledBy = null,
  }: {
    id: string;
    token: string;
    replies: readonly OutgoingRecordInit[];
    claimReplies?: Claim;
    session?: SessionStep;
    handledBy?: string | null;
  }): Promise<{ applied: boolean; claimed: ClaimedTransmission[] }> {
    const { hot, dialect } = this.ctx;
    const stamp = isoNow();
    return dialect.write(async (trx) => {
      const updated = await hot.completeIncoming.run(trx, { id, token, stamp, handledBy });
      // The claim was lost (its lease ran out and another worker took the message): keep theirs.
      if (Number(updated.numAffectedRows ?? 0) === 0) return { applied: false, claimed: [] };
      await hot.setTransmissionsOf.run(trx, { messageId: id, status: "R", error: null, stamp });
      const claimed: ClaimedTransmission[] = [];
      for (const reply of replies) claimed.push(...(await insertOutgoing(trx, this.ctx, reply, stamp, claimReplies)));
      if (session) await writeSession(trx, session);
      return { applied: true, claimed };
    });
  }

  failIncoming({ id, token, error: given, nextAttemptAt }: { id: string; token: string; error: string; nextAttemptAt: number | null }): Promise<boolean> {
    const error = storableNote(given);
    return this.ctx.dialect.write(async (trx) => {
      const held = await trx
        .selectFrom("messages")
        .select("id")
        .where("id", "=", id)
        .where("claimed_by", "=", token)
        .where("status", "=", "Q")
        .executeTakeFirst();
      if (!held) return false;
      if (nextAttemptAt === null) {
        await this.finish(trx, id, error, isoNow());
      } else {
        await trx
          .updateTable("messages")
          .set({ error, next_attempt_at: nextAttemptAt, claimed_by: null, claimed_until: null, updated_at: isoNow() })
          .where("id", "=", id)
          .execute();
      }
      return true;
    });
  }

  /** Gives up on a message: E with the reason, on it and its transmission. */
  private async finish(trx: Transaction<Database>, id: string, error: string, stamp: string): Promise<void> {
    await trx.updateTable("messages").set({ status: "E", error, claimed_by: null, claimed_until: null, updated_at: stamp }).where("id", "=", id).execute();
    await this.ctx.hot.setTransmissionsOf.run(trx, { messageId: id, status: "E", error, stamp });
  }
}
