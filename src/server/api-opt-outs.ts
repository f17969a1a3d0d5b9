import type { FastifyInstance, FastifyReply } from "fastify";
import type { ConnectionRef, OptOutRecord } from "../store/store.ts";
import type { System } from "../system.ts";
import { parse } from "./api-parse.ts";
import { loadLater } from "../load-now.ts";

// Built by the first request that needs them: zod schemas cost a start several ms to build.
const schemas = loadLater<typeof import("./api-opt-outs-schemas.ts")>(import.meta.url, "./api-opt-outs-schemas");

/**
 * `/api/opt-outs`: who asked to get no more messages. `GET`, `PUT` (opt out, source `api`) and
 * `DELETE` (opt back in) on `/api/opt-outs/:backend/:identity`, and the list in pages.
 */
export function optOutRoutes(api: FastifyInstance, system: System): void {
  const { store, pipeline } = system;

  /** The connection the path names, or undefined after a 400 (a backend not installed, an identity it refuses). */
  const connection = (reply: FastifyReply, params: unknown): ConnectionRef | undefined => {
    const { backend = "", identity = "" } = params as Partial<ConnectionRef>;
    const notInstalled = pipeline.notInstalled(backend);
    if (notInstalled) {
      reply.code(400).send({ error: `invalid request: backend: ${notInstalled}`, issues: [{ path: "backend", message: notInstalled }] });
      return undefined;
    }
    const unfit = pipeline.unsendable(backend, identity);
    if (unfit) {
      reply.code(400).send({ error: `invalid request: identity: ${unfit}`, issues: [{ path: "identity", message: unfit }] });
      return undefined;
    }
    return { backend, identity };
  };
  const notOptedOut = (reply: FastifyReply, { backend, identity }: ConnectionRef) =>
    reply.code(404).send({ error: `${identity} on ${backend} is not opted out`, backend, identity, optedOut: false });

  api.get("/opt-outs", async (request, reply) => {
    const query = parse(schemas().optOutsQuery, request.query, reply);
    if (!query) return reply;
    const notInstalled = query.backend === undefined ? undefined : pipeline.notInstalled(query.backend);
    if (notInstalled) return reply.code(400).send({ error: `invalid request: backend: ${notInstalled}`, issues: [{ path: "backend", message: notInstalled }] });
    const page = await store.listOptOuts(query);
    return { optOuts: page.items.map(answer), total: page.total, next: page.next };
  });

  api.get("/opt-outs/:backend/:identity", async (request, reply) => {
    const ref = connection(reply, request.params);
    if (!ref) return reply;
    const record = await store.getOptOut(ref);
    return record ? answer(record) : notOptedOut(reply, ref);
  });

  api.put("/opt-outs/:backend/:identity", async (request, reply) => {
    const ref = connection(reply, request.params);
    const body = ref && parse(schemas().optOutBody, request.body, reply);
    if (!ref || !body) return reply;
    const { created, record } = await store.optOut({ ...ref, source: "api", detail: body.reason ?? "" });
    return reply.code(created ? 201 : 200).send(answer(record));
  });

  api.delete("/opt-outs/:backend/:identity", async (request, reply) => {
    const ref = connection(reply, request.params);
    if (!ref) return reply;
    return (await store.optIn(ref)) ? reply.code(204).send() : notOptedOut(reply, ref);
  });
}

function answer(record: OptOutRecord) {
  return {
    backend: record.backend,
    identity: record.identity,
    optedOut: true as const,
    since: record.since,
    source: record.source,
    detail: record.detail,
    messageId: record.messageId,
  };
}
