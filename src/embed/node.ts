import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "../server/server.ts";
import { closeWith, type RapidSms } from "./rapidsms.ts";
import { type AsViewOptions, belowPrefix, normalPrefix, queryOf, viewApp } from "./view.ts";

export type NodeHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void;

export interface NodeHandlerOptions {
  /** Where the routes live in the host's URL space (`/sms`): stripped before routing. Default: none. */
  prefix?: string;
}

/**
 * RapidSMS's routes as a `node:http` request listener: `http.createServer(await nodeHandler(rapidsms))`.
 * It reads the request's body itself, so it must get the request before any body parser.
 * A request outside `prefix` is passed to `next` when given (middleware), else answered 404.
 */
export async function nodeHandler(rapidsms: RapidSms, options: NodeHandlerOptions = {}): Promise<NodeHandler> {
  const app = await createServer(rapidsms.system, { logger: rapidsms.logger });
  await app.ready();
  closeWith(rapidsms, () => app.close());
  const prefix = normalPrefix(options.prefix);
  return (request, response, next) => {
    const url = request.url ?? "/";
    const below = belowPrefix(url, prefix);
    if (below === undefined) {
      if (next) return next();
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end(`no such endpoint: ${url.split("?")[0]}`);
      return;
    }
    request.url = below;
    if (bodyAlreadyRead(request, response)) return;
    app.routing(request, response);
  };
}

/**
 * One backend's view as a request listener, to mount at any path of the host, as RapidSMS's
 * `url(r'^backends/mybackend/$', View.as_view(backend_name='mybackend'))`: every request it gets
 * goes to that view. `createServer(await asView(sms, { backendName: "mybackend" }))`.
 */
export async function asView(rapidsms: RapidSms, options: AsViewOptions): Promise<NodeHandler> {
  const app = await viewApp(rapidsms, options);
  return (request, response) => {
    request.url = `/${queryOf(request.url ?? "")}`;
    if (bodyAlreadyRead(request, response)) return;
    app.routing(request, response);
  };
}

/**
 * A host's body parser that ran before the mount has read the body: RapidSMS would wait for it
 * for ever. Answered at once with what to change.
 */
function bodyAlreadyRead(request: IncomingMessage, response: ServerResponse): boolean {
  const parsed = (request as { body?: unknown }).body !== undefined;
  const hasBody = request.headers["content-length"] !== undefined || request.headers["transfer-encoding"] !== undefined;
  if (!parsed && !(request.readableEnded && hasBody)) return false;
  response
    .writeHead(500, { "content-type": "text/plain; charset=utf-8" })
    .end(
      "internal error: a body parser of the host read this request before RapidSMS could: mount RapidSMS before express.json(), express.urlencoded() and the like",
    );
  return true;
}

export { createRapidSms, type RapidSms } from "./rapidsms.ts";
export type { AsViewOptions } from "./view.ts";
