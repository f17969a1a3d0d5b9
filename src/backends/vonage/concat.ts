import type { Logger } from "pino";
import { errorText } from "../../errors.ts";

/** One part of a concatenated inbound SMS, as its webhook brought it. */
export interface InboundPart {
  /** Its number in the message, from 1 (`concat-part`). */
  part: number;
  /** How many parts the message has (`concat-total`). */
  total: number;
  text: string;
  /** Vonage's id of this part (`messageId`). */
  messageId: string;
  /** Who sent it (`msisdn`). */
  sender: string;
  /** Every parameter of its webhook but the signature. */
  fields: Record<string, string>;
}

/** What the parts held for one message make: the whole message, or what arrived of it (`missing` names the rest). */
export interface AssembledMessage {
  key: string;
  sender: string;
  text: string;
  fields: Record<string, unknown>;
  missing: number[];
}

export interface ConcatLimits {
  /** How long the first part of a message waits for the others before what arrived is received as it is. */
  timeoutMs: number;
  /** Parts held at once, over all messages: the oldest message is received as it is to make room. */
  maxParts: number;
}

/** Receives one assembled message durably; rejects when it could not be stored. */
export type Deliver = (message: AssembledMessage) => Promise<void>;

interface Pending {
  sender: string;
  parts: Map<number, InboundPart>;
  total: number;
  timer: NodeJS.Timeout;
  /** The receive under way for this message, when one is. */
  delivering?: Promise<void>;
}

export type HoldOutcome = "held" | "duplicate" | "received";

/**
 * Vonage delivers a long inbound SMS as separate webhooks, one per part, each answered on its own:
 * a part answered 2xx is never sent again, and one answered otherwise is retried for a day. So
 * each part is answered 2xx once held here, keyed by sender, recipient and `concat-ref`; the last
 * part to arrive is answered only once the whole message is stored (a failure there is a 5xx,
 * and Vonage's retry of that part finds the others still held). A message whose parts do not all
 * come within `timeoutMs`, or the oldest one when `maxParts` are held, or any held at shutdown, is
 * received with the parts it has, so that no part that was answered 2xx is dropped while this
 * process runs. The parts live in this process's memory only: a crash loses the held ones (see
 * docs/gateways/vonage.md).
 */
export class ConcatBuffer {
  private readonly pending = new Map<string, Pending>();
  /** Messages received lately, by key, with their parts' ids: Vonage's retry of a part whose 2xx it missed is dropped. */
  private readonly received = new Map<string, { ids: Set<string>; until: number }>();
  private held = 0;
  private readonly limits: ConcatLimits;
  private readonly deliver: Deliver;
  private readonly logger: Logger;

  constructor(limits: ConcatLimits, deliver: Deliver, logger: Logger) {
    this.limits = limits;
    this.deliver = deliver;
    this.logger = logger;
  }

  /** Parts held now. */
  get size(): number {
    return this.held;
  }

  /**
   * Holds a part; when it completes its message, resolves once the message is stored ("received").
   * Rejects when storing failed: answer the webhook 5xx so that Vonage sends the part again.
   */
  async hold(key: string, part: InboundPart): Promise<HoldOutcome> {
    this.forgetOld();
    for (;;) {
      if (this.received.get(key)?.ids.has(part.messageId)) return "duplicate";
      const pending = this.pending.get(key);
      if (pending?.delivering) {
        // A part that comes while its message is being stored joins what follows it, never a receive already under way.
        await pending.delivering.catch(() => {});
        continue;
      }
      if (!pending) {
        if (this.held >= this.limits.maxParts) {
          await this.makeRoom();
          continue;
        }
        this.pending.set(key, { sender: part.sender, parts: new Map([[part.part, part]]), total: part.total, timer: this.expiry(key) });
        this.held++;
        return "held";
      }
      const same = pending.parts.get(part.part);
      if (same?.messageId === part.messageId) {
        // Vonage's retry of a part: of the last one when storing the message failed, so storing is tried again.
        if (pending.parts.size < pending.total) return "duplicate";
        await this.flush(key, pending);
        return "received";
      }
      if (same || pending.total !== part.total) {
        // Another message from the same sender reusing the reference: the one held is received as it is.
        await this.flush(key, pending);
        continue;
      }
      pending.parts.set(part.part, part);
      this.held++;
      if (pending.parts.size < pending.total) return "held";
      await this.flush(key, pending);
      return "received";
    }
  }

