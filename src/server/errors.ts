import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/** Errors of a database that is not there for now: a 503, which gateways retry. */
const UNAVAILABLE = new Set([
  "STORE_INTERRUPTED",
  "STORE_UNAVAILABLE",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08006",
]);

/** What a failed request's answer says: the framework's own 4xx reason, a 503 while the store is away, or a 500 that gives nothing away. */
function describe(error: FastifyError, request: FastifyRequest): { status: number; message: string } {
  if (UNAVAILABLE.has(String(error.code)) || (error.cause as { code?: string } | undefined)?.code === "ECONNREFUSED") {
    request.log.warn({ err: error, method: request.method, path: request.url.split("?")[0] }, "the store is not there for now; answered 503");
    return { status: 503, message: "the store is not available for now; try again shortly" };
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status < 500) return { status, message: `bad request: ${error.message}` };
  // The path only: a query string may carry a token (?token=…).
  request.log.error({ err: error, method: request.method, path: request.url.split("?")[0] }, "request failed");
  return { status, message: "internal error: the request was not accepted; try again later" };
}

/**
 * Errors as gateways expect them from the backends' endpoints: a 400 reads like a form's
 * (`form failed to validate`, then the reason), whatever failed, the body's parser or the form.
 */
export function inboundErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { status, message } = describe(error, request);
  const body = status === 400 ? `form failed to validate\n${error.message}` : message;
  if (status === 503) reply.header("retry-after", "1");
  return reply.code(status).type("text/plain; charset=utf-8").send(body);
}

/** Errors as plain text: pages. */
export function textErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { status, message } = describe(error, request);
  if (status === 503) reply.header("retry-after", "1");
  return reply.code(status).type("text/plain; charset=utf-8").send(message);
}

/** Errors as `{ "error": … }`: the APIs. */
export function jsonErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { status, message } = describe(error, request);
  if (status === 503) reply.header("retry-after", "1");
  return reply.code(status).send({ error: message });
}
