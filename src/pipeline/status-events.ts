import type { Logger } from "pino";
import type { Status } from "../messages/status.ts";
import type { TransmissionChange } from "../store/store.ts";

/** A recipient's message changed status: what a host app reacts to instead of polling. */
export interface StatusChange {
  messageId: string;
  backend: string;
  identity: string;
  /**
   * `queued`: waiting to be sent (first, or again after a failed attempt: then `error` says why
   * and `retryAt` when); `sent`: the gateway took it; `delivered`: the gateway reported it
   * delivered; `failed`: given up, or reported undeliverable (`error` says why).
   */
  status: "queued" | "sent" | "delivered" | "failed";
  error: string | null;
  /** Epoch ms of the next attempt, for a send that failed and will be retried. */
  retryAt?: number;
  /** When the change was recorded (ISO 8601). */
  at: string;
}

const NAMES: Partial<Record<Status, StatusChange["status"]>> = { Q: "queued", S: "sent", D: "delivered", E: "failed" };

/** Changes an async iterator holds for a reader that does not keep up, before it fails. */
export const MAX_UNREAD_CHANGES = 10_000;

/**
 * The status changes this process records: its own sends (queued, sent, retried, failed) and the
 * delivery reports its server receives. Listeners are called in order; one that throws is logged
 * and never holds up a send. Nothing is computed when nobody listens.
 */
export class StatusEvents {
  private readonly listeners = new Set<(change: StatusChange) => void>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  get listening(): boolean {
    return this.listeners.size > 0;
  }

  emit(change: StatusChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ err: error, messageId: change.messageId }, "a status listener threw; the change is recorded all the same");
      }
    }
  }

  /** Tells the listeners that each recipient of these messages is queued (when anyone listens). */
  emitQueued(messages: readonly { id: string; connections: readonly { backend: string; identity: string }[] }[]): void {
    if (!this.listening) return;
    const at = new Date().toISOString();
    for (const message of messages) {
      for (const { backend, identity } of message.connections) this.emit({ messageId: message.id, backend, identity, status: "queued", error: null, at });
    }
  }

  /**
   * Tells the listeners what the store recorded for transmissions on `backend` (when anyone
   * listens). `known` gives what a change may not carry: its message, its recipient, and when a
   * retry is due. A change to P (being sent) is not reported.
   */
  emitRecorded(
    backend: string,
    changes: readonly TransmissionChange[],
    known: (change: TransmissionChange) => { messageId?: string; identity?: string; retryAt?: number } = () => ({}),
  ): void {
    if (!this.listening) return;
    const at = new Date().toISOString();
    for (const change of changes) {
      const status = NAMES[change.status];
      const fallback = known(change);
      const messageId = change.messageId ?? fallback.messageId;
      const identity = change.identity ?? fallback.identity;
      if (!status || messageId === undefined || identity === undefined) continue;
      const retryAt = change.status === "Q" ? fallback.retryAt : undefined;
      this.emit({ messageId, backend, identity, status, error: change.error, ...(retryAt ? { retryAt } : {}), at });
    }
  }

  /** Calls `listener` with each change from now on; returns what stops it. */
  on(listener: (change: StatusChange) => void): () => void {
    const own = (change: StatusChange) => listener(change);
    this.listeners.add(own);
    return () => this.listeners.delete(own);
  }

  /**
   * The changes from now on, as an async iterator that ends when `signal` aborts (or the loop
   * breaks). A reader more than MAX_UNREAD_CHANGES behind gets an error instead of the next change:
   * changes are never dropped silently, and memory stays bounded.
   */
  changes({ signal }: { signal?: AbortSignal } = {}): AsyncIterableIterator<StatusChange> {
    const unread: StatusChange[] = [];
    let waiting: { resolve(result: IteratorResult<StatusChange>): void; reject(error: Error): void } | undefined;
    let failure: Error | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      off();
      signal?.removeEventListener("abort", finish);
      waiting?.resolve({ value: undefined, done: true });
      waiting = undefined;
    };
    const off = this.on((change) => {
      if (waiting) {
        const reader = waiting;
        waiting = undefined;
        reader.resolve({ value: change, done: false });
      } else if (unread.length >= MAX_UNREAD_CHANGES) {
        failure = new Error(`the status changes' reader fell ${MAX_UNREAD_CHANGES} changes behind; read sms.status(id) for where messages stand, and keep up`);
        unread.length = 0;
        off();
      } else {
        unread.push(change);
      }
    });
    if (signal?.aborted) finish();
    else signal?.addEventListener("abort", finish, { once: true });
    const iterator: AsyncIterableIterator<StatusChange> = {
      next: () => {
        const change = unread.shift();
        if (change) return Promise.resolve({ value: change, done: false });
        if (failure) {
          const error = failure;
          failure = undefined;
          finish();
          return Promise.reject(error);
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
      return: () => {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
