import type { BackendPort } from "./port.ts";
import type { ViewRequest } from "./view.ts";

/**
 * The URL a gateway called, as the gateway wrote it: on the backend's `publicUrl` when one is set
 * (behind a proxy the server does not see the URL the gateway called), else on the scheme and
 * host this server was reached at. Gateways that sign the URL (Twilio, Telerivet) are checked
 * against it.
 */
export function calledUrl(port: Pick<BackendPort, "publicUrl">, request: Pick<ViewRequest, "url" | "origin" | "mountedAt">): string | undefined {
  const mount = request.mountedAt ?? "";
  // On publicUrl, the path below where RapidSMS's routes are mounted in a host app (publicUrl names that place).
  const below = mount !== "" && request.url.startsWith(mount) ? request.url.slice(mount.length) : request.url;
  const url = port.publicUrl ? `${port.publicUrl}${below}` : `${request.origin ?? "http://localhost"}${request.url}`;
  try {
    new URL(url);
    return url;
  } catch {
    return undefined;
  }
}

/**
 * The public URL of one of this backend's views (`""` inbound, `"status/"` reports), to hand a
 * gateway as a callback; undefined when no `publicUrl` is configured (the server cannot know how
 * the world reaches it).
 */
export function viewUrl(port: Pick<BackendPort, "publicUrl" | "name">, path: string, options: { token?: string | null } = {}): string | undefined {
  if (!port.publicUrl) return undefined;
  const url = `${port.publicUrl}/backend/${encodeURIComponent(port.name)}/${path}`;
  // The inbound token, for gateways that call back a URL we give them (see inbound-token.ts).
  return options.token ? `${url}?${new URLSearchParams({ token: options.token })}` : url;
}
