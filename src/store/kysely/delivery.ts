import type { Transaction } from "kysely";
import type { DeliveryReport, Status } from "../../messages/status.ts";
import type { Database } from "../schema.ts";
import type { DeliveryStore, ReportResult, TransmissionRef } from "../store.ts";
import { isoNow, recipients, refreshMessageStatus, type StoreContext } from "./rows.ts";

type Matched = { id: number; message_id: string; status: Status };

/** Delivery reports, and forgetting old gateway ids. */
export class Delivery implements DeliveryStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  reportDelivery({ ref, report }: { ref: TransmissionRef; report: DeliveryReport }): Promise<ReportResult> {
    const stamp = isoNow();
    return this.ctx.dialect.write(async (trx) => {
      const found = await this.find(trx, ref);
      if ("unmatched" in found) return { transmissionIds: [], unmatched: found.unmatched };
      const messages = new Set<string>();
      for (const row of found.rows) {
        await trx
          .insertInto("delivery_reports")
          .values({ transmission_id: row.id, at: stamp, status: report.status, detail: report.detail ?? null })
          .execute();
        if (report.status === "S" || row.status === "D") continue;
        // A send still under way keeps its claim: its answer is recorded when it comes (see recordAttempt).
        await trx
          .updateTable("transmissions")
          .set({
            status: report.status,
            updated_at: stamp,
            ...(report.status === "D" ? { delivered_at: stamp, error: null } : { error: report.detail ?? "the gateway reported delivery failure" }),
          })
          .where("id", "=", row.id)
          .execute();
        messages.add(row.message_id);
      }
      for (const messageId of messages) await refreshMessageStatus(trx, this.ctx.hot, messageId, stamp);
      return { transmissionIds: found.rows.map((r) => r.id) };
    });
  }

  /** The transmissions a report is about, on its backend only. */
  private async find(trx: Transaction<Database>, ref: TransmissionRef): Promise<{ rows: Matched[] } | { unmatched: string }> {
    const base = recipients(trx)
      .select(["transmissions.id", "transmissions.message_id", "transmissions.status"])
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
    // A gateway id the gateway gave several recipients (one answer for a multi-recipient send) names them all.
    const byGatewayId = await onBackend.where("transmissions.external_id", "=", gatewayId).execute();
    if (byGatewayId.length > 0 || "externalId" in ref) {
      return byGatewayId.length > 0 ? { rows: byGatewayId } : { unmatched: `no message sent through this backend has the gateway id ${gatewayId}` };
    }
    const byMessage = await onBackend.where("transmissions.message_id", "=", gatewayId).execute();
    if (byMessage.length === 0) {
      return {
        unmatched: `no message ${gatewayId} was sent through this backend: the id matches neither an id the gateway answered with nor one of our message ids`,
      };
    }
    if (byMessage.length > 1) {
      return {
        unmatched: `message ${gatewayId} went to ${byMessage.length} recipients through this backend and the report does not say which: have the gateway answer each send with its own message ids`,
      };
    }
    return { rows: byMessage };
  }

  async purgeDedupe({ olderThan }: { olderThan: number }): Promise<number> {
    const result = await this.ctx.db.deleteFrom("inbound_dedupe").where("received_at", "<", olderThan).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
