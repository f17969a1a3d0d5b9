import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from "fastify";
import { type BroadcastRefusal, broadcastToGroup } from "../broadcast.ts";
import type { Connection } from "../messages/connection.ts";
import { LISTED_TRANSMISSIONS, type ListedMessage, type MessageRecord, type TransmissionRecord } from "../store/store.ts";
import type { System } from "../system.ts";
import { contactRoutes } from "./api-contacts.ts";
import { optOutRoutes } from "./api-opt-outs.ts";
import { cancelRoute, scheduledAt } from "./api-scheduled.ts";
import { messageLogRoutes } from "./api-message-log.ts";
import { parse } from "./api-parse.ts";
import { protect, sendJsonRefusal, type AccessPolicy } from "./access.ts";
import { jsonErrors } from "./errors.ts";
import { shownForward } from "./webhook-view.ts";
import { loadLater } from "../load-now.ts";

// Built by the first request that needs them: zod schemas cost a start several ms to build.
const schemas = loadLater<typeof import("./api-schemas.ts")>(import.meta.url, "./api-schemas");
const openApi = loadLater<typeof import("./openapi.ts")>(import.meta.url, "./openapi");

/**
 * `/api`, mounted under that prefix: queue messages, read their status, transmissions and
 * attempts. Every route here is guarded by the access policy (see access.ts).
 */
