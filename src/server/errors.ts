import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/** What a failed request's answer says: the framework's own 4xx reason, or a 500 that gives nothing away. */
function describe(error: FastifyError, request: FastifyRequest): { status: number; message: string } {
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
  return reply.code(status).type("text/plain; charset=utf-8").send(body);
}

/** Errors as plain text: pages. */
export function textErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { status, message } = describe(error, request);
  return reply.code(status).type("text/plain; charset=utf-8").send(message);
}

/** Errors as `{ "error": … }`: the APIs. */
export function jsonErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { status, message } = describe(error, request);
  return reply.code(status).send({ error: message });
}
