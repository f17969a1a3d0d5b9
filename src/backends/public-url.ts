import type { BackendPort } from "./port.ts";
import type { ViewRequest } from "./view.ts";

/**
 * The URL a gateway called, as the gateway wrote it: on the backend's `publicUrl` when one is set
 * (behind a proxy the server does not see the URL the gateway called), else on the scheme and
 * host this server was reached at. Gateways that sign the URL (Twilio, Telerivet) are checked
 * against it.
 */
export function calledUrl(port: Pick<BackendPort, "publicUrl">, request: Pick<ViewRequest, "url" | "origin">): string {
  return `${port.publicUrl ?? request.origin ?? "http://localhost"}${request.url}`;
}

/**
 * The public URL of one of this backend's views (`""` inbound, `"status/"` reports), to hand a
 * gateway as a callback; undefined when no `publicUrl` is configured (the server cannot know how
 * the world reaches it).
 */
export function viewUrl(port: Pick<BackendPort, "publicUrl" | "name">, path: string): string | undefined {
  return port.publicUrl ? `${port.publicUrl}/backend/${encodeURIComponent(port.name)}/${path}` : undefined;
}
