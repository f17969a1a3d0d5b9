import { sql, type Transaction } from "kysely";
import { storableNote, unfitExternalId } from "../../messages/limits.ts";
import { CANCELLED, type Status } from "../../messages/status.ts";
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
import { type ClaimQueries, claimQueries } from "./claim-queries.ts";
import { applyKeptReports } from "./delivery.ts";
import { withQueuedRanks } from "./queued-ranks.ts";
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
  private readonly claims: ClaimQueries;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
    this.claims = claimQueries(ctx.db, ctx.dialect);
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
    const queries = this.claims;
    return dialect.write(async (trx) => {
      const of = only && { messageId: only.messageId, backend: only.backend };
      // Work whose claimer died first (rare), then the queue in order, each read from its index.
      const expired = (await (of ? queries.expiredOf.run(trx, { now, limit, ...of }) : queries.expired.run(trx, { now, limit }))).rows;
      // Claimed as often as allowed, and each claim ran out (its worker died or hung): give up, as
      // with sends that failed, rather than send it again every lease for ever. One whose message
      // was cancelled while it was being sent is not sent again either.
      const spent = expired.filter((r) => r.attempts >= maxAttempts || r.cancelled_at !== null);
      if (spent.length > 0) await this.giveUp(trx, spent, now);
      const rows = expired.filter((r) => r.attempts < maxAttempts && r.cancelled_at === null);
      if (rows.length < limit) {
        // The queue rank by rank, each rank's due transmissions an exact range (see queued-ranks.ts).
        // One message's transmissions share its rank (its priority): `only` needs no ranks.
        if (of) rows.push(...(await queries.queuedOf.run(trx, { now, limit: limit - rows.length, ...of })).rows);
        else
          for (const { rank } of (await queries.ranks.run(trx, {})).rows) {
            rows.push(...(await queries.queued.run(trx, { now, limit: limit - rows.length, rank })).rows);
            if (rows.length >= limit) break;
          }
      }
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

  private async giveUp(
    trx: Transaction<Database>,
    spent: readonly { id: number; message_id: string; attempts: number; cancelled_at: string | null }[],
    now: number,
  ): Promise<void> {
    const stamp = new Date(now).toISOString();
    for (const row of spent) {
      await trx
        .updateTable("transmissions")
        .set({
          status: "E",
          claimed_by: null,
          claimed_until: null,
          updated_at: stamp,
          error:
            row.cancelled_at !== null
              ? CANCELLED
              : `gave up after ${row.attempts} attempts: the last claim ran out before its send was recorded (the worker died or hung)`,
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
    const db = withQueuedRanks(this.ctx.db);
    const cutoff = now - graceMs;
    // Claimed by a process whose lease ran out, or queued and due for longer than the grace (and
    // not touched since): the queued ones rank by rank, each an exact range (see queued-ranks.ts).
    const rows = await db
      .selectFrom("transmissions")
      .innerJoin("messages", "messages.id", "transmissions.message_id")
      .innerJoin("connections", "connections.id", "transmissions.connection_id")
      .innerJoin("backends", "backends.id", "connections.backend_id")
      .select(["transmissions.message_id", "backends.name as backend", "messages.priority"])
      .where("transmissions.direction", "=", "O")
      .where("transmissions.status", "=", "P")
      .where("transmissions.claimed_until", "<", now)
      .union((eb) =>
        eb
          .selectFrom("queued_ranks")
          // A cross join: SQLite keeps this order, one exact range per rank (PostgreSQL plans its own).
          .crossJoin("transmissions")
          .whereRef("transmissions.rank", "=", "queued_ranks.rank")
          .innerJoin("messages", "messages.id", "transmissions.message_id")
          .innerJoin("connections", "connections.id", "transmissions.connection_id")
          .innerJoin("backends", "backends.id", "connections.backend_id")
          .select(["transmissions.message_id", "backends.name as backend", "messages.priority"])
          .where("transmissions.direction", "=", "O")
          .where("transmissions.status", "=", "Q")
          .where("transmissions.next_attempt_at", "<=", cutoff)
          .where("transmissions.updated_at", "<=", new Date(cutoff).toISOString()),
      )
      .limit(limit)
      .execute();
    return rows.map((r) => ({ messageId: r.message_id, backend: r.backend, priority: r.priority }));
  }

  async recordAttempts({ outcomes: given }: { outcomes: readonly SendOutcome[] }): Promise<RecordedAttempts> {
    if (given.length === 0) return { statuses: new Map(), fenced: [], keptReports: [], cancelled: [] };
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
      const cancelled = await this.cancelRetries(trx, applied, stamp);
      const attempts = applied.map((o) => ({
        transmission_id: o.transmissionId,
        attempt: o.attempt,
        at: stamp,
        outcome: o.status !== "Q" ? o.status : cancelled.has(o.transmissionId) ? ("E" as const) : ("retry" as const),
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
      return { statuses, fenced, keptReports, cancelled: [...cancelled] };
    });
  }

  /**
   * The retries among `applied` whose message was cancelled while they were being sent, ended E
   * `cancelled` instead. Sends that went, or failed for good, cost nothing here; retries one
   * statement a batch, after the lock on each of their messages (see cancelOutgoing, which marks
   * the message under it first).
   */
  private async cancelRetries(trx: Transaction<Database>, applied: readonly SendOutcome[], stamp: string): Promise<Set<number>> {
    const retries = applied.filter((o) => o.status === "Q");
    const cancelled = new Set<number>();
    if (retries.length === 0) return cancelled;
    for (const messageId of await this.messagesOf(trx, retries)) await this.ctx.dialect.lockMessage(trx, messageId);
    for (const slice of slices(retries, 1, this.ctx.dialect)) {
      const rows = await trx
        .updateTable("transmissions")
        .set({ status: "E", error: CANCELLED, updated_at: stamp })
        .where(
          "id",
          "in",
          slice.map((o) => o.transmissionId),
        )
        .where("status", "=", "Q")
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom("messages")
              .select("messages.id")
              .whereRef("messages.id", "=", "transmissions.message_id")
              .where("messages.cancelled_at", "is not", null),
          ),
        )
        .returning("id")
        .execute();
      for (const { id } of rows) cancelled.add(id);
    }
    return cancelled;
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
