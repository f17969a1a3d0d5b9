/**
 * Inbound views are plain objects, independent of the web framework: the server adapts fastify
 * requests to `ViewRequest`, and the same view can be mounted in any other Node web app.
 */
export interface ViewRequest {
  method: string;
  /** The path and query as received, undecoded (some gateways send bytes that only the raw form keeps). */
  url: string;
  query: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  /** The body as it came, before parsing (UTF-8 text): what HMAC signatures over the body are computed on. */
  rawBody?: string;
  /** Where RapidSMS's routes are mounted in a host app (`/sms`), or "" at the root: `url` begins with it. */
  mountedAt?: string;
  /** `scheme://host[:port]` as this server was called (through trusted proxies' `X-Forwarded-*`): for signatures over the URL when no publicUrl is set. */
  origin?: string;
}

export interface ViewResponse {
  status: number;
  body: string;
  contentType?: string;
  /** A list gives one header line per value (several login challenges, say). */
  headers?: Record<string, string | string[]>;
}

export interface BackendView {
  /** Below `/backend/<name>/`: "" for the inbound endpoint, e.g. "status/" for delivery reports. */
  readonly path: string;
  handle(request: ViewRequest): Promise<ViewResponse>;
}

export function textResponse(status: number, body: string): ViewResponse {
  return { status, body, contentType: "text/plain; charset=utf-8" };
}

/** The 405 for a request whose method `allowed` (upper case) does not name, with the `Allow` header; undefined when it does. */
export function wrongMethod(request: Pick<ViewRequest, "method">, allowed: readonly string[]): ViewResponse | undefined {
  if (allowed.includes(request.method.toUpperCase())) return undefined;
  return { ...textResponse(405, `method ${request.method} not allowed: use ${allowed.join(" or ")}`), headers: { allow: allowed.join(", ") } };
}
