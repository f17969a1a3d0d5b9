import type { FastifyInstance } from "fastify";
import type { System } from "../system.ts";
import { type AccessPolicy, protect, sendTextRefusal } from "./access.ts";

/**
 * `GET /metrics` for Prometheus, with /api's access rule (the API token as a Bearer token, or
 * loopback clients when no token is set). Not there when `metrics` is false (404).
 */
export async function metricsRoute(app: FastifyInstance, system: System, policy: AccessPolicy): Promise<void> {
  if (!system.metrics.enabled) return;
  await app.register(async (scope) => {
    protect(scope, policy, { realm: "RapidSMS metrics", send: sendTextRefusal });
    scope.get("/metrics", async (_request, reply) => {
      const { contentType, body } = await system.metrics.render();
      return reply.type(contentType).header("cache-control", "no-store").send(body);
    });
  });
}
