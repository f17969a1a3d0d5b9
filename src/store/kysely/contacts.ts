import type { Transaction } from "kysely";
import type { Connection } from "../../messages/connection.ts";
import type { Database } from "../schema.ts";
import type { ConnectionRef, ContactInit, ContactRecord, ContactStore, GroupRecord, Page } from "../store.ts";
import { backendRowId, type Db, isoNow, slices, type StoreContext } from "./rows.ts";

/** Contacts, their connections and their groups. */
export class Contacts implements ContactStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async createContact(init: ContactInit): Promise<ContactRecord> {
    const id = await this.ctx.dialect.write(async (trx) => {
      const stamp = isoNow();
      const row = await trx
        .insertInto("contacts")
        .values({ name: init.name ?? "", language: init.language ?? "", fields: JSON.stringify(init.fields ?? {}), created_on: stamp, modified_on: stamp })
        .returning("id")
        .executeTakeFirstOrThrow();
      if (init.connections) await linkConnections(trx, row.id, init.connections, stamp);
      if (init.groups) await setGroups(trx, row.id, init.groups, stamp);
      return row.id;
    });
    return (await this.getContact(id))!;
  }

  async getContact(id: number): Promise<ContactRecord | undefined> {
    const [contact] = await contactRecords(this.ctx.db, [id]);
    return contact;
  }

  async listContacts({ limit, after = 0, group }: { limit: number; after?: number; group?: number }): Promise<Page<ContactRecord>> {
    const { db } = this.ctx;
    const listed =
      group === undefined
        ? db.selectFrom("contacts")
        : db
            .selectFrom("contacts")
            .innerJoin("contact_group_members", "contact_group_members.contact_id", "contacts.id")
            .where("contact_group_members.group_id", "=", group);
    const [rows, total] = await Promise.all([
      listed
        .select("contacts.id")
        .where("contacts.id", ">", after)
        .orderBy("contacts.id")
        .limit(limit + 1)
        .execute(),
      listed.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
    ]);
    const page = rows.slice(0, limit).map((r) => r.id);
    return { items: await contactRecords(db, page), total: Number(total.n), next: rows.length > limit ? page.at(-1)! : null };
  }

  async updateContact({ id, ...change }: { id: number } & ContactInit): Promise<ContactRecord | undefined> {
    const found = await this.ctx.dialect.write(async (trx) => {
      const stamp = isoNow();
      const updated = await trx
        .updateTable("contacts")
        .set({
          modified_on: stamp,
          ...(change.name !== undefined && { name: change.name }),
          ...(change.language !== undefined && { language: change.language }),
          ...(change.fields !== undefined && { fields: JSON.stringify(change.fields) }),
        })
        .where("id", "=", id)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      if (change.connections) {
        await trx.updateTable("connections").set({ contact_id: null, modified_on: stamp }).where("contact_id", "=", id).execute();
        await linkConnections(trx, id, change.connections, stamp);
      }
      if (change.groups) {
        await trx.deleteFrom("contact_group_members").where("contact_id", "=", id).execute();
        await setGroups(trx, id, change.groups, stamp);
      }
      return true;
    });
    return found ? this.getContact(id) : undefined;
  }

  async deleteContact(id: number): Promise<boolean> {
    return this.ctx.dialect.write(async (trx) => {
      await trx.updateTable("connections").set({ contact_id: null, modified_on: isoNow() }).where("contact_id", "=", id).execute();
      await trx.deleteFrom("contact_group_members").where("contact_id", "=", id).execute();
      const deleted = await trx.deleteFrom("contacts").where("id", "=", id).executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  async createGroup({ name, description = "" }: { name: string; description?: string }): Promise<GroupRecord | undefined> {
    const id = await this.ctx.dialect.write(async (trx) => {
      const stamp = isoNow();
      const row = await trx
        .insertInto("contact_groups")
        .values({ name, description, created_on: stamp, modified_on: stamp })
        .onConflict((oc) => oc.column("name").doNothing())
        .returning("id")
        .executeTakeFirst();
      return row?.id;
    });
    return id === undefined ? undefined : this.getGroup({ id });
  }

  async getGroup(args: { id: number } | { name: string }): Promise<GroupRecord | undefined> {
    const query = groupRecords(this.ctx.db);
    const row = await ("id" in args ? query.where("contact_groups.id", "=", args.id) : query.where("contact_groups.name", "=", args.name)).executeTakeFirst();
    return row && groupRecord(row);
  }

  async listGroups({ limit, after = 0 }: { limit: number; after?: number }): Promise<Page<GroupRecord>> {
    const { db } = this.ctx;
    const [rows, total] = await Promise.all([
      groupRecords(db)
        .where("contact_groups.id", ">", after)
        .orderBy("contact_groups.id")
        .limit(limit + 1)
        .execute(),
      db
        .selectFrom("contact_groups")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow(),
    ]);
    const page = rows.slice(0, limit).map(groupRecord);
    return { items: page, total: Number(total.n), next: rows.length > limit ? page.at(-1)!.id : null };
  }

  async updateGroup({ id, name, description }: { id: number; name?: string; description?: string }): Promise<GroupRecord | "conflict" | undefined> {
    const outcome = await this.ctx.dialect.write(async (trx) => {
      if (name !== undefined) {
        const other = await trx.selectFrom("contact_groups").select("id").where("name", "=", name).where("id", "<>", id).executeTakeFirst();
        if (other) return "conflict" as const;
      }
      const updated = await trx
        .updateTable("contact_groups")
        .set({ modified_on: isoNow(), ...(name !== undefined && { name }), ...(description !== undefined && { description }) })
        .where("id", "=", id)
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) > 0;
    });
    if (outcome === "conflict") return outcome;
    return outcome ? this.getGroup({ id }) : undefined;
  }

  async deleteGroup(id: number): Promise<boolean> {
    return this.ctx.dialect.write(async (trx) => {
      await trx.deleteFrom("contact_group_members").where("group_id", "=", id).execute();
      const deleted = await trx.deleteFrom("contact_groups").where("id", "=", id).executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  async changeGroupMembers({
    group,
    add = [],
    remove = [],
  }: {
    group: number;
    add?: readonly number[];
    remove?: readonly number[];
  }): Promise<GroupRecord | undefined> {
    const found = await this.ctx.dialect.write(async (trx) => {
      const row = await trx.selectFrom("contact_groups").select("id").where("id", "=", group).executeTakeFirst();
      if (!row) return false;
      const stamp = isoNow();
      for (const slice of slices(remove, 1, this.ctx.dialect))
        await trx.deleteFrom("contact_group_members").where("group_id", "=", group).where("contact_id", "in", slice).execute();
      for (const slice of slices(add, 3, this.ctx.dialect)) await addMembers(trx, group, slice, stamp);
      await trx.updateTable("contact_groups").set({ modified_on: stamp }).where("id", "=", group).execute();
      return true;
    });
    return found ? this.getGroup({ id: group }) : undefined;
  }

  async connectionLanguages(ids: readonly number[]): Promise<Record<number, string>> {
    const languages: Record<number, string> = {};
    for (const slice of slices([...new Set(ids)], 1, this.ctx.dialect)) {
      const rows = await this.ctx.db
        .selectFrom("connections")
        .innerJoin("contacts", "contacts.id", "connections.contact_id")
        .select(["connections.id", "contacts.language"])
        .where("connections.id", "in", slice)
        .execute();
      for (const row of rows) languages[row.id] = row.language;
    }
    return languages;
  }

  async groupConnections({ group, backend }: { group: number; backend?: string }): Promise<Connection[]> {
    const { db } = this.ctx;
    // Each member's first connection (on `backend`, when given), chosen by the database.
    let first = db
      .selectFrom("contact_group_members")
      .innerJoin("connections", "connections.contact_id", "contact_group_members.contact_id")
      .select((eb) => eb.fn.min("connections.id").as("id"))
      .where("contact_group_members.group_id", "=", group)
      .groupBy("connections.contact_id");
    if (backend !== undefined) first = first.innerJoin("backends", "backends.id", "connections.backend_id").where("backends.name", "=", backend);
    const rows = await db
      .selectFrom("connections")
      .innerJoin("backends", "backends.id", "connections.backend_id")
      .select(["connections.id", "connections.identity", "connections.contact_id", "backends.name as backend"])
      .where("connections.id", "in", first)
      .orderBy("connections.contact_id")
      .execute();
    return rows.map((row) => ({ id: row.id, backend: row.backend, identity: row.identity, contactId: row.contact_id }));
  }
}

/** Links the connections (made when missing) to the contact, taking them from any other contact. */
async function linkConnections(trx: Transaction<Database>, contactId: number, refs: readonly ConnectionRef[], stamp: string): Promise<void> {
  for (const backend of new Set(refs.map((r) => r.backend))) {
    const backendId = await backendRowId(trx, backend);
    const identities = [...new Set(refs.filter((r) => r.backend === backend).map((r) => r.identity))];
    await trx
      .insertInto("connections")
      .values(identities.map((identity) => ({ backend_id: backendId, identity, contact_id: contactId, created_on: stamp, modified_on: stamp })))
      .onConflict((oc) => oc.columns(["backend_id", "identity"]).doUpdateSet({ contact_id: contactId, modified_on: stamp }))
      .execute();
  }
}

async function setGroups(trx: Transaction<Database>, contactId: number, groups: readonly number[], stamp: string): Promise<void> {
  const existing = groups.length === 0 ? [] : await trx.selectFrom("contact_groups").select("id").where("id", "in", groups).execute();
  for (const { id } of existing) await addMembers(trx, id, [contactId], stamp);
}

async function addMembers(trx: Transaction<Database>, group: number, contacts: readonly number[], stamp: string): Promise<void> {
  const existing = await trx.selectFrom("contacts").select("id").where("id", "in", contacts).execute();
  if (existing.length === 0) return;
  await trx
    .insertInto("contact_group_members")
    .values(existing.map(({ id }) => ({ group_id: group, contact_id: id, added_on: stamp })))
    .onConflict((oc) => oc.columns(["group_id", "contact_id"]).doNothing())
    .execute();
}

async function contactRecords(db: Db, ids: readonly number[]): Promise<ContactRecord[]> {
  if (ids.length === 0) return [];
  const [contacts, connections, groups] = await Promise.all([
    db.selectFrom("contacts").selectAll().where("id", "in", ids).orderBy("id").execute(),
    db
      .selectFrom("connections")
      .innerJoin("backends", "backends.id", "connections.backend_id")
      .select(["connections.contact_id", "backends.name as backend", "connections.identity"])
      .where("connections.contact_id", "in", ids)
      .orderBy("connections.id")
      .execute(),
    db
      .selectFrom("contact_group_members")
      .innerJoin("contact_groups", "contact_groups.id", "contact_group_members.group_id")
      .select(["contact_group_members.contact_id", "contact_groups.id", "contact_groups.name"])
      .where("contact_group_members.contact_id", "in", ids)
      .orderBy("contact_groups.name")
      .execute(),
  ]);
  return contacts.map((c) => ({
    id: c.id,
    name: c.name,
    language: c.language,
    fields: JSON.parse(c.fields),
    connections: connections.filter((r) => r.contact_id === c.id).map((r) => ({ backend: r.backend, identity: r.identity })),
    groups: groups.filter((g) => g.contact_id === c.id).map((g) => ({ id: g.id, name: g.name })),
    createdOn: c.created_on,
    modifiedOn: c.modified_on,
  }));
}

function groupRecords(db: Db) {
  return db
    .selectFrom("contact_groups")
    .selectAll("contact_groups")
    .select((eb) =>
      eb
        .selectFrom("contact_group_members")
        .select((m) => m.fn.countAll<number>().as("n"))
        .whereRef("contact_group_members.group_id", "=", "contact_groups.id")
        .as("members"),
    );
}

function groupRecord(row: { id: number; name: string; description: string; created_on: string; modified_on: string; members: number | null }): GroupRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    members: Number(row.members ?? 0),
    createdOn: row.created_on,
    modifiedOn: row.modified_on,
  };
}
