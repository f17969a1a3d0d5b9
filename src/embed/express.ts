import { type NodeHandler, nodeHandler } from "./node.ts";
import type { RapidSms } from "./rapidsms.ts";

/**
 * RapidSMS's routes as Express middleware: `app.use("/sms", await expressRouter(rapidsms))` serves
 * `/sms/backend/<name>/`, `/sms/api/…`, `/sms/tester/` (when configured) and `/sms/healthz`.
 * Express strips the mount path itself. Mount it before any body parser (`express.json()`,
 * `express.urlencoded()`): it reads the bodies itself, strictly in their charset.
 */
export function expressRouter(rapidsms: RapidSms): Promise<NodeHandler> {
  return nodeHandler(rapidsms);
}

export { createRapidSms, type RapidSms } from "./rapidsms.ts";
