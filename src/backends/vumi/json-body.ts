import type { ViewRequest } from "../view.ts";

export type JsonBody = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/**
 * The JSON object a gateway POSTed. The server parses `application/json` bodies; any other
 * content type (Vumi's own tests send `text/json`) may arrive as a string or bytes, parsed here.
 */
export function readJsonBody(request: ViewRequest): JsonBody {
  let body = request.body;
  if (Buffer.isBuffer(body)) body = body.toString("utf8");
  if (typeof body === "string") {
    if (body.trim() === "") body = undefined;
    else {
      try {
        body = JSON.parse(body);
      } catch (error) {
        return { ok: false, reason: `the body is not valid JSON (${(error as Error).message}): POST the message as a JSON object` };
      }
    }
  }
  if (body === undefined || body === null) return { ok: false, reason: "the body is empty: POST the message as a JSON object" };
  if (typeof body !== "object" || Array.isArray(body)) {
    return { ok: false, reason: `the body is a JSON ${Array.isArray(body) ? "array" : typeof body}, not an object: POST the message as a JSON object` };
  }
  return { ok: true, value: body as Record<string, unknown> };
}
