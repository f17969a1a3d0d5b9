import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { createServer } from "../server/server.ts";
import { DEFAULT_SERVER_LIMITS } from "../server/limits.ts";
import { closeWith, type RapidSms } from "./rapidsms.ts";
import { type AsViewOptions, belowPrefix, normalPrefix, queryOf, viewApp } from "./view.ts";

export interface FetchInfo {
  /**
   * The client's address, as the host's server knows it (Hono on Node: `c.env.incoming.socket.remoteAddress`).
   * Without it the client counts as remote: `/api` and the tester then need the API token.
   */
  remoteAddress?: string;
}

export type FetchHandler = (request: Request, info?: FetchInfo) => Promise<Response>;

export interface FetchHandlerOptions {
  /** Where the routes live in the host's URL space (`/sms`): stripped before routing. Default: none. */
  prefix?: string;
}

/** An address that is no client's: a request whose client is unknown is never taken for a local one. */
const UNKNOWN_CLIENT = "192.0.2.1";

/**
 * RapidSMS's routes as a web-standard handler, for Hono and any fetch-style server:
 * `app.all("/sms/*", (c) => handler(c.req.raw, { remoteAddress }))`. Bodies are read up to the
 * server's body limit (a bigger one is a 413 before it is all read).
 */
export async function fetchHandler(rapidsms: RapidSms, options: FetchHandlerOptions = {}): Promise<FetchHandler> {
  const app = await createServer(rapidsms.system, { logger: rapidsms.logger });
  await app.ready();
  closeWith(rapidsms, () => app.close());
  const prefix = normalPrefix(options.prefix);
  return async (request, info = {}) => {
    const url = new URL(request.url);
    const below = belowPrefix(`${url.pathname}${url.search}`, prefix);
    if (below === undefined) return new Response(`no such endpoint: ${url.pathname}`, { status: 404 });
    // Answers here are whole before they are passed on, and an event stream never ends.
    if (rapidsms.system.config.tester && /^\/tester\/api\/events\/?(\?|$)/.test(below))
      return new Response("the tester's live updates need a streaming mount (rapidsms-ts/node, /express or /fastify); the page polls instead", {
        status: 501,
      });
    return injected(app, request, below, info.remoteAddress ?? UNKNOWN_CLIENT);
  };
}

/** `request` answered by `app` at `url`: its body read up to the limit (past it, a 413), from `remoteAddress`. */
async function injected(app: FastifyInstance, request: Request, url: string, remoteAddress: string): Promise<Response> {
  const body = await readBody(request, DEFAULT_SERVER_LIMITS.bodyBytes);
  if (body === "too large") return new Response(`the body is larger than ${DEFAULT_SERVER_LIMITS.bodyBytes} bytes`, { status: 413 });
  const answer = await app.inject({ method: request.method as "GET", url, headers: Object.fromEntries(request.headers), payload: body, remoteAddress });
  return toResponse(request, answer);
}

/** Fastify's answer to `request` as a web Response. */
function toResponse(request: Request, answer: LightMyRequestResponse): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined || name === "content-length" || name === "transfer-encoding" || name === "connection") continue;
    for (const one of Array.isArray(value) ? value : [String(value)]) headers.append(name, one);
  }
  const empty = request.method === "HEAD" || answer.statusCode === 204 || answer.statusCode === 304;
  return new Response(empty ? null : new Uint8Array(answer.rawPayload), { status: answer.statusCode, headers });
}

async function readBody(request: Request, limit: number): Promise<Buffer | undefined | "too large"> {
  if (!request.body) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    // Leaving the loop cancels the stream: the rest is never read.
    if (size > limit) return "too large";
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * One backend's view as a fetch handler, to mount at any path: every request it gets goes to that
 * view (`app.all("/incoming/sms", (c) => view(c.req.raw))`), as RapidSMS's `View.as_view(backend_name=…)`.
 */
export async function asView(rapidsms: RapidSms, options: AsViewOptions): Promise<(request: Request) => Promise<Response>> {
  const app = await viewApp(rapidsms, options);
  return (request) => injected(app, request, `/${queryOf(request.url)}`, UNKNOWN_CLIENT);
}

export { createRapidSms, type RapidSms } from "./rapidsms.ts";
export type { AsViewOptions } from "./view.ts";
