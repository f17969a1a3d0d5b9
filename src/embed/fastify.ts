import type { FastifyPluginAsync } from "fastify";
import { rapidsmsRoutes } from "../server/server.ts";
import type { RapidSms } from "./rapidsms.ts";

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

export { createRapidSms, type RapidSms } from "./rapidsms.ts";
