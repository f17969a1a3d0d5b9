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

/**
 * One backend's view, to mount at any path: `app.all("/incoming/sms", await asView(sms, { backendName: "mybackend" }))`,
 * as RapidSMS's `View.as_view(backend_name='mybackend')`. Before any body parser, as `expressRouter`.
 */
export { asView } from "./node.ts";
export { createRapidSms, type RapidSms } from "./rapidsms.ts";
export type { AsViewOptions } from "./view.ts";
