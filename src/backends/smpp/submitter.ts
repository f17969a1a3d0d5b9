import type { Logger } from "pino";
import type { Bind } from "./bind.ts";
import { type ShortMessageBody, STATUS, statusText } from "./pdu.ts";
import { ResponseTimeoutError, SessionClosedError } from "./session.ts";

/** The SMSC answered a submit_sm with an error status (not a throttle: those are waited out). */
export class SubmitRefusedError extends Error {
  readonly status: number;

  constructor(status: number) {
    super(`the SMSC refused the submit_sm: ${statusText(status)}`);
    this.name = "SubmitRefusedError";
    this.status = status;
  }
}

/** No bind could take the submit before its deadline (or the send was called off): nothing was sent. */
export class SubmitNotSentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SubmitNotSentError";
  }
}

/** Sent, but the SMSC's answer never came (the link dropped or went quiet) as often as a submit is sent again: whether the SMSC has it is unknown. */
export class SubmitUnconfirmedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SubmitUnconfirmedError";
  }
}

/** Times a submit whose answer was lost is sent again by the backend; past it the pipeline's retry (with its backoff) takes over. */
const MAX_RESENDS = 2;
/** Submits in a row without an answer on one bind that make it start afresh: its link is not working. */
const SILENT_SUBMITS = 3;

/** The statuses that say "slow down", not "no": the submit is sent again once the backoff has passed, and never counts as a failed attempt. */
const THROTTLES = new Set<number>([STATUS.ESME_RTHROTTLED, STATUS.ESME_RMSGQFUL]);

export interface SubmitCounts {
  submitted: number;
  throttled: number;
  /** Submits sent again because their answer was lost (the connection dropped, or no answer in time): the SMSC may have them twice. */
  resentUnconfirmed: number;
  /**
   * Submits the SMSC may have taken that the backend gave up on: still in a window when their send
   * was called off or the backend closed, or unanswered MAX_RESENDS + 1 times. The pipeline tries
   * them again, so the SMSC may have them twice.
   */
  abandoned: number;
}

interface Item {
  body: ShortMessageBody;
  deadline: number;
  resolve: (messageId: string) => void;
  reject: (error: Error) => void;
  /** Times it was sent again for want of an answer (each counted in resentUnconfirmed): the SMSC may have it already. */
  resends: number;
  done: boolean;
  cleanup: () => void;
}

export interface SubmitterOptions {
  /** submit_sm awaiting their submit_sm_resp per bind at most. */
  window: number;
  /** The first pause after a throttle; each next one in a row twice as long, up to `maxThrottleMs`. */
  throttleMs: number;
  maxThrottleMs: number;
  logger: Logger;
  counts: SubmitCounts;
}

/**
 * Hands submit_sm to the binds: a queue in order, each bind taking from it while its window has
 * room (the least loaded first). An answer that says slow down (ESME_RTHROTTLED, ESME_RMSGQFUL)
 * puts the submit back at the head and pauses every bind (doubling while it goes on, reset by
 * the first submit taken); a submit whose answer is lost (the bind dropped, or no answer in
 * time) goes back too, counted. A submit still queued at its deadline fails as not sent.
 */
export class Submitter {
  private readonly binds: readonly Bind[];
  private readonly options: SubmitterOptions;
  private readonly queue: Item[] = [];
  private readonly load = new Map<Bind, number>();
  private pausedUntil = 0;
  private throttleMs = 0;
  private wake: NodeJS.Timeout | undefined;
  private readonly sweep: NodeJS.Timeout;
  private closed: string | undefined;

  constructor(binds: readonly Bind[], options: SubmitterOptions) {
    this.binds = binds;
    this.options = options;
    this.sweep = setInterval(() => this.expire(), 100);
    this.sweep.unref();
  }

  /** Submits waiting for a window. */
  get queued(): number {
    return this.queue.length;
  }

  /** Submits awaiting their answer on `bind`. */
  inWindow(bind: Bind): number {
    return this.load.get(bind) ?? 0;
  }

  /** Resolves with the SMSC's message_id. */
  submit(body: ShortMessageBody, { deadline, signal }: { deadline: number; signal?: AbortSignal }): Promise<string> {
    if (signal?.aborted) return Promise.reject(new SubmitNotSentError("the send was called off before it was submitted"));
    if (this.closed) return Promise.reject(new SubmitNotSentError(this.closed));
    return new Promise<string>((resolve, reject) => {
      const item: Item = { body, deadline, resolve, reject, resends: 0, done: false, cleanup: () => {} };
      if (signal) {
        const abort = () => this.callOff(item, "the send was called off (its deadline passed, or the worker is stopping)");
        signal.addEventListener("abort", abort, { once: true });
        item.cleanup = () => signal.removeEventListener("abort", abort);
      }
      this.queue.push(item);
      this.pump();
    });
  }

