import type { FastifyInstance, FastifyReply } from "fastify";
import type { ConnectionRef, ContactRecord, Page } from "../store/store.ts";
import type { System } from "../system.ts";
import { parse } from "./api-parse.ts";
import { loadLater } from "../load-now.ts";

// Built by the first request that needs them: zod schemas cost a start several ms to build.
const schemas = loadLater<typeof import("./api-contacts-schemas.ts")>(import.meta.url, "./api-contacts-schemas");

/** `/api/contacts` and `/api/groups`: create, read, change and delete, listed in pages by id. */
export function contactRoutes(api: FastifyInstance, system: System): void {
  const { store } = system;
  const noContact = (reply: FastifyReply, id: number) => reply.code(404).send({ error: `no contact with id ${id}` });
  const noGroup = (reply: FastifyReply, id: number) => reply.code(404).send({ error: `no group with id ${id}` });

  /** A 400 for a connection this system cannot send to (a backend not installed, an identity it refuses); true when answered. */
  const refuseConnections = (reply: FastifyReply, connections: readonly ConnectionRef[] | undefined): boolean => {
    for (const [at, { backend, identity }] of (connections ?? []).entries()) {
      const path = `connections.${at}`;
      const reason = system.pipeline.notInstalled(backend) ?? system.pipeline.unsendable(backend, identity);
      if (reason) {
        reply.code(400).send({ error: `invalid request: ${path}: ${reason}`, issues: [{ path, message: reason }] });
        return true;
      }
    }
    return false;
  };

  api.get("/contacts", async (request, reply) => {
    const query = parse(schemas().contactsQuery, request.query, reply);
    if (!query) return reply;
    return contactPage(await store.listContacts(query));
  });

  api.post("/contacts", async (request, reply) => {
    const body = parse(schemas().contactBody, request.body, reply);
    if (!body || refuseConnections(reply, body.connections)) return reply;
    const created = await store.createContact(body);
    return reply.code(201).header("location", `/api/contacts/${created.id}`).send(created);
  });

  api.get("/contacts/:id", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    if (!params) return reply;
    return (await store.getContact(params.id)) ?? noContact(reply, params.id);
  });

  api.patch("/contacts/:id", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    const body = params && parse(schemas().contactBody, request.body, reply);
    if (!params || !body || refuseConnections(reply, body.connections)) return reply;
    return (await store.updateContact({ id: params.id, ...body })) ?? noContact(reply, params.id);
  });

  api.delete("/contacts/:id", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    if (!params) return reply;
    return (await store.deleteContact(params.id)) ? reply.code(204).send() : noContact(reply, params.id);
  });

  api.get("/groups", async (request, reply) => {
    const query = parse(schemas().pageQuery, request.query, reply);
    if (!query) return reply;
    const page = await store.listGroups(query);
    return { groups: page.items, total: page.total, next: page.next };
  });

  api.post("/groups", async (request, reply) => {
    const body = parse(schemas().groupBody, request.body, reply);
    if (!body) return reply;
    const created = await store.createGroup(body);
    if (!created) return reply.code(409).send({ error: `a group named "${body.name}" exists: choose another name, or change that group` });
    return reply.code(201).header("location", `/api/groups/${created.id}`).send(created);
  });

  api.get("/groups/:id", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    if (!params) return reply;
    return (await store.getGroup({ id: params.id })) ?? noGroup(reply, params.id);
  });

  api.patch("/groups/:id", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    const body = params && parse(schemas().groupChange, request.body, reply);
    if (!params || !body) return reply;
    const changed = await store.updateGroup({ id: params.id, ...body });
    if (changed === "conflict") return reply.code(409).send({ error: `a group named "${body.name}" exists: choose another name` });
    return changed ?? noGroup(reply, params.id);
  });

  api.delete("/groups/:id", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    if (!params) return reply;
    return (await store.deleteGroup(params.id)) ? reply.code(204).send() : noGroup(reply, params.id);
  });

  api.get("/groups/:id/members", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    const query = params && parse(schemas().pageQuery, request.query, reply);
    if (!params || !query) return reply;
    if (!(await store.getGroup({ id: params.id }))) return noGroup(reply, params.id);
    return contactPage(await store.listContacts({ ...query, group: params.id }));
  });

  api.post("/groups/:id/members", async (request, reply) => {
    const params = parse(schemas().idParams, request.params, reply);
    const body = params && parse(schemas().membersBody, request.body, reply);
    if (!params || !body) return reply;
    return (await store.changeGroupMembers({ group: params.id, ...body })) ?? noGroup(reply, params.id);
  });
}

/** A page of contacts as the API answers it (see contactPage in api-contacts-schemas.ts). */
function contactPage(page: Page<ContactRecord>) {
  return { contacts: page.items, total: page.total, next: page.next };
}
