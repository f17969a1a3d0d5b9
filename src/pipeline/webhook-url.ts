import { internalAddress } from "./webhook-address.ts";

/** The longest webhook URL taken: longer ones are refused, with the limit. */
export const MAX_WEBHOOK_URL = 2048;

/**
 * Why `raw` cannot be a URL status events are POSTed to, or undefined: http(s) only, 2 KiB at most,
 * no credentials in it, and a host of `allowedHosts` when that is set (an entry starting with a
 * dot allows its subdomains; `host:port` only that port). Without `allowedHosts`, a host that is an
 * internal address (loopback, private, link-local, …) or `localhost` is refused: whoever may call
 * the API could otherwise make this server POST into networks only it reaches (SSRF). Names are
 * checked again when connecting (see publicOnlyLookup).
 */
export function unfitEventUrl(raw: string, allowedHosts: readonly string[] | null): string | undefined {
  if (raw.length > MAX_WEBHOOK_URL) return `is ${raw.length} characters long; ${MAX_WEBHOOK_URL} at most`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL: give an absolute http:// or https:// URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `has the scheme ${url.protocol.slice(0, -1)}; only http and https are POSTed to`;
  if (url.username || url.password) return "has credentials in it, which would be stored and shown: check the signature headers instead";
  const host = bareHost(url.hostname);
  if (allowedHosts) {
    if (hostAllowed(url, allowedHosts)) return undefined;
    return `has the host ${url.host}, which webhooks.allowedHosts does not list: add it there (host or host:port), or use one of ${allowedHosts.join(", ")}`;
  }
  if (internalAddress(host) || host === "localhost" || host.endsWith(".localhost")) {
    return `has the host ${url.host}, a loopback, private or link-local address, which an eventUrl may not reach unless webhooks.allowedHosts lists it: add "${url.host}" there if this server may POST to it`;
  }
  return undefined;
}

function bareHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
}

/** `host`, `.domain` (its subdomains too), `[v6]` or a bare v6 address, each with `:port` or not (then any port). */
function parseEntry(entry: string): { host: string; port: string | null } {
  const text = entry.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] ?? null };
  const withPort = /^([^:]+):(\d+)$/.exec(text);
  if (withPort) return { host: withPort[1], port: withPort[2] };
  return { host: text, port: null };
}

function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = bareHost(url.hostname);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return allowed.some((entry) => {
    const { host: name, port: only } = parseEntry(entry);
    if (only !== null && String(Number(only)) !== port) return false;
    const bare = name.replace(/\.$/, "");
    return bare.startsWith(".") ? host.endsWith(bare) || host === bare.slice(1) : host === bare;
  });
}

/**
 * A URL as people may see it (the API, logs): scheme, host, port and the first segment of the
 * path, every later segment as `…`. Tokens hide in queries and in paths alike (Slack's
 * /services/T0/B0/SECRET): which segment is secret cannot be told, the first rarely is, and the
 * number of segments still tells two URLs of one receiver apart.
 */
export function shownUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const path = url.pathname
      .split("/")
      .map((segment, i) => (i >= 2 && segment !== "" ? "…" : segment))
      .join("/");
    return `${url.origin}${path}${url.search ? "?…" : ""}`;
  } catch {
    return "(not a URL)";
  }
}
