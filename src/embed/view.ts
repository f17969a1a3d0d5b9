import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { backendViewRoute } from "../server/server.ts";
import { closeWith, type RapidSms } from "./rapidsms.ts";
import { zodOnlySchemas } from "../server/zod-only-schemas.ts";

export interface AsViewOptions {
  /** The installed backend whose view this is, as RapidSMS's `as_view(backend_name=…)`. */
  backendName: string;
  /** The view's path under `/backend/<name>/`: `""` (the default) for inbound messages, `"status/"` for Kannel's reports. */
  view?: string;
}

/** A small Fastify app that serves one backend's view at `/`, whatever URL the host mounted it at. */
export async function viewApp(rapidsms: RapidSms, options: AsViewOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: rapidsms.logger as FastifyBaseLogger,
    routerOptions: { ignoreTrailingSlash: true },
    exposeHeadRoutes: false,
    schemaController: zodOnlySchemas,
  });
  await app.register(backendViewRoute, { system: rapidsms.system, backendName: options.backendName, view: options.view });
  await app.ready();
  closeWith(rapidsms, () => app.close());
  return app;
}

/** What is left of `url` (a path, and maybe a query) below `prefix`, always from a "/", or undefined outside it. */
export function belowPrefix(url: string, prefix: string): string | undefined {
  if (prefix === "") return url;
  if (url !== prefix && !url.startsWith(`${prefix}/`) && !url.startsWith(`${prefix}?`)) return undefined;
  const rest = url.slice(prefix.length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/** A mount's prefix as given (`/sms/`, `/sms`, none) in the one form `belowPrefix` takes. */
export function normalPrefix(prefix: string | undefined): string {
  return (prefix ?? "").replace(/\/+$/, "");
}

/** The query of a request's URL (`?a=1`), or "": the view is at `/` of its own app. */
export function queryOf(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at);
}
