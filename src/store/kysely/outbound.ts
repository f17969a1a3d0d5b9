import { sql, type Transaction } from "kysely";
import { storableNote, unfitExternalId } from "../../messages/limits.ts";
import type { Status } from "../../messages/status.ts";
import type { Database } from "../schema.ts";
import type {
  Claim,
  ClaimedTransmission,
  OutboundStore,
  OutgoingRecordInit,
  OutgoingWork,
  RecordedAttempts,
  SendOutcome,
  TransmissionChange,
} from "../store.ts";
import { applyKeptReports } from "./delivery.ts";
import { queueStatusEvents } from "./webhook-events.ts";
import { isDue, isoNow, newMessage, newTransmission, recipients, refreshMessageStatus, slices, type StoreContext } from "./rows.ts";

/** A transmission row binds this many values. */
const TRANSMISSION_VALUES = 16;

/**
 * Whether a transmission's recipient is opted out: `optedOutBy` is the id of the message that
 * opted them out ("" for none), or null when they are not. The reply to that very message (the
 * confirmation of their STOP) still goes.
 */
function isOptedOut(optedOutBy: string | null, inResponseTo: string | null): boolean {
  return optedOutBy !== null && (optedOutBy === "" || optedOutBy !== inResponseTo);
}

/** Records an outbound message; with `claim`, its transmissions are claimed at once and returned. */
export async function insertOutgoing(
  trx: Transaction<Database>,
  ctx: StoreContext,
  init: OutgoingRecordInit,
  stamp: string,
  claim?: Claim,
): Promise<ClaimedTransmission[]> {
  await ctx.hot.insertMessage.run(
    trx,
    newMessage(
      {
        id: init.id,
        direction: "O",
        status: "P",
        text: init.text,
        fields: init.fields,
        in_response_to: init.inResponseTo,
        context: init.context,
        priority: init.priority,
        next_attempt_at: init.notBefore,
        event_url: init.eventUrl ?? null,
      },
      stamp,
    ),
  );
  const claimed = await insertTransmissions(trx, ctx, init, stamp, claim);
  if (init.eventUrl)
    await queueStatusEvents(trx, { messageId: init.id, url: init.eventUrl, transmissionIds: "all", stamp, maxParameters: ctx.dialect.maxParameters });
  return claimed;
}

async function insertTransmissions(
  trx: Transaction<Database>,
  { hot, dialect }: StoreContext,
  init: OutgoingRecordInit,
  stamp: string,
  claim?: Claim,
): Promise<ClaimedTransmission[]> {
  const transmissions = init.connections.map((c) => newTransmission(init.id, c.id, "O", stamp, init.priority, init.notBefore));
  if (claim) {
    const claimed: ClaimedTransmission[] = [];
    for (const [i, transmission] of transmissions.entries()) {
      const row = { ...transmission, status: "P" as const, attempts: 1, claimed_by: claim.token, claimed_until: claim.until };
      const [{ id, opted_out_by }] = (await hot.insertClaimedTransmission.run(trx, row)).rows;
      const { backend, identity } = init.connections[i];
      const optedOut = isOptedOut(opted_out_by, init.inResponseTo);
      claimed.push({
        id,
        messageId: init.id,
        text: init.text,
        context: init.context,
        backend,
        identity,
        token: claim.token,
        attempt: 1,
        ...(optedOut && { optedOut }),
      });
    }
    return claimed;
  }
  if (transmissions.length === 1) await hot.insertTransmission.run(trx, transmissions[0]);
  else for (const slice of slices(transmissions, TRANSMISSION_VALUES, dialect)) await trx.insertInto("transmissions").values(slice).execute();
  return [];
}

