import { createHash } from "node:crypto";
import type { Transaction } from "kysely";
import { storableNote, unfitExternalId, unfitIdentity } from "../../messages/limits.ts";
import type { DeliveryReport, Status } from "../../messages/status.ts";
import type { Database } from "../schema.ts";
import type { DeliveryStore, ReportResult, TransmissionChange, TransmissionRef } from "../store.ts";
import { recipients, refreshMessageStatus, type StoreContext } from "./rows.ts";

/** Reports kept per backend at most: as many as sends could be under way at once, and far more. */
const MAX_KEPT_REPORTS = 10_000;

type Matched = { id: number; message_id: string; status: Status; identity?: string };
type Found =
  | { rows: Matched[] }
  | { part: { transmissionId: number; partNumber: number } }
  | { unmatched: string; keep?: { backend: string; externalId: string } };

/**
 * Records a receipt for one part of a long message, and what the parts' receipts so far make of
 * the transmission: E as soon as a part failed, D once every part is delivered or the last one is
 * (gateways that report one part report that one; a part that fails after that makes it E), else
 * S (on its way), each with the part named. A part's final receipt is not undone by a late S.
 */
export async function applyPartReport(
  trx: Transaction<Database>,
  ctx: StoreContext,
  part: { transmissionId: number; partNumber: number },
  report: DeliveryReport,
  stamp: string,
): Promise<TransmissionChange[]> {
  // Receipts for two parts at once must each see the other's (SQLite's writes are one at a time already).
  if (ctx.dialect.name === "postgres") await trx.selectFrom("transmissions").select("id").where("id", "=", part.transmissionId).forUpdate().execute();
  const updated = await trx
    .updateTable("transmission_parts")
    .set({ status: report.status })
    .where("transmission_id", "=", part.transmissionId)
    .where("part_number", "=", part.partNumber)
    .where((eb) => eb.or([eb("status", "is", null), eb("status", "=", "S")]))
    .executeTakeFirst();
  const parts = await trx.selectFrom("transmission_parts").select(["part_number", "status"]).where("transmission_id", "=", part.transmissionId).execute();
  const of = `part ${part.partNumber} of ${parts.length}`;
  // Recorded as the gateway said it, so that the same receipt again is the same report.
  const recorded = { status: report.status, detail: report.detail ? `${of}: ${report.detail}` : of };
  const rows = await trx.selectFrom("transmissions").select(["id", "message_id", "status"]).where("id", "=", part.transmissionId).execute();
  // A part already delivered or failed stays so; once a part failed, the transmission keeps that part's reason.
  if (Number(updated.numUpdatedRows) === 0 || rows[0]?.status === "E") return applyReport(trx, ctx, rows, recorded, stamp, { recordOnly: true });
  // Delivered by its last part, then a part failed after all: the message did not arrive whole.
  const failedAfterAll = report.status === "E" && rows[0]?.status === "D";
  // The last part delivered means the phone has the message: many SMSCs (SMPP's) send only that part's receipt.
  const last = parts.reduce((a, b) => (b.part_number > a.part_number ? b : a));
  const whole: DeliveryReport["status"] = parts.some((p) => p.status === "E") ? "E" : parts.every((p) => p.status === "D") || last.status === "D" ? "D" : "S";
  return applyReport(trx, ctx, rows, recorded, stamp, { moveTo: whole, undeliver: failedAfterAll });
}

/** Why a report's reference can name no transmission (no store could hold or match it), or undefined. */
function unfitRef(ref: TransmissionRef): string | undefined {
  if ("transmissionId" in ref) return undefined;
  if ("identity" in ref) {
    const unfit = unfitExternalId(ref.messageId) ?? unfitIdentity(ref.identity);
    return unfit && `the report's message id or identity cannot be one of ours: ${unfit}`;
  }
  const unfit = unfitExternalId("externalId" in ref ? ref.externalId : ref.externalIdOrMessageId);
  return unfit && `the report's message id cannot be a gateway's: ${unfit}`;
}

/** The same report (status and detail) twice has the same fingerprint. */
function fingerprint(report: DeliveryReport): string {
  return createHash("sha1")
    .update(`${report.status}\n${report.detail ?? ""}`)
    .digest("hex");
}

/**
 * Records `report` on each transmission (once: a report already recorded there is skipped), and
 * moves each that it finishes: D and E change the transmission and its message, S is recorded only.
 */
