import type { Logger } from "pino";
import { errorText, InvalidInputError } from "../errors.ts";
import { unfitMessageText } from "../messages/limits.ts";
import { IncomingMessage, type OutgoingMessage } from "../messages/messages.ts";
import type { Queue } from "../queue/queue.ts";
import { REPLY_PRIORITY, type Router } from "../router/router.ts";
import { MessageSession, sessionMark, type SessionAnswer, type SessionMark } from "../messages/session.ts";
import type { ClaimedIncoming, ClaimedTransmission, OutgoingRecordInit, OutgoingWork, SessionStep, Store } from "../store/store.ts";
import type { Leases } from "./leases.ts";
import type { Metrics } from "../metrics/metrics.ts";
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
  metrics: Metrics;
}

/**
 * A request waiting for a message's replies (see Pipeline.converse): `deliver` hands them over
 * and says whether the request still waited for them (false once its deadline passed).
 */
export interface SessionWait {
  backend: string;
  deliver(answer: SessionAnswer): boolean;
}

/** A session is its user's: the same gateway session id from another number is another session. */
function sessionKey(msg: IncomingMessage, id: string): string {
  return JSON.stringify([msg.connection.identity, id]);
}

/** The stored form of an outgoing message. */
export function outgoingRecord(msg: OutgoingMessage, priority: number, notBefore?: number): OutgoingRecordInit {
  return {
    id: msg.id,
    text: msg.text,
    fields: msg.fields,
    context: msg.extraBackendContext(),
    inResponseTo: msg.inResponseTo?.id ?? null,
    connections: msg.connections,
    priority,
    ...(notBefore === undefined ? {} : { notBefore }),
    ...(msg.eventUrl ? { eventUrl: msg.eventUrl } : {}),
  };
}

/** One piece of outbound work per backend an outgoing message goes through. */
export function outgoingWork(record: OutgoingRecordInit): OutgoingWork[] {
  return [...new Set(record.connections.map((c) => c.backend))].map((backend) => ({
    messageId: record.id,
    backend,
    priority: record.priority,
    ...(record.notBefore === undefined ? {} : { notBefore: record.notBefore }),
  }));
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

  /**
   * The job of one claimed message: it holds the message's claim (renewed) until it is done. With
   * `waiting`, the replies to the sender on the waiting backend answer that request instead of
   * being sent.
   */
  job(claimed: ClaimedIncoming, waiting?: SessionWait): Job {
    const release = this.init.leases.hold(claimed.token);
    return () => this.process(claimed, waiting).finally(release);
  }

  private async process(claimed: ClaimedIncoming, waiting?: SessionWait): Promise<void> {
    const { store, router, queue, options, logger, leases } = this.init;
    const msg = new IncomingMessage({ connections: [claimed.connection], text: claimed.text, fields: claimed.fields, id: claimed.id });
    try {
      const mark = sessionMark(msg.fields);
      if (mark) msg.session = await this.openSession(msg, mark);
      const replies = (await router.process(msg)).map((reply) => outgoingRecord(reply, REPLY_PRIORITY));
      for (const [i, reply] of replies.entries()) {
        const unfit = unfitMessageText(reply.text);
        if (unfit) throw new InvalidInputError("reply text", unfit, replies.length > 1 ? i : undefined);
      }
      const recipients = replies.reduce((n, r) => n + r.connections.length, 0);
      // A sender of this process with room takes the replies straight from here: they are stored
      // claimed for it, which saves a claim through the store.
      const place = !waiting && recipients > 0 && recipients <= options.batchSize ? queue.local?.reserveSend() : undefined;
      const replyClaim = place || (waiting && recipients > 0) ? leases.claim() : undefined;
      let completed: Awaited<ReturnType<Store["completeIncoming"]>>;
      try {
        completed = await store.completeIncoming({
          id: claimed.id,
          token: claimed.token,
          replies,
          claimReplies: replyClaim,
          session: msg.session && this.sessionStep(msg, replies),
          handledBy: msg.handledBy,
        });
      } catch (error) {
        place?.cancel();
        throw error;
      }
      if (!completed.applied) {
        place?.cancel();
        logger.warn({ messageId: claimed.id }, "a message's processing was not recorded: its claim ran out and another worker holds the message now");
        return;
      }
      this.init.metrics.processed("R");
      this.init.events.emitQueued(replies);
      if (waiting) {
        // The request has its answer already; the job ends when what follows is recorded, so that shutdown waits for it.
        await this.answer(msg, waiting, completed.claimed);
        return;
      }
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

  private async openSession(msg: IncomingMessage, mark: SessionMark): Promise<MessageSession> {
    const record = await this.init.store.openSession({
      backend: msg.connection.backend,
      key: sessionKey(msg, mark.id),
      identity: msg.connection.identity,
      messageId: msg.id,
      restart: mark.event === "new",
    });
    return new MessageSession({
      id: mark.id,
      isNew: record.firstMessageId === msg.id,
      closed: mark.event === "close",
      step: record.steps + 1,
      state: record.state,
    });
  }

  /** What the apps left in the session, saved with the replies; it ends when the user left, or when replies came and none asked for more. */
  private sessionStep(msg: IncomingMessage, replies: readonly OutgoingRecordInit[]): SessionStep {
    const session = msg.session!;
    const inSession = replies.filter((r) => r.context.session);
    const ended = session.closed || (inSession.length > 0 && inSession.every((r) => r.context.session!.end));
    return { backend: msg.connection.backend, key: sessionKey(msg, session.id), state: session.state, ended };
  }

  /**
   * Answers the waiting request with the replies to the sender on its backend (their texts, one
   * per line; the session ends unless one asks for more), and records them: sent within the
   * request, or failed when the request had stopped waiting. Other replies are sent as usual.
   */
  private async answer(msg: IncomingMessage, waiting: SessionWait, claimed: readonly ClaimedTransmission[]): Promise<void> {
    const { sender, leases } = this.init;
    const here = (t: ClaimedTransmission) => t.backend === waiting.backend && t.identity === msg.connection.identity;
    // Their `optedOut` is not looked at: someone opted out who dialled in is waiting on the line for this answer.
    const answered = claimed.filter(here);
    const others = claimed.filter((t) => !here(t));
    const taken = waiting.deliver({
      text: answered.map((t) => t.text).join("\n"),
      end: answered.length === 0 || answered.every((t) => t.context.session?.end !== false),
    });
    const work: Promise<void>[] = [];
    if (answered.length > 0) {
      const release = leases.hold(answered[0].token);
      const recording = sender
        .recordAnswered(answered, taken)
        .catch((error: unknown) =>
          this.init.logger.error({ err: error, messageId: msg.id }, "recording a session's answer failed; its claim runs out and it is tried again"),
        )
        .finally(release);
      work.push(recording);
    }
    if (others.length > 0) {
      const release = leases.hold(others[0].token);
      const sending = sender
        .sendClaimed(others, new AbortController().signal)
        .catch((error: unknown) =>
          this.init.logger.error(
            { err: error, messageId: msg.id },
            "sending a session message's other replies failed; their claim runs out and they are sent again",
          ),
        )
        .finally(release);
      work.push(sending);
    }
    await Promise.all(work);
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
      if (held) this.init.metrics.processed(nextAttemptAt === null ? "E" : "retry");
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
