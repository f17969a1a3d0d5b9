import { BlockList, isIP } from "node:net";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isLoopback, isLoopbackHost } from "../security/addresses.ts";
import { sameSecret } from "../security/secrets.ts";

/** Who may use the protected areas (/api, the message tester), from the configuration. */
export interface AccessPolicy {
  /** With a token, whoever presents it; without one, loopback clients only. */
  readonly token: string | null;
  /** Whether this address is a reverse proxy whose `X-Forwarded-For` is believed. */
  trusted(address: string | undefined): boolean;
  /** Whether a request's `Host` (without its port) names this server. */
  allowedHost(hostname: string): boolean;
  /** Whether a browser page at `origin` may change things here (besides the request's own origin). */
  allowedOrigin(origin: string): boolean;
}

export interface AccessSettings {
  apiToken: string | null;
  host: string;
  publicUrl: string | null;
  allowedHosts: readonly string[];
  trustedProxies: readonly string[];
}

export function accessPolicy(settings: AccessSettings): AccessPolicy {
  const proxies = new BlockList();
  for (const entry of settings.trustedProxies) {
    const [address, bits] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) proxies.addAddress(address, family);
    else proxies.addSubnet(address, Number(bits), family);
  }
  const hosts = new Set(settings.allowedHosts.map((h) => h.toLowerCase()));
  if (!["0.0.0.0", "::", ""].includes(settings.host)) hosts.add(settings.host.toLowerCase());
  const publicOrigin = settings.publicUrl ? new URL(settings.publicUrl).origin : null;
  if (settings.publicUrl) hosts.add(new URL(settings.publicUrl).hostname.toLowerCase());
  return {
    token: settings.apiToken,
    trusted: (address) => {
      if (!address) return false;
      const plain = address.replace(/^::ffff:(?=\d+\.)/i, "");
      return proxies.check(plain, isIP(plain) === 6 ? "ipv6" : "ipv4");
    },
    allowedHost: (hostname) => isLoopbackHost(hostname) || hosts.has(hostname.toLowerCase().replace(/\.$/, "")),
    allowedOrigin: (origin) => origin === publicOrigin || (URL.canParse(origin) && hosts.has(new URL(origin).hostname.toLowerCase())),
  };
}

/** A refused request: the status, the headers (login challenges) and the reason. */
export interface Refusal {
  status: 401 | 403 | 415;
  headers: Record<string, string | string[]>;
  error: string;
}

/**
 * The address a request comes from: the peer's, or for a trusted proxy the one it forwards in
 * `X-Forwarded-For`. Undefined when it cannot be known: forwarding headers from a peer that is not
 * a trusted proxy, or only headers this server does not read (`Forwarded`, `X-Real-IP`).
 */
export function clientAddress(request: FastifyRequest, policy: AccessPolicy): string | undefined {
  const peer = request.socket.remoteAddress;
  const { forwarded, "x-forwarded-for": forwardedFor, "x-real-ip": realIp } = request.headers;
  if (forwarded === undefined && forwardedFor === undefined && realIp === undefined) return peer;
  if (!policy.trusted(peer) || forwarded !== undefined || forwardedFor === undefined) return undefined;
  // From the nearest hop outwards, past every proxy this policy trusts: the first address it does
  // not trust is the client. Worked out here, never taken from request.ip, which follows the
  // trustProxy of whatever Fastify serves the request (a host app's, when RapidSMS is mounted).
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map((hop) => hop.trim())
    .filter((hop) => hop !== "");
  let client = peer;
  while (hops.length > 0 && policy.trusted(client)) client = hops.pop();
  return client;
}

/** The host name a request was sent to, without its port; undefined without a Host header. */
export function requestHostname(request: FastifyRequest): string | undefined {
  const host = request.headers.host;
  if (!host) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(host);
  return (bracketed ? bracketed[1] : host.replace(/:\d*$/, "")).toLowerCase();
}

/**
 * Whether a request may use a protected area. With a token, it must carry it (as a bearer token,
 * or as the password of HTTP Basic, which browsers prompt for). Without one, it must come from
 * loopback (a forwarded request does not, unless a trusted proxy forwarded it from there) and name
 * this server in its Host header, so that a page whose DNS name was rebound to 127.0.0.1 gets nothing.
 */
