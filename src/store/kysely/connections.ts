import type { Connection } from "../../messages/connection.ts";
import type { BackendRow, ConnectionStore } from "../store.ts";
import { backendRowId, isoNow, slices, type StoreContext } from "./rows.ts";

/** Backends and connections. */
export class Connections implements ConnectionStore {
  private readonly ctx: StoreContext;
  private readonly backendIds = new Map<string, number>();

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async getOrCreateBackend(name: string): Promise<BackendRow> {
    const cached = this.backendIds.get(name);
    if (cached !== undefined) return { id: cached, name };
    const id = await backendRowId(this.ctx.db, name);
    this.backendIds.set(name, id);
    return { id, name };
  }

  async lookupConnections({ backend: backendName, identities }: { backend: string; identities: readonly string[] }): Promise<Connection[]> {
    if (identities.length === 0) return [];
    const backend = await this.getOrCreateBackend(backendName);
    const unique = [...new Set(identities.map(String))];
    const stamp = isoNow();
    const rows = await this.ctx.dialect.write(
      async (trx) => {
        const found: { id: number; identity: string; contact_id: number | null }[] = [];
        // Five values a row: many identities take several statements.
        for (const slice of slices(unique, 5, this.ctx.dialect)) {
          await trx
            .insertInto("connections")
            .values(slice.map((identity) => ({ backend_id: backend.id, identity, contact_id: null, created_on: stamp, modified_on: stamp })))
            .onConflict((oc) => oc.columns(["backend_id", "identity"]).doNothing())
            .execute();
          found.push(
            ...(await trx
              .selectFrom("connections")
              .select(["id", "identity", "contact_id"])
              .where("backend_id", "=", backend.id)
              .where("identity", "in", slice)
              .execute()),
          );
        }
        return found;
      },
      // A connection lost to a power loss is inserted again by the next lookup; a message that names it syncs it.
      { deferSync: true },
    );
    const byIdentity = new Map(rows.map((r) => [r.identity, r]));
    return identities.map((raw) => {
      const row = byIdentity.get(String(raw));
      if (!row) throw new Error(`the store did not keep identity ${JSON.stringify(raw)} as given (it is not well-formed text)`);
      return { id: row.id, backend: backendName, identity: row.identity, contactId: row.contact_id };
    });
  }

  async setConnectionContact({ connectionId, contactId }: { connectionId: number; contactId: number | null }): Promise<void> {
    await this.ctx.db.updateTable("connections").set({ contact_id: contactId, modified_on: isoNow() }).where("id", "=", connectionId).execute();
  }
}
