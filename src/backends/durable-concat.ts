import type { Logger } from "pino";
import { errorText, InvalidInputError } from "../errors.ts";
import type { HeldPart } from "../messages/parts.ts";
import type { InboundParts } from "./port.ts";

/** One part of a concatenated inbound SMS, as its gateway brought it. */
export interface InboundPart {
  /** Its number in the message, from 1. */
  part: number;
  /** How many parts the message has. */
  total: number;
  text: string;
  /** The gateway's id of this part, when it gives parts ids (Vonage's `messageId`; SMPP's parts have none). */
  messageId?: string;
  /** Who sent it. */
  sender: string;
  /** What the gateway said of the part besides its text (a webhook's parameters, a PDU's fields). */
  fields: Record<string, unknown>;
}

/** What the parts kept for one message make: the whole message, or what arrived of it (`missing` names the rest). */
export interface AssembledMessage {
  key: string;
  sender: string;
  text: string;
  fields: Record<string, unknown>;
  missing: number[];
}

/** Receives one assembled message durably; rejects when it could not be stored. */
export type Deliver = (message: AssembledMessage) => Promise<void>;

export type HoldOutcome = "held" | "duplicate" | "received";

/**
 * Gateways deliver a long inbound SMS one part at a time (Vonage's webhooks, SMPP's deliver_sm),
 * each answered on its own: a part answered as taken is never sent again, and one answered
 * otherwise is sent again later. So each part is kept durably (`port.parts`) before it is
 * answered; the part that completes its message is answered only once the whole message is
 * stored (a failure there is an error answer, and the gateway's resend of that part finds the
 * others kept). A message whose parts do not all come
 * within `timeoutMs` is received with the parts it has, by a sweep that runs in every process
 * (two processes sweeping the same message store it once: it keeps the first part's gateway id).
 */
export class DurableConcat {
  private readonly parts: InboundParts;
  private readonly timeoutMs: number;
  private readonly deliver: Deliver;
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;
  private sweeping: Promise<void> | undefined;

  constructor(parts: InboundParts, options: { timeoutMs: number }, deliver: Deliver, logger: Logger) {
    this.parts = parts;
    this.timeoutMs = options.timeoutMs;
    this.deliver = deliver;
    this.logger = logger;
    this.timer = setInterval(() => void this.sweep(), Math.max(50, Math.min(60_000, options.timeoutMs / 2)));
    this.timer.unref();
  }

  /** Keeps a part; when it completes its message, resolves once the message is stored. Rejects when keeping or storing failed (answer 5xx). */
  async hold(key: string, part: InboundPart): Promise<HoldOutcome> {
    const held = await this.parts.hold(key, {
      number: part.part,
      total: part.total,
      text: part.text,
      fields: { ...part.fields, sender: part.sender },
      externalId: part.messageId,
    });
    if (held.displaced) await this.receive(held.displaced.key, held.displaced.parts);
    if (!held.complete) return held.duplicate ? "duplicate" : "held";
    await this.receive(key, held.complete);
    return "received";
  }

  /** Receives every message kept longer than `timeoutMs` with the parts it has. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        // 100 messages a call: go on while a call is full (a burst of orphan parts must not take an hour).
        for (let round = 0; round < 100; round++) {
          const expired = await this.parts.expired(this.timeoutMs);
          if (!(await this.receiveAll(expired)) || expired.length < 100) break;
        }
      } catch (error) {
        this.logger.error({ err: error }, `looking for incomplete concatenated SMS failed; tried again later: ${errorText(error)}`);
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /** Receives each expired message; false when one could not be stored now (it stays kept, and would come first again). */
  private async receiveAll(expired: readonly { key: string; parts: HeldPart[] }[]): Promise<boolean> {
    let all = true;
    for (const { key, parts } of expired) {
      // One message that cannot be stored now must not hold up the others.
      await this.receive(key, parts).catch(async (error: unknown) => {
        if (!(error instanceof InvalidInputError)) {
          all = false;
          this.logger.error({ err: error, key }, `receiving an incomplete concatenated SMS failed; it stays kept and is tried again: ${errorText(error)}`);
          return;
        }
        // What no store can take never will be: kept, it would come first in every sweep.
        this.logger.error({ key, parts: parts.length }, `an incomplete concatenated SMS cannot be stored and is dropped: ${errorText(error)}`);
        await this.parts.release(key, parts);
      });
    }
    return all;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async receive(key: string, parts: readonly HeldPart[]): Promise<void> {
    await this.deliver(assemble(key, parts));
    await this.parts.release(key, parts);
  }
}

/**
 * The message the kept parts make, in part order. Its fields are the first part's (the lowest
 * one that came), its text all the parts' texts, and `concat-message-ids` the ids of the parts;
 * `concat-missing` lists the parts that never came. The first part's `messageId` is the
 * message's gateway id, for dedupe (parts without ids make a message without one).
 */
function assemble(key: string, parts: readonly HeldPart[]): AssembledMessage {
  const total = Math.max(...parts.map((p) => p.total));
  const numbers = new Set(parts.map((p) => p.number));
  const missing: number[] = [];
  for (let n = 1; n <= total; n++) if (!numbers.has(n)) missing.push(n);
  const text = parts.map((p) => p.text).join("");
  const { sender, ...first } = parts[0].fields as Record<string, string>;
  const ids = parts[0].externalId !== null;
  const fields: Record<string, unknown> = {
    ...first,
    text,
    ...(ids && { "concat-message-ids": parts.map((p) => p.externalId) }),
    ...(missing.length > 0 && { "concat-missing": missing }),
    ...(ids && { externalId: parts[0].externalId }),
  };
  return { key, sender, text, fields, missing };
}
