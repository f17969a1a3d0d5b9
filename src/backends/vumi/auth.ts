import { sameSecret } from "../../security/secrets.ts";
import { textResponse, type ViewRequest, type ViewResponse } from "../view.ts";

export interface InboundCredentials {
  inboundUser: string | null;
  inboundPass: string | null;
  inboundToken: string | null;
}

/** Answers the 401 for a request without the backend's inbound credentials; undefined lets it through. */
export type InboundGuard = (request: ViewRequest) => ViewResponse | undefined;

/**
 * With `inboundUser`/`inboundPass`, requests must carry them as HTTP Basic; with `inboundToken`,
 * as `Authorization: Bearer <token>`, `Authorization: Token <token>` (Junebug's `event_auth_token`)
 * or `?token=<token>`; with both, either will do. Secrets are compared with `sameSecret`, so
 * neither their content nor their length leaks.
 */
export function inboundGuard({ inboundUser, inboundPass, inboundToken }: InboundCredentials): InboundGuard {
  const basic = inboundUser !== null && inboundPass !== null ? `${inboundUser}:${inboundPass}` : undefined;
  const token = inboundToken ?? undefined;
  if (!basic && !token) return () => undefined;
  const challenges = [basic && 'Basic realm="rapidsms"', token && 'Bearer realm="rapidsms"'].filter((c): c is string => !!c);
  const how = [
    basic && "HTTP Basic with the backend's inboundUser and inboundPass",
    token && "the backend's inboundToken as Authorization: Bearer <token> (or Token <token>) or as ?token=<token>",
  ]
    .filter(Boolean)
    .join(", or ");
  return (request) => {
    const authorization = String(lastValue(request.headers?.authorization) ?? "");
    const presentedBasic = /^Basic\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (basic && presentedBasic !== undefined && sameSecret(Buffer.from(presentedBasic, "base64").toString("utf8"), basic)) return undefined;
    const presentedToken = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? lastValue(request.query.token);
    if (token && typeof presentedToken === "string" && sameSecret(presentedToken, token)) return undefined;
    return { ...textResponse(401, `missing or wrong credentials: send ${how}`), headers: { "www-authenticate": challenges } };
  };
}

function lastValue(value: unknown): unknown {
  return Array.isArray(value) ? value.at(-1) : value;
}
