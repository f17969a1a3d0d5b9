import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { BackendView } from "../backends/view.ts";
import { ConfigError } from "../errors.ts";
import type { System } from "../system.ts";
import { accessPolicy, protect, sendJsonRefusal, sendTextRefusal } from "./access.ts";
import { apiPlugin, openApiRoute } from "./api.ts";
import { messageLogPages } from "./message-log/message-log.ts";
import { parseUrlencoded, UndecodableError } from "../http/urlencoded.ts";
import { inboundErrors, jsonErrors, textErrors } from "./errors.ts";
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from "./limits.ts";
import type { PagesContext } from "../backends/port.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { metricsRoute } from "./metrics.ts";
import { healthRoute } from "./health.ts";
import { zodOnlySchemas } from "./zod-only-schemas.ts";

/** The inbound URL prefixes: `/backend/<name>/` by convention; the RapidSMS docs also use `/backends/`. */
export const BACKEND_PREFIXES = ["/backend", "/backends"] as const;

const VIEW_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export interface ServerOptions {
  logger?: Logger;
  limits?: Partial<ServerLimits>;
  /** `false` leaves the message tester out even when the config has it. */
  tester?: boolean;
}

/**
 * The HTTP server: every installed backend's views, /api, the message tester, and the health
 * check (see `rapidsmsRoutes`), with the server's own limits.
 */
export async function createServer(system: System, options: ServerOptions = {}): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const policy = accessPolicy(system.config);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    schemaController: zodOnlySchemas,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: limits.bodyBytes,
    trustProxy: (address: string) => policy.trusted(address),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node looks for requests past their time (its default is every 30 s).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, limits.headersTimeoutMs / 4)),
    },
  });
  app.server.maxConnections = limits.maxConnections;
  await app.register(rapidsmsRoutes, { system, limits, tester: options.tester });
  return app;
}

export interface RapidSmsRoutesOptions {
  system: System;
  limits?: Partial<ServerLimits>;
  /** `false` leaves the message tester out even when the config has it. */
  tester?: boolean;
}

/**
 * Every route RapidSMS serves, as a Fastify plugin that a host app registers under any prefix:
 * the backends' views (`/backend/<name>/…`), `/api`, the message tester (when configured) and
 * `/healthz`. Its body parsers and error handlers stay inside it (Fastify encapsulation), so the
 * host's own routes are untouched.
 */
export const rapidsmsRoutes: FastifyPluginAsync<RapidSmsRoutesOptions> = async (app, { system, limits: given, tester = true }) => {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...given };
  const policy = accessPolicy(system.config);
  inboundParsing(app, limits);

  for (const [name, backend] of system.backends) {
    for (const view of backend.views()) {
      for (const prefix of BACKEND_PREFIXES) {
        app.route({ method: [...VIEW_METHODS], url: `${prefix}/${name}/${view.path}`, handler: viewHandler(view, app.prefix, counted(system, name)) });
      }
    }
  }
  // The config's own URLs for views, as RapidSMS's urls.py gives them.
  for (const [url, { backend: name, view: path }] of Object.entries(system.config.urls)) {
    const view = findView(system, name, path);
    app.route({ method: [...VIEW_METHODS], url, handler: viewHandler(view, app.prefix, counted(system, name)) });
  }
  if (system.config.api) {
    openApiRoute(app);
    await app.register(apiPlugin(system, policy), { prefix: "/api" });
    await app.register(messageLogPages(policy), { prefix: "/messages" });
  }
  if (system.config.tester && tester) {
    const context: PagesContext = {
      maxStreams: limits.testerStreams,
      protect(scope, { realm, errors }) {
        protect(scope, policy, { realm, send: errors === "json" ? sendJsonRefusal : sendTextRefusal });
        scope.setErrorHandler(errors === "json" ? jsonErrors : textErrors);
      },
    };
    const pages = system.backends.get(system.config.tester.backend)?.pages(context);
    if (pages) await app.register(pages, { prefix: "/tester" });
  }

  await metricsRoute(app, system, policy);

  healthRoute(app, system, policy);
};

/**
 * How RapidSMS's routes read requests, in one Fastify scope: form bodies decoded strictly in
 * their charset, JSON (also as text/json), anything else as text, each within the body limit, and
 * errors as a form's. Mounted in a host's app, none of the host's parsers or limits apply here
 * (a scope inherits its parent's: they are replaced), and the host's routes keep theirs.
 */