export function refuseAccess(request: FastifyRequest, policy: AccessPolicy, realm: string): Refusal | null {
  if (policy.token === null) {
    if (!isLoopback(clientAddress(request, policy))) {
      return {
        status: 403,
        headers: {},
        error:
          "only clients on this machine are served until an API token is configured (apiToken or RAPIDSMS_API_TOKEN); behind a reverse proxy, also list it in trustedProxies",
      };
    }
    const hostname = requestHostname(request);
    if (hostname !== undefined && !policy.allowedHost(hostname)) {
      return { status: 403, headers: {}, error: `this server does not answer to the host name "${hostname}": add it to allowedHosts, or set publicUrl` };
    }
    return null;
  }
  if (sameSecret(presentedToken(request) ?? "", policy.token)) return null;
  return {
    status: 401,
    // Two header lines: a browser offers its login prompt for Basic only when Basic has a line of its own.
    headers: { "www-authenticate": [`Bearer realm="${realm}"`, `Basic realm="${realm}", charset="UTF-8"`] },
    error: "missing or wrong API token: send Authorization: Bearer <token> (or the token as the password of HTTP Basic)",
  };
}

function presentedToken(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization ?? "";
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer !== undefined) return bearer;
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (basic === undefined) return undefined;
  const decoded = Buffer.from(basic, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses a request that changes something unless it is JSON from a page of this server (or from
 * no page at all: a script, curl). A page on another site can submit a form or fire a `no-cors`
 * fetch at this server, with the browser's saved credentials; it cannot send JSON without asking
 * first (CORS preflight, never granted here), and browsers name its site in `Origin` and
 * `Sec-Fetch-Site`.
 */
export function refuseCrossSite(request: FastifyRequest, policy: AccessPolicy): Refusal | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") {
    return { status: 403, headers: {}, error: `refused a ${site} request from a browser page: use this server's own pages, or call the API from a script` };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, request) && !policy.allowedOrigin(origin)) {
    return {
      status: 403,
      headers: {},
      error: `refused a request from the page at ${origin}: only this server's own pages may change things here (set publicUrl if it is served under another name)`,
    };
  }
  const type = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  // DELETE and PUT always ask first (neither is a method a form or a no-cors fetch can use); they need no body.
  if ((request.method === "DELETE" || request.method === "PUT") && type === "" && !hasBody(request)) return null;
  if (type !== "application/json") {
    return { status: 415, headers: {}, error: `send the body as application/json (got ${type === "" ? "no content type" : type})` };
  }
  return null;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return (length !== undefined && length !== "0") || request.headers["transfer-encoding"] !== undefined;
}

function sameOrigin(origin: string, request: FastifyRequest): boolean {
  if (!URL.canParse(origin) || !request.headers.host) return false;
  return new URL(origin).host.toLowerCase() === request.headers.host.toLowerCase();
}

export interface ProtectOptions {
  /** Named in the browser's login prompt. */
  realm: string;
  /** How a refusal is written: `{ "error" }` for APIs, plain text for pages. */
  send: (reply: FastifyReply, refusal: Refusal) => FastifyReply;
}

/**
 * Guards every route of an encapsulated scope (a Fastify plugin): the hooks apply to the routes
 * the scope defines, however their URL was written, and to nothing else.
 */
export function protect(scope: FastifyInstance, policy: AccessPolicy, options: ProtectOptions): void {
  scope.addHook("onRequest", async (request, reply) => {
    const refusal = refuseAccess(request, policy, options.realm) ?? refuseCrossSite(request, policy);
    if (refusal) return options.send(reply.code(refusal.status).headers(refusal.headers), refusal);
  });
}

export const sendJsonRefusal = (reply: FastifyReply, refusal: Refusal) => reply.send({ error: refusal.error });
export const sendTextRefusal = (reply: FastifyReply, refusal: Refusal) => reply.type("text/plain; charset=utf-8").send(refusal.error);