  /** A bind came up: it takes from the queue. */
  pump(): void {
    if (this.queue.length === 0) return;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      if (!this.wake) {
        this.wake = setTimeout(() => {
          this.wake = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
    for (;;) {
      const bind = this.roomiest();
      if (!bind) return;
      const item = this.queue.shift();
      if (!item) return;
      if (item.done) continue;
      if (item.deadline <= Date.now()) {
        this.expired(item);
        continue;
      }
      this.send(bind, item);
    }
  }

  /**
   * Fails every queued submit (the backend is closing) and waits, `timeoutMs` at most, for the
   * answers to those in the windows: a submit cut off by the unbind may have been taken, and is
   * counted (`abandoned`) rather than taken for not sent.
   */
  async close(reason: string, timeoutMs: number): Promise<void> {
    this.closed = reason;
    clearInterval(this.sweep);
    clearTimeout(this.wake);
    for (const item of this.queue.splice(0)) this.finish(item, () => item.reject(new SubmitNotSentError(reason)));
    const until = Date.now() + timeoutMs;
    while (this.inFlight() > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private inFlight(): number {
    let n = 0;
    for (const load of this.load.values()) n += load;
    return n;
  }

  private roomiest(): Bind | undefined {
    let best: Bind | undefined;
    for (const bind of this.binds) {
      if (!bind.canSubmit || !bind.session) continue;
      const load = this.inWindow(bind);
      if (load < this.options.window && (!best || load < this.inWindow(best))) best = bind;
    }
    return best;
  }

  private send(bind: Bind, item: Item): void {
    const session = bind.session!;
    if (item.resends > 0) this.options.counts.resentUnconfirmed++;
    this.load.set(bind, this.inWindow(bind) + 1);
    session.request({ command: "submit_sm", body: item.body }).then(
      (answer) => {
        this.release(bind);
        this.silent.delete(bind);
        if (answer.status === STATUS.ESME_ROK && answer.command === "submit_sm_resp") {
          this.throttleMs = 0;
          this.options.counts.submitted++;
          if (item.done) this.options.counts.abandoned++;
          this.finish(item, () => item.resolve(answer.body.messageId));
        } else if (THROTTLES.has(answer.status)) {
          this.options.counts.throttled++;
          this.throttle(answer.status);
          this.again(item);
        } else {
          this.finish(item, () => item.reject(new SubmitRefusedError(answer.status)));
        }
        this.pump();
      },
      (error: Error) => {
        this.release(bind);
        if (error instanceof ResponseTimeoutError) this.noAnswer(bind);
        if (error instanceof ResponseTimeoutError || error instanceof SessionClosedError) this.unanswered(item, error);
        else {
          this.finish(item, () => item.reject(error));
        }
        this.pump();
      },
    );
  }

  private release(bind: Bind): void {
    this.load.set(bind, Math.max(0, this.inWindow(bind) - 1));
  }

  /** A submit the SMSC answered "slow down": back at the head of the queue. */
  private again(item: Item): void {
    if (this.closed) this.finish(item, () => item.reject(new SubmitNotSentError(this.closed!)));
    else if (!item.done) this.queue.unshift(item);
  }

  /** A submit whose answer was lost: sent again (MAX_RESENDS times at most), else failed as unconfirmed for the pipeline to retry later. */
  private unanswered(item: Item, error: Error): void {
    if (item.done) {
      this.options.counts.abandoned++;
      return;
    }
    if (this.closed || item.resends >= MAX_RESENDS) {
      this.options.counts.abandoned++;
      const why = this.closed ? `${this.closed} with it unanswered` : `it went ${item.resends + 1} times without an answer`;
      this.finish(item, () => item.reject(new SubmitUnconfirmedError(`the SMSC may or may not have taken the submit_sm: ${why} (${error.message})`)));
      return;
    }
    item.resends++;
    this.queue.unshift(item);
  }

  /** Submits without an answer on `bind`, in a row: past SILENT_SUBMITS its session is closed, and the bind binds afresh. */
  private readonly silent = new Map<Bind, number>();

  private noAnswer(bind: Bind): void {
    const n = (this.silent.get(bind) ?? 0) + 1;
    this.silent.set(bind, n);
    if (n < SILENT_SUBMITS) return;
    this.silent.delete(bind);
    bind.session?.close(`${n} submit_sm in a row got no answer within responseTimeoutMs`);
  }

  /** Pauses every bind; the window's other answers to the same burst find the pause begun and do not lengthen it. */
  private throttle(status: number): void {
    if (Date.now() < this.pausedUntil) return;
    this.throttleMs = Math.min(this.options.maxThrottleMs, this.throttleMs === 0 ? this.options.throttleMs : this.throttleMs * 2);
    if (this.throttleMs === this.options.throttleMs)
      this.options.logger.warn(`the SMSC asks to slow down (${statusText(status)}): submits pause, from ${this.throttleMs} ms`);
    this.pausedUntil = Date.now() + this.throttleMs;
    clearTimeout(this.wake);
    this.wake = undefined;
  }

  private callOff(item: Item, reason: string): void {
    // One in a window is answered later; if the SMSC takes it, `abandoned` counts it.
    this.unqueue(item);
    this.finish(item, () => item.reject(new SubmitNotSentError(reason)));
  }

  private unqueue(item: Item): void {
    const at = this.queue.indexOf(item);
    if (at >= 0) this.queue.splice(at, 1);
  }

  private expire(): void {
    const now = Date.now();
    for (const item of [...this.queue]) if (item.deadline <= now) this.expired(item);
  }

  private expired(item: Item): void {
    const reason = `no SMPP bind could take the submit before the send's deadline (binds: ${this.describeBinds()})`;
    if (item.resends === 0) this.callOff(item, reason);
    else {
      this.unqueue(item);
      this.options.counts.abandoned++;
      this.finish(item, () => item.reject(new SubmitUnconfirmedError(`the SMSC may or may not have taken the submit_sm, whose answer was lost; ${reason}`)));
    }
  }

  private describeBinds(): string {
    return this.binds
      .filter((b) => b.mode !== "receiver")
      .map((b) => `${b.label} ${b.state}${b.lastError ? ` (${b.lastError})` : ""}`)
      .join("; ");
  }

  private finish(item: Item, settle: () => void): void {
    if (item.done) return;
    item.done = true;
    item.cleanup();
    settle();
  }
}
