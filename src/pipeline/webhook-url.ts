/** The longest webhook URL taken: longer ones are refused, with the limit. */
export const MAX_WEBHOOK_URL = 2048;

/**
 * Why `raw` cannot be a URL status events are POSTed to, or undefined: http(s) only, 2 KiB at most,
 * no credentials in it, and a host of `allowedHosts` when that is set (an entry starting with a
 * dot allows its subdomains). Whoever may call the API could otherwise make this server POST into
 * networks only it reaches (SSRF).
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
  if (allowedHosts && !hostAllowed(url.hostname, allowedHosts)) {
    return `has the host ${url.hostname}, which webhooks.allowedHosts does not list: add it there, or use one of ${allowedHosts.join(", ")}`;
  }
  return undefined;
}

function hostAllowed(hostname: string, allowed: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return allowed.some((entry) => {
    const name = entry.toLowerCase();
    return name.startsWith(".") ? host.endsWith(name) || host === name.slice(1) : host === name;
  });
}

/** A URL as people may see it (the API, logs): without credentials, query or fragment, which may hold secrets. */
export function shownUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}${url.search ? "?…" : ""}`;
  } catch {
    return "(not a URL)";
  }
}
