import type { FastifyInstance } from "fastify";
import type { BackendHealth } from "../backends/backend.ts";
import { storeThread } from "../store/sqlite-thread.ts";
import type { System } from "../system.ts";
import { type AccessPolicy, refuseAccess } from "./access.ts";

/** `GET /healthz`: the store, the queue and the backends' connections; 503 when the store or the queue is unreachable. */
export function healthRoute(app: FastifyInstance, system: System, policy: AccessPolicy): void {
  app.get("/healthz", async (request, reply) => {
    // The reason goes to the log, not to whoever asks: the check answers anyone.
    const check = (part: string, ping: () => Promise<void>) =>
      ping().then(
        () => "ok",
        (error: unknown) => {
          app.log.warn({ err: error }, `health check: the ${part} is unreachable`);
          return "unreachable";
        },
      );
    const thread = storeThread(system.store)?.health();
    const [pinged, queue] = await Promise.all([check("store", () => system.store.ping()), check("queue", () => system.queue.ping())]);
    // A SQLite store whose thread kept dying has given up: the process is about to exit.
    const store = thread?.failed ? "failed" : pinged;
    const ok = store === "ok" && queue === "ok";
    // An embedded system is built web-only; its host may start the workers later (sms.start()).
    const role = system.role === "web" && system.pipeline.running ? "all" : system.role;
    const backends = backendHealth(system, refuseAccess(request, policy, "RapidSMS API") === null);
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? "ok" : "unavailable", role, store, queue, storeRestarts: thread?.restarts ?? 0, ...(backends && { backends }) });
  });
}

/**
 * The connections backends keep to their gateways (SMPP binds), for `/healthz`: their states for
 * anyone (a load balancer, a probe), their counters and problems only for whoever may use the API.
 * Undefined when no backend keeps any. A gateway that is down does not make the process unhealthy:
 * its sends wait and are retried, and the web side goes on taking messages.
 */
function backendHealth(system: System, trusted: boolean): Record<string, Partial<BackendHealth>> | undefined {
  let found: Record<string, Partial<BackendHealth>> | undefined;
  for (const [name, backend] of system.backends) {
    const health = backend.health();
    if (!health) continue;
    found ??= {};
    found[name] = trusted ? health : { status: health.status, connections: health.connections };
  }
  return found;
}
