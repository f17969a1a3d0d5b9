import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/**
 * Errors of a database that is not there, or too busy, for now: a 503, which gateways retry. Ours,
 * the network's, PostgreSQL's (shutting down, connection failures, too many connections, a
 * deadlock or serialization failure, read-only after a failover) by SQLSTATE.
 */
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
  "53300",
  "40P01",
  "40001",
  "25006",
]);

/** SQLite's primary result codes for a database that is busy, locked, failing to read or write, full, or not openable. */
const SQLITE_UNAVAILABLE = new Set([5, 6, 10, 13, 14]);

function storeUnavailable(error: FastifyError): boolean {
  if (UNAVAILABLE.has(String(error.code))) return true;
  const { errcode } = error as { errcode?: unknown };
  if (error.code === "ERR_SQLITE_ERROR" && typeof errcode === "number" && SQLITE_UNAVAILABLE.has(errcode & 0xff)) return true;
  const cause = error.cause as { code?: string } | undefined;
  if (cause?.code && UNAVAILABLE.has(cause.code)) return true;
  // node-postgres, when the server or the network drops a connection, or none comes in time.
  return /^Connection terminated|timeout exceeded when trying to connect/.test(error.message ?? "");
}

/**
 * A write that lost a race with another (two renames to one name, a member added as its contact
 * is deleted): PostgreSQL's unique and foreign-key violations, SQLite's constraint errors.
 */
function conflict(error: FastifyError): boolean {
  if (error.code === "23505" || error.code === "23503") return true;
  const { errcode } = error as { errcode?: unknown };
  // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY, _FOREIGNKEY; a NOT NULL or CHECK failure is a bug, and stays a 500.
  return error.code === "ERR_SQLITE_ERROR" && (errcode === 2067 || errcode === 1555 || errcode === 787);
}

/** What a failed request's answer says: the framework's own 4xx reason, a 503 while the store is away, or a 500 that gives nothing away. */
function describe(error: FastifyError, request: FastifyRequest): { status: number; message: string } {
  if (error.code === "INPUT_INVALID") return { status: 400, message: `bad request: ${error.message}` };
  if (conflict(error)) return { status: 409, message: "conflict: another change to the same data came first; read it again and retry" };
  if (storeUnavailable(error)) {
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
