import type { FastifyInstance } from "fastify";
import { scheduledTime } from "../messages/send-at.ts";
import type { System } from "../system.ts";

/** What a 202 adds for a scheduled message: `sendAt`, the time it goes (ISO 8601, UTC); nothing for one that goes now. */
export function scheduledAt(sendAt: string | undefined): { sendAt?: string } {
  const at = scheduledTime(sendAt);
  return at === undefined ? {} : { sendAt: new Date(at).toISOString() };
}

/**
 * `DELETE /api/messages/:id`: cancels what is still queued of an outbound message (a scheduled
 * send, or the rest of a bulk send). 200 with the counts; 409 when nothing was left to cancel.
 */
export function cancelRoute(api: FastifyInstance, system: System): void {
  api.delete<{ Params: { id: string } }>("/messages/:id", async (request, reply) => {
    const { id } = request.params;
    const result = await system.pipeline.cancelOutgoing(id);
    if (!result) return reply.code(404).send({ error: `no message with id ${id}` });
    if (result === "inbound") return reply.code(409).send({ error: `message ${id} is inbound: only outbound messages are sent, and can be cancelled` });
    const counts = { cancelled: result.cancelled, sending: result.sending, sent: result.sent, failed: result.failed };
    if (result.cancelled === 0) {
      return reply.code(409).send({
        error: `nothing left to cancel in message ${id}: ${result.sent} sent, ${result.sending} being sent, ${result.failed} failed or cancelled before`,
        ...counts,
      });
    }
    request.log.info({ messageId: id, ...counts }, "message cancelled");
    return { id, status: result.status, ...counts };
  });
}
