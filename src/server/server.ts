import formBody from "@fastify/formbody";
import Fastify, {
  LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { BackendView } from "../backends/view.ts";
import type { System } from "../system.ts";
import { apiRoutes } from "./api.ts";
import { testerRoutes } from "./tester/routes.ts";

/** The inbound URL prefixes: `/backend/<name>/` by convention; the RapidSMS docs also use `/backends/`. */
export const BACKEND_PREFIXES = ["/backend", "/backends"] as const;

const VIEW_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** The HTTP server: every installed backend's views, /api, the message tester, and the health check. */
export async function createServer(system: System, logger?: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger | undefined,
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
  });
  await app.register(formBody);
  // Some gateways (RapidSMS's own Vumi tests among them) label JSON as text/json.
  app.addContentTypeParser("text/json", { parseAs: "string" }, app.getDefaultJsonParser("error", "ignore"));
  // Vumi's RapidSMS relay POSTs its JSON without a Content-Type: hand the raw text to the view.
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const message =
      status === 500 ? "internal error: the request was not accepted; try again later" : `bad request: ${error.message}`;
    if (status === 500) request.log.error({ err: error, url: request.url }, "request failed");
    reply.code(status);
    return request.url.startsWith("/api/") ? reply.send({ error: message }) : reply.type("text/plain; charset=utf-8").send(message);
  });

  for (const [name, backend] of system.router.backends) {
    for (const view of backend.views()) {
      for (const prefix of BACKEND_PREFIXES) {
        app.route({ method: [...VIEW_METHODS], url: `${prefix}/${name}/${view.path}`, handler: viewHandler(view) });
      }
    }
  }

  await apiRoutes(app, system, { token: system.config.apiToken });
  if (system.config.tester) await testerRoutes(app, system, { backend: system.config.tester.backend, token: system.config.apiToken });

  app.get("/healthz", async (_request, reply) => {
    const check = (ping: () => Promise<void>) => ping().then(() => "ok", (error: Error) => `unreachable: ${error.message}`);
    const [store, queue] = await Promise.all([check(() => system.store.ping()), check(() => system.queue.ping())]);
    const ok = store === "ok" && queue === "ok";
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ok" : "unavailable", role: system.role, store, queue });
  });

  return app;
}

function viewHandler(view: BackendView) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const response = await view.handle({
      method: request.method,
      url: request.url,
      query: request.query as Record<string, unknown>,
      body: request.body,
      headers: request.headers,
    });
    reply.code(response.status);
    if (response.headers) reply.headers(response.headers);
    if (response.contentType) reply.type(response.contentType);
    return reply.send(response.body);
  };
}