export function inboundParsing(app: FastifyInstance, limits: ServerLimits): void {
  // Every route of the scope, the plugins' within it too, gets the limit: one place for it.
  app.addHook("onRoute", (route) => {
    route.bodyLimit ??= limits.bodyBytes;
  });
  app.removeAllContentTypeParsers();
  const json = app.getDefaultJsonParser("error", "ignore");
  const jsonKeepingRaw = (request: FastifyRequest, body: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
    keepRaw(request, body);
    json(request, body as string, done);
  };
  app.addContentTypeParser("application/json", { parseAs: "string" }, jsonKeepingRaw);
  app.addContentTypeParser("text/plain", { parseAs: "string" }, (request, body, done) => done(null, keepRaw(request, body)));
  // Form bodies decoded strictly in their declared charset: read exactly, or refused with the field.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "buffer" }, (request, body, done) => {
    const charset = /;\s*charset="?([^";]+)"?/i.exec(String(request.headers["content-type"]))?.[1] ?? "utf-8";
    keepRaw(request, body);
    try {
      done(null, parseUrlencoded(body as Buffer, charset));
    } catch (error) {
      const refusal = error instanceof UndecodableError ? `${error.field}: ${error.message}` : `unknown charset "${charset}": send UTF-8`;
      done(Object.assign(new Error(refusal), { statusCode: error instanceof UndecodableError ? 400 : 415 }));
    }
  });
  // Some gateways (RapidSMS's own Vumi tests among them) label JSON as text/json.
  app.addContentTypeParser("text/json", { parseAs: "string" }, jsonKeepingRaw);
  // Vumi's RapidSMS relay POSTs its JSON without a Content-Type: hand the raw text to the view.
  app.addContentTypeParser("*", { parseAs: "string" }, (request, body, done) => done(null, keepRaw(request, body)));
  app.setErrorHandler(inboundErrors);
}

/** One backend's view at the root of its scope (see `asView` in rapidsms-ts/express, /node, /fetch, /fastify). */
export const backendViewRoute: FastifyPluginAsync<{ system: System; backendName: string; view?: string }> = async (app, { system, backendName, view }) => {
  inboundParsing(app, DEFAULT_SERVER_LIMITS);
  const found = findView(system, backendName, view);
  app.route({ method: [...VIEW_METHODS], url: "/", handler: viewHandler(found, "", counted(system, backendName)) });
};

/** The view of backend `name` at `path` under `/backend/<name>/`; a ConfigError naming the ones there are when none is. */
export function findView(system: System, name: string, path = ""): BackendView {
  const backend = system.backends.get(name);
  if (!backend) throw new ConfigError(system.pipeline.notInstalled(name)!);
  const views = backend.views();
  const view = views.find((v) => v.path === path);
  if (!view) throw new ConfigError(`backend "${name}" has no view "${path}"; its views: ${views.map((v) => `"${v.path}"`).join(", ")}`);
  return view;
}

/** Where a parser leaves the body as it came, for views that check signatures over it. */
const RAW_BODY = Symbol("raw body");

type WithRawBody = FastifyRequest & { [RAW_BODY]?: string | Buffer };

function keepRaw<Body extends string | Buffer>(request: FastifyRequest, body: Body): Body {
  (request as WithRawBody)[RAW_BODY] = body;
  return body;
}

/** Where a view's refusals are counted: the system's metrics, under the backend's name. */
interface Counted {
  metrics: Metrics;
  backend: string;
}

const counted = (system: System, backend: string): Counted => ({ metrics: system.metrics, backend });

/**
 * `mountedAt`: the prefix a host registered RapidSMS's routes under ("" at the root), for the URL
 * gateways called (see calledUrl). A view's 400 is counted as an invalid request, its 401 and 403
 * (a bad token or signature) as refused; what it accepted, the backend's port counts.
 */
function viewHandler(view: BackendView, mountedAt: string, { metrics, backend }: Counted) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = (request as WithRawBody)[RAW_BODY];
    const response = await view.handle({
      method: request.method,
      url: request.url,
      query: request.query as Record<string, unknown>,
      body: request.body,
      headers: request.headers,
      mountedAt,
      // Decoded only for the views that read it (signature checks).
      get rawBody() {
        return Buffer.isBuffer(raw) ? raw.toString("utf8") : raw;
      },
      get origin() {
        return `${request.protocol}://${request.host}`;
      },
    });
    if (response.status === 400) metrics.inbound(backend, "invalid");
    else if (response.status === 401 || response.status === 403) metrics.inbound(backend, "refused");
    reply.code(response.status);
    if (response.headers) reply.headers(response.headers);
    if (response.contentType) reply.type(response.contentType);
    return reply.send(response.body);
  };
}
