import { sql } from "kysely";
import type { HeldPart } from "../../messages/parts.ts";
import type { PartStore } from "../store.ts";
import { backendRowId, type StoreContext } from "./rows.ts";

type Row = {
  part_number: number;
  total: number;
  text: string;
  fields: string;
  external_id: string | null;
  received_at: number | string;
  released_at: number | string | null;
};

/**
 * The parts of long inbound messages that gateways deliver one by one (a concatenated SMS: Vonage's
 * webhooks, SMPP's deliver_sm), kept durably from the moment a part is acknowledged until the
 * whole message is received, and then until the purge, so that a part the gateway sends again is
 * known: a restart between two parts loses nothing, and nothing is received twice.
 */
export class Parts implements PartStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async holdInboundPart({ backend, key, part, now = Date.now() }: Parameters<PartStore["holdInboundPart"]>[0]): ReturnType<PartStore["holdInboundPart"]> {
    return this.ctx.dialect.write(async (trx) => {
      const backendId = await backendRowId(trx, backend);
      // Two parts of one message at once must see each other: one of them completes it. (SQLite's writes are one at a time already.)
      if (this.ctx.dialect.name === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${`rapidsms parts ${backendId} ${key}`}))`.execute(trx);
      const group = () =>
        trx
          .selectFrom("inbound_parts")
          .select(["part_number", "total", "text", "fields", "external_id", "received_at", "released_at"])
          .where("backend_id", "=", backendId)
          .where("group_key", "=", key)
          .orderBy("part_number");
      const drop = () => trx.deleteFrom("inbound_parts").where("backend_id", "=", backendId).where("group_key", "=", key).execute();
      // An incomplete message moved out of the way, under a key of its own: handed back to be received, and swept like any other if that fails.
      const setAside = async () => {
        const aside = `${key} (set aside at ${now})`;
        await trx.updateTable("inbound_parts").set({ group_key: aside }).where("backend_id", "=", backendId).where("group_key", "=", key).execute();
        return aside;
      };
      let rows: Row[] = await group().execute();
      const id = part.externalId ?? null;
      const same = rows.find((row) => row.part_number === part.number);
      // A part without a gateway id (SMPP's) is the same part again only with the same text: phones reuse references.
      const known = same !== undefined && (id === null ? same.external_id === null && same.text === part.text : same.external_id === id);
      let displaced: { key: string; parts: HeldPart[] } | undefined;
      if (rows.some((row) => row.released_at !== null)) {
        // A message already received: this part is one of it sent again, or the first of a new message under the same key.
        if (known || (id !== null && rows.some((row) => row.external_id === id))) return { duplicate: true, complete: undefined };
        await drop();
        rows = [];
      } else if (same && !known) {
        // Another message under the key of one still incomplete: that one is handed back to be received as it is.
        displaced = { parts: rows.map(heldPart), key: await setAside() };
        rows = [];
      } else if (known) {
        return { duplicate: true, complete: complete(rows) };
      }
      await trx
        .insertInto("inbound_parts")
        .values({
          backend_id: backendId,
          group_key: key,
          part_number: part.number,
          total: part.total,
          text: part.text,
          fields: JSON.stringify(part.fields ?? {}),
          external_id: id,
          received_at: now,
          released_at: null,
        })
        .execute();
      return { duplicate: false, complete: complete(await group().execute()), ...(displaced && { displaced }) };
    });
  }

  async releaseInboundParts({ backend, key, parts, now = Date.now() }: Parameters<PartStore["releaseInboundParts"]>[0]): Promise<void> {
    await this.ctx.dialect.write(async (trx) => {
      const backendId = await backendRowId(trx, backend);
      // Only the parts that went into the message: one that came since is another message's.
      for (const part of parts)
        await trx
          .updateTable("inbound_parts")
          .set({ released_at: now })
          .where("backend_id", "=", backendId)
          .where("group_key", "=", key)
          .where("part_number", "=", part.number)
          .where((eb) => (part.externalId === null ? eb("external_id", "is", null) : eb("external_id", "=", part.externalId)))
          .execute();
    });
  }

  async expiredInboundParts({
    backend,
    olderThan,
    limit,
  }: {
    backend: string;
    olderThan: number;
    limit: number;
  }): Promise<{ key: string; parts: HeldPart[] }[]> {
    const { db } = this.ctx;
    const parts = () =>
      db
        .selectFrom("inbound_parts")
        .innerJoin("backends", "backends.id", "inbound_parts.backend_id")
        .where("backends.name", "=", backend)
        .where("released_at", "is", null);
    const groups = await parts()
      .select("group_key")
      .groupBy("group_key")
      .having((eb) => eb.fn.min("received_at"), "<", olderThan)
      .orderBy((eb) => eb.fn.min("received_at"))
      .limit(limit)
      .execute();
    if (groups.length === 0) return [];
    const rows = await parts()
      .select(["group_key", "part_number", "total", "text", "fields", "external_id", "received_at", "released_at"])
      .where(
        "group_key",
        "in",
        groups.map((g) => g.group_key),
      )
      .orderBy("group_key")
      .orderBy("part_number")
      .execute();
    // In the groups' order: the oldest first.
    const byKey = new Map<string, HeldPart[]>(groups.map((g) => [g.group_key, []]));
    for (const row of rows) byKey.get(row.group_key)?.push(heldPart(row));
    return [...byKey].filter(([, held]) => held.length > 0).map(([key, held]) => ({ key, parts: held }));
  }

  async purgeInboundParts(olderThan: number): Promise<void> {
    await this.ctx.db.deleteFrom("inbound_parts").where("received_at", "<", olderThan).execute();
  }
}

/** Every part in order once there are as many as the message has, else undefined. */
function complete(rows: readonly Row[]): HeldPart[] | undefined {
  const total = Math.max(...rows.map((row) => row.total));
  return rows.length >= total ? rows.map(heldPart) : undefined;
}

function heldPart(row: Row): HeldPart {
  return {
    number: row.part_number,
    total: row.total,
    text: row.text,
    fields: JSON.parse(row.fields) as Record<string, unknown>,
    externalId: row.external_id,
    receivedAt: Number(row.received_at),
  };
}