export async function applyReport(
  trx: Transaction<Database>,
  ctx: StoreContext,
  rows: readonly Matched[],
  report: DeliveryReport,
  stamp: string,
  {
    recordOnly = false,
    moveTo,
    undeliver = false,
  }: {
    recordOnly?: boolean;
    moveTo?: DeliveryReport["status"];
    /** A delivered transmission may fail after all (a part of a message in parts that the last part's receipt made D). */
    undeliver?: boolean;
  } = {},
): Promise<TransmissionChange[]> {
  const messages = new Set<string>();
  const changes: TransmissionChange[] = [];
  const print = fingerprint(report);
  // What the transmission becomes: the report's status, or (a part's receipt) what all its parts' make.
  const target = recordOnly ? "S" : (moveTo ?? report.status);
  for (const row of rows) {
    const inserted = await trx
      .insertInto("delivery_reports")
      .values({ transmission_id: row.id, at: stamp, status: report.status, detail: report.detail ?? null, fingerprint: print })
      .onConflict((oc) => oc.columns(["transmission_id", "fingerprint"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted || target === "S" || (row.status === "D" && !undeliver)) continue;
    // A send still under way keeps its claim: its answer is recorded when it comes (see recordAttempt).
    const error = target === "D" ? null : (report.detail ?? "the gateway reported delivery failure");
    await trx
      .updateTable("transmissions")
      .set({
        status: target,
        updated_at: stamp,
        ...(target === "D" ? { delivered_at: stamp, error } : { error }),
      })
      .where("id", "=", row.id)
      .execute();
    messages.add(row.message_id);
    changes.push({ transmissionId: row.id, messageId: row.message_id, identity: row.identity, status: target, error });
  }
  const changed = changes.map((c) => c.transmissionId);
  for (const messageId of messages) await refreshMessageStatus(trx, ctx, messageId, stamp, changed);
  return changes;
}

/**
 * Applies the reports kept for gateway ids that sends' answers have just brought: called in the
 * transaction that records those answers, after them (and after `lockGatewayIds` on their ids). A
 * gateway id the answers gave several recipients gets each of its reports on all of them.
 */
export async function applyKeptReports(
  trx: Transaction<Database>,
  ctx: StoreContext,
  answered: readonly { transmissionId: number; externalId: string; partNumber?: number }[],
  stamp: string,
): Promise<TransmissionChange[]> {
  const changes: TransmissionChange[] = [];
  const byGatewayId = new Map<string, number[]>();
  // The parts of long messages: their kept receipts count part by part.
  for (const { transmissionId, externalId, partNumber } of answered) {
    if (partNumber === undefined) {
      byGatewayId.set(externalId, [...(byGatewayId.get(externalId) ?? []), transmissionId]);
      continue;
    }
    const backend = await recipients(trx).select("backends.name as backend").where("transmissions.id", "=", transmissionId).executeTakeFirst();
    if (backend)
      await takeKept(trx, backend.backend, externalId, async (report) => {
        changes.push(...(await applyPartReport(trx, ctx, { transmissionId, partNumber }, report, stamp)));
      });
  }
  for (const [externalId, transmissionIds] of byGatewayId) {
    const targets = await recipients(trx).select(["transmissions.id", "backends.name as backend"]).where("transmissions.id", "in", transmissionIds).execute();
    for (const backend of new Set(targets.map((t) => t.backend))) {
      const ids = targets.filter((t) => t.backend === backend).map((t) => t.id);
      await takeKept(trx, backend, externalId, async (report) => {
        // Read again for each report: the one before may have finished them.
        const current = await trx.selectFrom("transmissions").select(["id", "message_id", "status"]).where("id", "in", ids).orderBy("id").execute();
        changes.push(...(await applyReport(trx, ctx, current, report, stamp)));
      });
    }
  }
  return changes;
}

/** Hands each report kept for `externalId` on `backend` to `apply`, oldest first, then forgets them. */
async function takeKept(trx: Transaction<Database>, backend: string, externalId: string, apply: (report: DeliveryReport) => Promise<void>): Promise<void> {
  const kept = await trx.selectFrom("pending_reports").selectAll().where("backend", "=", backend).where("external_id", "=", externalId).orderBy("id").execute();
  if (kept.length === 0) return;
  for (const report of kept) await apply({ status: report.status as DeliveryReport["status"], detail: report.detail ?? undefined });
  await trx
    .deleteFrom("pending_reports")
    .where(
      "id",
      "in",
      kept.map((k) => k.id),
    )
    .execute();
}

/** Delivery reports, and forgetting old gateway ids and old kept reports. */
export class Delivery implements DeliveryStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  reportDelivery({ ref, report: given, now = Date.now() }: { ref: TransmissionRef; report: DeliveryReport; now?: number }): Promise<ReportResult> {
    const report: DeliveryReport = { ...given, detail: storableNote(given.detail) ?? undefined };
    const unfit = unfitRef(ref);
    if (unfit) return Promise.resolve({ transmissionIds: [], unmatched: unfit });
    const stamp = new Date(now).toISOString();
    return this.ctx.dialect.write(async (trx) => {
      // A report that may be kept waits for a send recording its gateway id right now (see recordAttempts).
      if ("externalId" in ref) await this.ctx.dialect.lockGatewayIds(trx, [ref.externalId]);
      else if ("externalIdOrMessageId" in ref) await this.ctx.dialect.lockGatewayIds(trx, [ref.externalIdOrMessageId]);
      const found = await this.find(trx, ref);
      if ("unmatched" in found) {
        if (!found.keep) return { transmissionIds: [], unmatched: found.unmatched };
        const waiting = await trx
          .selectFrom("pending_reports")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("backend", "=", found.keep.backend)
          .executeTakeFirstOrThrow();
        if (Number(waiting.n) >= MAX_KEPT_REPORTS) {
          return { transmissionIds: [], unmatched: `${found.unmatched}, and ${MAX_KEPT_REPORTS} reports already wait for theirs: not kept` };
        }
        await trx
          .insertInto("pending_reports")
          .values({
            backend: found.keep.backend,
            external_id: found.keep.externalId,
            status: report.status,
            detail: report.detail ?? null,
            fingerprint: fingerprint(report),
            received_at: now,
          })
          .onConflict((oc) => oc.columns(["backend", "external_id", "fingerprint"]).doNothing())
          .execute();
        return { transmissionIds: [], kept: true };
      }
      if ("part" in found) {
        const changes = await applyPartReport(trx, this.ctx, found.part, report, stamp);
        return { transmissionIds: [found.part.transmissionId], changes };
      }
      const changes = await applyReport(trx, this.ctx, found.rows, report, stamp);
      return { transmissionIds: found.rows.map((r) => r.id), changes };
    });
  }

  /** The transmissions a report is about, on its backend only. */
  private async find(trx: Transaction<Database>, ref: TransmissionRef): Promise<Found> {
    const base = recipients(trx)
      .select(["transmissions.id", "transmissions.message_id", "transmissions.status", "connections.identity"])
      .where("transmissions.direction", "=", "O")
      .orderBy("transmissions.id");
    if ("transmissionId" in ref) {
      const rows = await base.where("transmissions.id", "=", ref.transmissionId).execute();
      return rows.length > 0 ? { rows } : { unmatched: `no transmission ${ref.transmissionId}` };
    }
    const onBackend = base.where("backends.name", "=", ref.backend);
    if ("identity" in ref) {
      const rows = await onBackend.where("transmissions.message_id", "=", ref.messageId).where("connections.identity", "=", ref.identity).execute();
      return rows.length > 0 ? { rows } : { unmatched: `no message ${ref.messageId} was sent to ${ref.identity} through this backend` };
    }
    const gatewayId = "externalId" in ref ? ref.externalId : ref.externalIdOrMessageId;
    // A part of a long message whose receipts come per part (the first part's id is the transmission's too).
    const part = await trx
      .selectFrom("transmission_parts")
      .innerJoin("transmissions", "transmissions.id", "transmission_parts.transmission_id")
      .innerJoin("connections", "connections.id", "transmissions.connection_id")
      .innerJoin("backends", "backends.id", "connections.backend_id")
      .select(["transmission_parts.transmission_id", "transmission_parts.part_number"])
      .where("backends.name", "=", ref.backend)
      .where("transmission_parts.external_id", "=", gatewayId)
      .executeTakeFirst();
    if (part) return { part: { transmissionId: part.transmission_id, partNumber: part.part_number } };
    // A gateway id the gateway gave several recipients (one answer for a multi-recipient send) names them all.
    const byGatewayId = await onBackend.where("transmissions.external_id", "=", gatewayId).execute();
    if (byGatewayId.length > 0) return { rows: byGatewayId };
    const keep = { backend: ref.backend, externalId: gatewayId };
    if ("externalId" in ref) return { unmatched: `no message sent through this backend has the gateway id ${gatewayId} yet`, keep };
    const byMessage = await onBackend.where("transmissions.message_id", "=", gatewayId).execute();
    if (byMessage.length === 1) return { rows: byMessage };
    if (byMessage.length > 1) {
      return {
        unmatched: `message ${gatewayId} went to ${byMessage.length} recipients through this backend and the report does not say which: have the gateway answer each send with its own message ids`,
      };
    }
    // Neither a known gateway id nor one of our ids: most likely a gateway id whose send's answer is not recorded yet.
    return { unmatched: `no message sent through this backend has the id ${gatewayId} yet`, keep };
  }

  async purgeDedupe({ olderThan, keptReportsOlderThan = olderThan }: { olderThan: number; keptReportsOlderThan?: number }): Promise<number> {
    const { db } = this.ctx;
    const ids = await db.deleteFrom("inbound_dedupe").where("received_at", "<", olderThan).executeTakeFirst();
    await db.deleteFrom("pending_reports").where("received_at", "<", keptReportsOlderThan).execute();
    return Number(ids.numDeletedRows);
  }
}
