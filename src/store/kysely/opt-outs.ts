import { storableNote } from "../../messages/limits.ts";
import type { ConnectionRef, OptOutRecord, OptOutSource, OptOutStore, Page } from "../store.ts";
import { backendRowId, type Db, isoNow, type StoreContext } from "./rows.ts";

/** Opt-outs with the backend and identity they are for. */
function optOutRows(db: Db) {
  return db
    .selectFrom("opt_outs")
    .innerJoin("connections", "connections.id", "opt_outs.connection_id")
    .innerJoin("backends", "backends.id", "connections.backend_id")
    .select([
      "opt_outs.connection_id",
      "opt_outs.opted_out_at",
      "opt_outs.source",
      "opt_outs.detail",
      "opt_outs.message_id",
      "backends.name as backend",
      "connections.identity",
    ]);
}

type OptOutRow = Awaited<ReturnType<ReturnType<typeof optOutRows>["executeTakeFirstOrThrow"]>>;

function record(row: OptOutRow): OptOutRecord {
  return { backend: row.backend, identity: row.identity, since: row.opted_out_at, source: row.source, detail: row.detail, messageId: row.message_id };
}

/** Who opted out. Not on the hot path: the sends' claims read `opt_outs` in their own statements (see outbound.ts). */
export class OptOuts implements OptOutStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  optOut({
    backend,
    identity,
    source,
    detail,
    messageId = null,
  }: ConnectionRef & { source: OptOutSource; detail: string; messageId?: string | null }): Promise<{ created: boolean; record: OptOutRecord }> {
    return this.ctx.dialect.write(async (trx) => {
      const stamp = isoNow();
      const backendId = await backendRowId(trx, backend);
      await trx
        .insertInto("connections")
        .values({ backend_id: backendId, identity, contact_id: null, created_on: stamp, modified_on: stamp })
        .onConflict((oc) => oc.columns(["backend_id", "identity"]).doNothing())
        .execute();
      const connection = await trx
        .selectFrom("connections")
        .select("id")
        .where("backend_id", "=", backendId)
        .where("identity", "=", identity)
        .executeTakeFirstOrThrow();
      const inserted = await trx
        .insertInto("opt_outs")
        .values({ connection_id: connection.id, opted_out_at: stamp, source, detail: storableNote(detail), message_id: messageId })
        .onConflict((oc) => oc.column("connection_id").doNothing())
        .executeTakeFirst();
      const row = await optOutRows(trx).where("opt_outs.connection_id", "=", connection.id).executeTakeFirstOrThrow();
      return { created: Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0, record: record(row) };
    });
  }

  optIn({ backend, identity, messageId = null }: ConnectionRef & { messageId?: string | null }): Promise<boolean> {
    return this.ctx.dialect.write(async (trx) => {
      const connection = await trx
        .selectFrom("connections")
        .innerJoin("backends", "backends.id", "connections.backend_id")
        .select("connections.id")
        .where("backends.name", "=", backend)
        .where("connections.identity", "=", identity)
        .executeTakeFirst();
      if (!connection) return false;
      if (messageId !== null) {
        // This START opted them in before and is processed again after a failure: still a START, and nothing changes (a STOP since stays).
        const again = await trx
          .selectFrom("opt_ins")
          .select("connection_id")
          .where("connection_id", "=", connection.id)
          .where("message_id", "=", messageId)
          .executeTakeFirst();
        if (again) return true;
      }
      const deleted = await trx.deleteFrom("opt_outs").where("connection_id", "=", connection.id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      if (messageId !== null) {
        const stamp = isoNow();
        await trx
          .insertInto("opt_ins")
          .values({ connection_id: connection.id, message_id: messageId, opted_in_at: stamp })
          .onConflict((oc) => oc.column("connection_id").doUpdateSet({ message_id: messageId, opted_in_at: stamp }))
          .execute();
      }
      return true;
    });
  }

  async getOptOut({ backend, identity }: ConnectionRef): Promise<OptOutRecord | undefined> {
    const row = await optOutRows(this.ctx.db).where("backends.name", "=", backend).where("connections.identity", "=", identity).executeTakeFirst();
    return row && record(row);
  }

  async listOptOuts({ limit, after = 0, backend }: { limit: number; after?: number; backend?: string }): Promise<Page<OptOutRecord>> {
    const { db } = this.ctx;
    const counted = db
      .selectFrom("opt_outs")
      .$if(backend !== undefined, (q) =>
        q
          .innerJoin("connections", "connections.id", "opt_outs.connection_id")
          .innerJoin("backends", "backends.id", "connections.backend_id")
          .where("backends.name", "=", backend!),
      )
      .select((eb) => eb.fn.countAll<number>().as("n"));
    const [rows, total] = await Promise.all([
      optOutRows(db)
        .$if(backend !== undefined, (q) => q.where("backends.name", "=", backend!))
        .where("opt_outs.connection_id", ">", after)
        .orderBy("opt_outs.connection_id")
        .limit(limit + 1)
        .execute(),
      counted.executeTakeFirstOrThrow(),
    ]);
    const page = rows.slice(0, limit);
    return { items: page.map(record), total: Number(total.n), next: rows.length > limit ? page.at(-1)!.connection_id : null };
  }
}
