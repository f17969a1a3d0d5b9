import type { FastifyPluginAsync } from "fastify";
import { backendViewRoute, rapidsmsRoutes } from "../server/server.ts";
import type { RapidSms } from "./rapidsms.ts";
import type { AsViewOptions } from "./view.ts";

export interface RapidSmsPluginOptions {
  rapidsms: RapidSms;
}

/**
 * RapidSMS's routes in a host's Fastify app: `app.register(rapidsmsPlugin, { rapidsms, prefix: "/sms" })`
 * serves `/sms/backend/<name>/`, `/sms/api/…`, `/sms/tester/` (when configured) and `/sms/healthz`.
 * Its parsers and error handlers stay inside it; the host's server limits and `trustProxy` apply.
 */
export const rapidsmsPlugin: FastifyPluginAsync<RapidSmsPluginOptions> = async (app, { rapidsms }) => {
  await app.register(rapidsmsRoutes, { system: rapidsms.system });
};

/**
 * One backend's view as a plugin, served at the prefix it is registered with:
 * `app.register(asView(sms, { backendName: "mybackend" }), { prefix: "/backends/mybackend" })`,
 * as RapidSMS's `url(r'^backends/mybackend/$', View.as_view(backend_name='mybackend'))`.
 */
export function asView(rapidsms: RapidSms, options: AsViewOptions): FastifyPluginAsync {
  return async (app) => {
    await app.register(backendViewRoute, { system: rapidsms.system, backendName: options.backendName, view: options.view });
  };
}

export { createRapidSms, type RapidSms } from "./rapidsms.ts";
export type { AsViewOptions } from "./view.ts";
