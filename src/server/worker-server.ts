import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { System } from "../system.ts";
import { accessPolicy } from "./access.ts";
import { healthRoute } from "./health.ts";
import { metricsRoute } from "./metrics.ts";
import { zodOnlySchemas } from "./zod-only-schemas.ts";

/**
 * A worker's own small listener (`rapidsms start --role worker --metrics-port N`): its workers
 * send, so its counters are its own, and Prometheus scrapes each process. `/metrics` and
 * `/healthz` only, with the same access rule as the web server's.
 */
export async function createWorkerServer(system: System, logger?: Logger): Promise<FastifyInstance> {
  const policy = accessPolicy(system.config);
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger | undefined,
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    schemaController: zodOnlySchemas,
    bodyLimit: 1_024,
    trustProxy: (address: string) => policy.trusted(address),
    requestTimeout: 10_000,
    connectionTimeout: 10_000,
  });
  app.server.maxConnections = 64;
  await metricsRoute(app, system, policy);
  healthRoute(app, system, policy);
  return app;
}