/** Outbound messages, their transmissions, claims, attempts and pacing. */
export class Outbound implements OutboundStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async enqueueOutgoing({ message }: { message: OutgoingRecordInit }): Promise<void> {
    const stamp = isoNow();
    await this.ctx.dialect.write((trx) => insertOutgoing(trx, this.ctx, message, stamp));
  }

  claimTransmissions({
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
    only?: OutgoingWork;
  }): Promise<ClaimedTransmission[]> {
    const { dialect } = this.ctx;
    return dialect.write(async (trx) => {
      const claimable = (status: "P" | "Q", max: number) =>
        dialect
          .lockForClaim(
            recipients(trx)
              .leftJoin("opt_outs", "opt_outs.connection_id", "transmissions.connection_id")
              .select([
                "transmissions.id",
                "transmissions.message_id",
                "transmissions.attempts",
                "messages.text",
                "messages.context",
                "backends.name as backend",
                "connections.identity",
                "messages.in_response_to",
                (eb) => eb.fn.coalesce("opt_outs.message_id", sql.lit("")).as("opted_out_by"),
                "opt_outs.connection_id as opted_out",
              ])
              .where("transmissions.direction", "=", "O")
              .where("transmissions.status", "=", status)
              .$if(status === "Q", (q) => q.where("transmissions.next_attempt_at", "<=", now))
              .$if(status === "P", (q) => q.where("transmissions.claimed_until", "<", now))
              .$if(only !== undefined, (q) => q.where("transmissions.message_id", "=", only!.messageId).where("backends.name", "=", only!.backend))
              .orderBy("transmissions.rank")
              .orderBy("transmissions.next_attempt_at")
              .orderBy("transmissions.id")
              .limit(max),
            "transmissions",
          )
          .execute();
      // Work whose claimer died first (rare), then the queue in order, each walking its index.
      const expired = await claimable("P", limit);
      // Claimed as often as allowed, and each claim ran out (its worker died or hung): give up, as
      // with sends that failed, rather than send it again every lease for ever.
      const spent = expired.filter((r) => r.attempts >= maxAttempts);
      if (spent.length > 0) await this.giveUp(trx, spent, now);
      const retaken = expired.filter((r) => r.attempts < maxAttempts);
      const rows = retaken.length < limit ? [...retaken, ...(await claimable("Q", limit - retaken.length))] : retaken;
      if (rows.length === 0) return [];
      for (const slice of slices(rows, 1, dialect)) {
        await trx
          .updateTable("transmissions")
          .set((eb) => ({ status: "P", claimed_by: claim.token, claimed_until: claim.until, attempts: eb("attempts", "+", 1) }))
          .where(
            "id",
            "in",
            slice.map((r) => r.id),
          )
          .execute();
      }
      return rows.map((r) => ({
        id: r.id,
        messageId: r.message_id,
        text: r.text,
        context: JSON.parse(r.context),
        backend: r.backend,
        identity: r.identity,
        token: claim.token,
        attempt: r.attempts + 1,
        ...(isOptedOut(r.opted_out === null ? null : r.opted_out_by, r.in_response_to) && { optedOut: true }),
      }));
    });
  }

  private async giveUp(trx: Transaction<Database>, spent: readonly { id: number; message_id: string; attempts: number }[], now: number): Promise<void> {
    const stamp = new Date(now).toISOString();
    for (const row of spent) {
      await trx
        .updateTable("transmissions")
        .set({
          status: "E",
          claimed_by: null,
          claimed_until: null,
          updated_at: stamp,
          error: `gave up after ${row.attempts} attempts: the last claim ran out before its send was recorded (the worker died or hung)`,
        })
        .where("id", "=", row.id)
        .execute();
    }
    const ids = spent.map((r) => r.id);
    for (const messageId of new Set(spent.map((r) => r.message_id))) await refreshMessageStatus(trx, this.ctx, messageId, stamp, ids);
  }

  async dueTransmissions({ work, now = Date.now() }: { work: OutgoingWork; now?: number }): Promise<number> {
    const row = await recipients(this.ctx.db)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("transmissions.message_id", "=", work.messageId)
      .where("backends.name", "=", work.backend)
      .where((eb) => isDue(eb, now))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async staleOutgoing({ graceMs, limit, now = Date.now() }: { graceMs: number; limit: number; now?: number }): Promise<OutgoingWork[]> {
    const rows = await recipients(this.ctx.db)
      .select(["transmissions.message_id", "backends.name as backend", "messages.priority"])
      .distinct()
      .where("messages.direction", "=", "O")
      .where((eb) => isDue(eb, now, now - graceMs))
      .where((eb) => eb.or([eb("transmissions.status", "=", "P"), eb("transmissions.updated_at", "<=", new Date(now - graceMs).toISOString())]))
      .limit(limit)
      .execute();
    return rows.map((r) => ({ messageId: r.message_id, backend: r.backend, priority: r.priority }));
  }

  async recordAttempts({ outcomes: given }: { outcomes: readonly SendOutcome[] }): Promise<RecordedAttempts> {
    if (given.length === 0) return { statuses: new Map(), fenced: [], keptReports: [] };
    // A gateway's answer and an error are whatever the gateway sent: mended, never a failed write
    // (which would leave the send to be made again at every lease).
    const outcomes = given.map((o) => ({
      ...o,
      error: storableNote(o.error),
      answer: storableNote(o.answer),
      externalId: o.externalId && unfitExternalId(o.externalId) === undefined ? o.externalId : null,
      partIds: o.partIds?.every((id) => unfitExternalId(id) === undefined) ? o.partIds : null,
    }));
    const { hot, dialect } = this.ctx;
    const stamp = isoNow();
    return dialect.write(async (trx) => {
      // Before the answers' gateway ids are written: a report for one of them waits, or is kept before this looks.
      await dialect.lockGatewayIds(
        trx,
        outcomes.flatMap((o) => (o.status === "S" && o.externalId ? [o.externalId, ...(o.partIds?.slice(1) ?? [])] : [])),
      );
      const applied: SendOutcome[] = [];
      const fenced: number[] = [];
      for (const o of outcomes) {
        const result = await hot.recordAttempt.run(trx, {
          id: o.transmissionId,
          token: o.token,
          status: o.status,
          error: o.status === "S" ? null : (o.error ?? null),
          nextAttemptAt: o.status === "Q" ? (o.nextAttemptAt ?? 0) : 0,
          stamp,
          sentAt: o.status === "S" ? stamp : null,
          externalId: o.externalId || null,
          segments: o.segments || null,
        });
        if (Number(result.numAffectedRows ?? 0) === 0) fenced.push(o.transmissionId);
        else applied.push(o);
      }
      const attempts = applied.map((o) => ({
        transmission_id: o.transmissionId,
        attempt: o.attempt,
        at: stamp,
        outcome: o.status === "Q" ? ("retry" as const) : o.status,
        duration_ms: Math.round(o.durationMs),
        error: o.error ?? null,
        answer: o.answer ?? null,
      }));
      // A message sent in parts whose receipts come per part: each part's id, for them (a send made again replaces them).
      const parted = applied.filter((o) => o.status === "S" && o.partIds && o.partIds.length > 1);
      for (const o of parted) {
        await trx.deleteFrom("transmission_parts").where("transmission_id", "=", o.transmissionId).execute();
        await trx
          .insertInto("transmission_parts")
          .values(o.partIds!.map((externalId, i) => ({ transmission_id: o.transmissionId, part_number: i + 1, external_id: externalId, status: null })))
          .execute();
      }
      if (attempts.length === 1) await hot.insertAttempt.run(trx, attempts[0]);
      else for (const slice of slices(attempts, 7, dialect)) await trx.insertInto("attempts").values(slice).execute();
      const statuses = new Map<string, Status>();
      const changed = applied.map((o) => o.transmissionId);
      for (const messageId of await this.messagesOf(trx, applied))
        statuses.set(messageId, await refreshMessageStatus(trx, this.ctx, messageId, stamp, changed));
      // Reports that overtook these answers were kept until the answers brought their gateway ids.
      const answered = applied
        .filter((o) => o.status === "S" && o.externalId)
        .flatMap((o): { transmissionId: number; externalId: string; partNumber?: number }[] =>
          o.partIds && o.partIds.length > 1
            ? o.partIds.map((externalId, i) => ({ transmissionId: o.transmissionId, externalId, partNumber: i + 1 }))
            : [{ transmissionId: o.transmissionId, externalId: o.externalId! }],
        );
      const keptReports: TransmissionChange[] = [];
      if (answered.length > 0 && (await trx.selectFrom("pending_reports").select("id").limit(1).executeTakeFirst())) {
        keptReports.push(...(await applyKeptReports(trx, this.ctx, answered, stamp)));
        for (const messageId of await this.messagesOf(trx, applied))
          statuses.set(messageId, (await trx.selectFrom("messages").select("status").where("id", "=", messageId).executeTakeFirstOrThrow()).status);
      }
      return { statuses, fenced, keptReports };
    });
  }

  /** The messages of the outcomes' transmissions, each once: as the outcomes give them, or from the store. */
  private async messagesOf(trx: Transaction<Database>, outcomes: readonly SendOutcome[]): Promise<string[]> {
    if (outcomes.every((o) => o.messageId !== undefined)) return [...new Set(outcomes.map((o) => o.messageId!))];
    const ids = new Set<string>();
    for (const slice of slices(outcomes, 1, this.ctx.dialect)) {
      const rows =
        slice.length === 1
          ? (await this.ctx.hot.messageOfTransmission.run(trx, { id: slice[0].transmissionId })).rows
          : await trx
              .selectFrom("transmissions")
              .select("message_id")
              .distinct()
              .where(
                "id",
                "in",
                slice.map((o) => o.transmissionId),
              )
              .execute();
      for (const row of rows) ids.add(row.message_id);
    }
    return [...ids];
  }

  async reserveSendSlot({ backend, intervalMs, now = Date.now() }: { backend: string; intervalMs: number; now?: number }): Promise<number> {
    const later = sql<number>`${sql.raw(this.ctx.dialect.greatest)}(${sql.ref("send_pacing.next_at")}, ${now})`;
    const row = await this.ctx.db
      .insertInto("send_pacing")
      .values({ backend, next_at: now + intervalMs })
      .onConflict((oc) => oc.column("backend").doUpdateSet({ next_at: sql<number>`${later} + ${intervalMs}` }))
      .returning("next_at")
      .executeTakeFirstOrThrow();
    return Number(row.next_at) - intervalMs;
  }
}