  /** Receives every message still held, with the parts it has (at shutdown). */
  async close(): Promise<void> {
    for (const [key, pending] of [...this.pending]) {
      try {
        await this.flush(key, pending);
      } catch (error) {
        this.logger.error({ key, parts: [...pending.parts.keys()] }, `parts of a concatenated SMS were lost at shutdown: ${errorText(error)}`);
      }
    }
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }

  /** Receives the message, once even when several of its parts ask at the same moment; forgets its parts only when it is stored. */
  private flush(key: string, pending: Pending): Promise<void> {
    pending.delivering ??= this.deliver(assemble(key, pending))
      .then(() => {
        clearTimeout(pending.timer);
        if (this.pending.get(key) === pending) {
          this.pending.delete(key);
          this.held -= pending.parts.size;
        }
        const ids = [...pending.parts.values()].map((p) => p.messageId);
        // Deleted first so that the map stays in the order of `until` (forgetOld stops at the first fresh entry).
        this.received.delete(key);
        this.received.set(key, { ids: new Set(ids), until: Date.now() + RECEIVED_KEPT_MS });
      })
      .finally(() => {
        pending.delivering = undefined;
      });
    return pending.delivering;
  }

  private expiry(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => void this.expire(key), this.limits.timeoutMs);
    timer.unref();
    return timer;
  }

  private async expire(key: string): Promise<void> {
    const pending = this.pending.get(key);
    if (!pending) return;
    try {
      await this.flush(key, pending);
    } catch (error) {
      // Kept, and tried again after another timeout: the store may be back by then.
      this.logger.error({ key }, `could not store an incomplete concatenated SMS, trying again later: ${errorText(error)}`);
      if (this.pending.get(key) === pending) pending.timer = this.expiry(key);
    }
  }

  /** Receives the oldest held messages as they are until a new part fits. */
  private async makeRoom(): Promise<void> {
    while (this.held >= this.limits.maxParts) {
      const [key, oldest] = this.pending.entries().next().value as [string, Pending];
      this.logger.warn(
        { key, parts: oldest.parts.size, total: oldest.total },
        "too many parts of concatenated SMS held: the oldest message is received incomplete",
      );
      await this.flush(key, oldest);
    }
  }

  private forgetOld(): void {
    const now = Date.now();
    for (const [key, entry] of this.received) {
      if (entry.until > now && this.received.size <= MAX_RECEIVED) break;
      this.received.delete(key);
    }
  }
}

/** How long the ids of a received message's parts are kept, to drop Vonage's retries of them: its retry window. */
const RECEIVED_KEPT_MS = 24 * 60 * 60_000;
/** Received messages remembered at most. */
const MAX_RECEIVED = 10_000;

/**
 * The message the held parts make, in part order. Its fields are the first part's (the lowest
 * one that came), its text all the parts' texts, and `concat-message-ids` the ids of the parts;
 * `concat-missing` lists the parts that never came. The first part's `messageId` is the
 * message's gateway id, for dedupe.
 */
function assemble(key: string, pending: Pending): AssembledMessage {
  const parts = [...pending.parts.values()].sort((a, b) => a.part - b.part);
  const missing: number[] = [];
  for (let n = 1; n <= pending.total; n++) if (!pending.parts.has(n)) missing.push(n);
  const text = parts.map((p) => p.text).join("");
  const fields: Record<string, unknown> = {
    ...parts[0].fields,
    text,
    "concat-message-ids": parts.map((p) => p.messageId),
    ...(missing.length > 0 && { "concat-missing": missing }),
    externalId: parts[0].messageId,
  };
  return { key, sender: pending.sender, text, fields, missing };
}
