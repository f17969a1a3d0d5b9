import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";

export interface Refusal {
  status: 401 | 403;
  headers: Record<string, string>;
  error: string;
}

/**
 * Who may use /api and /tester: with a token configured, whoever presents it (as a bearer
 * token, or as the password of HTTP Basic, which browsers can prompt for); without one, only
 * clients on loopback.
 */
export function refuseAccess(request: FastifyRequest, token: string | null, realm: string): Refusal | null {
  if (token === null) {
    if (isLoopback(request.socket.remoteAddress)) return null;
    return { status: 403, headers: {}, error: "only loopback clients are served until an API token is configured (apiToken or RAPIDSMS_API_TOKEN)" };
  }
  const authorization = request.headers.authorization ?? "";
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1];
  const basic = /^Basic\s+(.+)$/i.exec(authorization)?.[1];
  const password = basic ? Buffer.from(basic, "base64").toString("utf8").split(":").slice(1).join(":") : undefined;
  if (sameSecret(bearer ?? password ?? "", token)) return null;
  return {
    status: 401,
    headers: { "www-authenticate": `Bearer, Basic realm="${realm}"` },
    error: "missing or wrong API token: send Authorization: Bearer <token> (or the token as the Basic password)",
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function isLoopback(address: string | undefined): boolean {
  return !!address && (address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127."));
}