export function apiPlugin(system: System, policy: AccessPolicy): FastifyPluginAsync {
  return async (api) => {
    protect(api, policy, { realm: "RapidSMS API", send: sendJsonRefusal });
    api.setErrorHandler(jsonErrors);
    api.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no such endpoint: ${request.method} ${request.url.split("?")[0]}` }));
    api.addHook("onSend", async (_request, reply) => void reply.headers({ "cache-control": "no-store", "x-content-type-options": "nosniff" }));

    api.post("/messages", async (request, reply) => {
      const body = parse(schemas().sendMessageBody, request.body, reply);
      if (!body) return reply;
      if (body.group !== undefined) return broadcast(reply, { group: body.group, backend: body.backend, text: body.text, sendAt: body.sendAt });
      const refusal = body.eventUrl === undefined ? undefined : system.pipeline.eventUrlRefusal(body.eventUrl);
      if (refusal) return reply.code(400).send({ error: `invalid request: eventUrl: ${refusal}`, issues: [{ path: "eventUrl", message: refusal }] });
      const wanted = body.connections ?? body.identities!.map((identity) => ({ backend: body.backend!, identity }));
      const unknown = [...new Set(wanted.map((c) => c.backend))].filter((name) => !system.backends.has(name));
      if (unknown.length > 0) {
        return reply.code(400).send({
          error: `backend ${unknown.map((n) => `"${n}"`).join(", ")} is not installed; installed: ${[...system.backends.keys()].join(", ")}`,
        });
      }
      const connections: Connection[] = [];
      for (const [backend, group] of Map.groupBy(
        wanted.map((c, at) => ({ ...c, at })),
        (c) => c.backend,
      )) {
        // What no store can keep, and what this backend cannot send to (a space, for Kannel).
        for (const { identity, at } of group) {
          const reason = system.pipeline.unsendable(backend, identity);
          if (!reason) continue;
          const path = body.connections ? `connections.${at}.identity` : `identities.${at}`;
          return reply.code(400).send({ error: `invalid request: ${path}: ${reason}`, issues: [{ path, message: reason }] });
        }
        connections.push(
          ...(await system.router.lookupConnections(
            backend,
            group.map((c) => c.identity),
          )),
        );
      }
      const msg = await system.router.send(body.text, connections, {
        sendAt: body.sendAt,
        ...(body.eventUrl === undefined ? {} : { eventUrl: body.eventUrl }),
      });
      if (!msg.processed) return reply.code(409).send({ error: "an app's outgoing phase cancelled the message" });
      return reply
        .code(202)
        .header("location", `/api/messages/${msg.id}`)
        .send({ id: msg.id, status: "P", transmissions: msg.connections.length, ...scheduledAt(body.sendAt) });
    });

    const broadcast = async (reply: FastifyReply, args: { group: number | string; backend?: string; text: string; sendAt?: string }) => {
      const sent = await broadcastToGroup(system, args);
      if (sent.refused) return reply.code(REFUSAL_STATUS[sent.refused]).send({ error: sent.message });
      if (sent.ids.length === 0) return reply.code(409).send({ error: "an app's outgoing phase cancelled the message" });
      return reply
        .code(202)
        .header("location", `/api/messages/${sent.ids[0]}`)
        .send({ id: sent.ids[0], status: "P", transmissions: sent.recipients, messages: sent.ids, skipped: sent.skipped, ...scheduledAt(args.sendAt) });
    };

    contactRoutes(api, system);
    optOutRoutes(api, system);
    messageLogRoutes(api, system);

    api.get<{ Params: { id: string } }>("/messages/:id", async (request, reply) => {
      const query = parse(schemas().messageDetailQuery, request.query, reply);
      if (!query) return reply;
      const record = await system.store.getMessageDetail({ id: request.params.id, ...query });
      if (!record) return reply.code(404).send({ error: `no message with id ${request.params.id}` });
      const replies =
        record.direction === "I"
          ? (await system.store.searchMessages({ inResponseTo: record.id, limit: 20, scanLimit: schemas().TEXT_SCAN_LIMIT })).messages
          : [];
      return {
        ...summary(record),
        fields: record.fields,
        replies: replies.reverse().map(summary),
        transmissions: record.transmissions.map((t) => ({ ...transmission(t), attemptLog: t.attemptLog, deliveryReports: t.deliveryReports })),
        nextRecipients: record.nextRecipients,
        forwards: (await system.store.listWebhooks(record.id)).map(shownForward),
      };
    });

    cancelRoute(api, system);

    api.get("/messages", async (request, reply) => {
      const query = parse(schemas().listMessagesQuery, request.query, reply);
      if (!query) return reply;
      const { messages: records, scannedTo } = await system.store.searchMessages({
        ...query,
        status: query.status as MessageRecord["status"],
        limit: query.limit + 1,
        scanLimit: schemas().TEXT_SCAN_LIMIT,
      });
      const page = records.slice(0, query.limit);
      // A text search that stopped at its scan limit goes on from where it stopped.
      return { messages: page.map(summary), next: records.length > query.limit ? page.at(-1)!.id : scannedTo };
    });
  };
}

const REFUSAL_STATUS: Record<BroadcastRefusal["refused"], number> = { "no such group": 404, "no such backend": 400, "nobody to send to": 409 };

/** The OpenAPI document, open to anyone: it describes the API and holds nothing of its data. */
export function openApiRoute(app: FastifyInstance): void {
  // Built when first asked for: it is a fifth of the server's build, and most servers are never asked.
  let document: ReturnType<ReturnType<typeof openApi>["openApiDocument"]> | undefined;
  app.get("/api/openapi.json", async () => (document ??= openApi().openApiDocument()));
}

/** A message as the API lists it: its first 20 recipients (`recipients` counts them all). */
function summary(record: Omit<ListedMessage, "transmissions"> & { transmissions: readonly TransmissionRecord[] }) {
  return {
    id: record.id,
    direction: record.direction,
    status: record.status,
    text: record.text,
    externalId: record.externalId,
    inResponseTo: record.inResponseTo,
    error: record.error,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    sentAt: record.sentAt,
    deliveredAt: record.deliveredAt,
    sendAt: record.sendAt,
    handledBy: record.handledBy,
    processedAt: record.processedAt,
    recipients: record.recipients,
    transmissions: record.transmissions.slice(0, LISTED_TRANSMISSIONS).map(transmission),
  };
}

function transmission(t: TransmissionRecord) {
  return {
    id: t.id,
    backend: t.backend,
    identity: t.identity,
    status: t.status,
    error: t.error,
    attempts: t.attempts,
    nextAttemptAt: t.nextAttemptAt === null ? null : new Date(t.nextAttemptAt).toISOString(),
    externalId: t.externalId,
    segments: t.segments,
    sentAt: t.sentAt,
    deliveredAt: t.deliveredAt,
  };
}
