import type { Logger } from "pino";
import { errorText, InvalidInputError } from "../errors.ts";
import { unfitMessageText } from "../messages/limits.ts";
import { IncomingMessage, type OutgoingMessage } from "../messages/messages.ts";
import type { Queue } from "../queue/queue.ts";
import { REPLY_PRIORITY, type Router } from "../router/router.ts";
import type { ClaimedIncoming, OutgoingRecordInit, OutgoingWork, Store } from "../store/store.ts";
import type { Leases } from "./leases.ts";
import { retryDelay, type PipelineOptions } from "./policy.ts";
import type { Sender } from "./sender.ts";
import type { StatusEvents } from "./status-events.ts";
import type { Job } from "./work-loop.ts";

export interface ProcessorInit {
  store: Store;
  events: StatusEvents;
  router: Router;
  leases: Leases;
  queue: Queue;
  sender: Sender;
  options: PipelineOptions;
  logger: Logger;
}

/** The stored form of an outgoing message. */
export function outgoingRecord(msg: OutgoingMessage, priority: number): OutgoingRecordInit {
  return {
    id: msg.id,
    text: msg.text,
    fields: msg.fields,
    context: msg.extraBackendContext(),
    inResponseTo: msg.inResponseTo?.id ?? null,
    connections: msg.connections,
    priority,
  };
}

/** One piece of outbound work per backend an outgoing message goes through. */
export function outgoingWork(record: OutgoingRecordInit): OutgoingWork[] {
  return [...new Set(record.connections.map((c) => c.backend))].map((backend) => ({ messageId: record.id, backend, priority: record.priority }));
}

/**
 * Processes claimed inbound messages: the router's phases, then R and the replies committed
 * together, fenced by the claim. When processing fails, whatever failed (an app, the store), the
 * message goes back to the queue with a backoff at once, and ends E after `maxAttempts`.
 */
export class Processor {
  private readonly init: ProcessorInit;

  constructor(init: ProcessorInit) {
    this.init = init;
  }

  /** Claims up to `limit` due inbound messages (or just `only`); a job for each. */
  async claim(limit: number, only?: string): Promise<Job[]> {
    const { store, leases, options } = this.init;
    const claimed = await store.claimIncoming({ claim: leases.claim(), limit, maxAttempts: options.maxAttempts, only });
    return claimed.map((message) => this.job(message));
  }

  /** The job of one claimed message: it holds the message's claim (renewed) until it is done. */
  job(claimed: ClaimedIncoming): Job {
    const release = this.init.leases.hold(claimed.token);
    return () => this.process(claimed).finally(release);
  }

  private async process(claimed: ClaimedIncoming): Promise<void> {
    const { store, router, queue, options, logger, leases } = this.init;
    const msg = new IncomingMessage({ connections: [claimed.connection], text: claimed.text, fields: claimed.fields, id: claimed.id });
    try {
      const replies = (await router.process(msg)).map((reply) => outgoingRecord(reply, REPLY_PRIORITY));
      for (const [i, reply] of replies.entries()) {
        const unfit = unfitMessageText(reply.text);
        if (unfit) throw new InvalidInputError("reply text", unfit, replies.length > 1 ? i : undefined);
      }
      const recipients = replies.reduce((n, r) => n + r.connections.length, 0);
      // A sender of this process with room takes the replies straight from here: they are stored
      // claimed for it, which saves a claim through the store.
      const place = recipients > 0 && recipients <= options.batchSize ? queue.local?.reserveSend() : undefined;
      const replyClaim = place ? leases.claim() : undefined;
      let completed: Awaited<ReturnType<Store["completeIncoming"]>>;
      try {
        completed = await store.completeIncoming({ id: claimed.id, token: claimed.token, replies, claimReplies: replyClaim });
      } catch (error) {
        place?.cancel();
        throw error;
      }
      if (!completed.applied) {
        place?.cancel();
        logger.warn({ messageId: claimed.id }, "a message's processing was not recorded: its claim ran out and another worker holds the message now");
        return;
      }
      this.init.events.emitQueued(replies);
      if (place && completed.claimed.length > 0) {
        const release = leases.hold(completed.claimed[0].token);
        place.run((signal) => this.init.sender.sendClaimed(completed.claimed, signal).finally(release));
      } else {
        place?.cancel();
        if (replies.length > 0) await handOver(logger, () => queue.outgoingQueued(replies.flatMap(outgoingWork)));
      }
    } catch (error) {
      await this.failed(claimed, error);
    }
  }

  /** Back to the queue after a backoff, or E once the attempts are spent; if even that fails, the claim runs out. */
  private async failed(claimed: ClaimedIncoming, error: unknown): Promise<void> {
    const { store, queue, options, logger } = this.init;
    // A reply no store or gateway can take comes out the same on every try: an app's bug, not a hiccup.
    const last = error instanceof InvalidInputError || claimed.attempt >= options.maxAttempts;
    const nextAttemptAt = last ? null : Date.now() + retryDelay(claimed.attempt, options);
    logger.error(
      { err: error, messageId: claimed.id, attempt: claimed.attempt },
      last ? "processing a message failed for the last time; it is marked E" : "processing a message failed; it will be tried again",
    );
    try {
      const held = await store.failIncoming({ id: claimed.id, token: claimed.token, error: errorText(error), nextAttemptAt });
      if (held && nextAttemptAt !== null) await handOver(logger, () => queue.incomingAccepted(claimed.id, nextAttemptAt));
    } catch (failure) {
      logger.error({ err: failure, messageId: claimed.id }, "recording a failed processing failed too; the message's claim runs out and it is claimed again");
    }
  }
}

/**
 * Tells the queue about work already committed to the store. A failure here loses nothing (the
 * workers' sweep finds the work in the store), so it is logged, not thrown.
 */
export async function handOver(logger: Logger, notify: () => Promise<void>): Promise<void> {
  try {
    await notify();
  } catch (error) {
    logger.error({ err: error }, "the queue could not be told about new work; the store sweep will pick it up");
  }
}
