import type { ViewRequest } from "./view.ts";

export type JsonBody = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/**
 * The JSON object a gateway POSTed. The server parses `application/json`; any other content type
 * (Vumi's own tests send `text/json`) may arrive as a string or bytes, parsed here. With `raw`,
 * the body as received is read first: the text a signature is over, so what is read is what was
 * signed. A refusal ends with `expected`, what the gateway should send.
 */
export function readJsonBody(request: ViewRequest, { expected = "POST the message as a JSON object", raw = false } = {}): JsonBody {
  let body: unknown = raw ? (request.rawBody ?? request.body) : request.body;
  if (Buffer.isBuffer(body)) body = body.toString("utf8");
  if (typeof body === "string") {
    if (body.trim() === "") body = undefined;
    else {
      try {
        body = JSON.parse(body);
      } catch (error) {
        return { ok: false, reason: `the body is not valid JSON (${(error as Error).message}): ${expected}` };
      }
    }
  }
  if (body === undefined || body === null) return { ok: false, reason: `the body is empty: ${expected}` };
  if (typeof body !== "object" || Array.isArray(body)) {
    return { ok: false, reason: `the body is a JSON ${Array.isArray(body) ? "array" : typeof body}, not an object: ${expected}` };
  }
  return { ok: true, value: body as Record<string, unknown> };
}
