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

  optIn({ backend, identity }: ConnectionRef): Promise<boolean> {
    return this.ctx.dialect.write(async (trx) => {
      const deleted = await trx
        .deleteFrom("opt_outs")
        .where("connection_id", "in", (eb) =>
          eb
            .selectFrom("connections")
            .innerJoin("backends", "backends.id", "connections.backend_id")
            .select("connections.id")
            .where("backends.name", "=", backend)
            .where("connections.identity", "=", identity),
        )
        .executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
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
