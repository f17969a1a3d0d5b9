import type { Job, Reservation } from "../pipeline/work-loop.ts";
import type { OutgoingWork } from "../store/store.ts";

/** What a worker process can do; a queue decides when, and on what. */
export interface WorkSource {
  /** Claims up to `limit` accepted inbound messages (or only message `only`) and returns a job for each. */
  claimIncoming(limit: number, only?: string): Promise<Job[]>;
  /** Claims due transmissions (of `only`, if given) for up to `limit` send calls and returns a job for each. */
  claimSends(limit: number, only?: OutgoingWork): Promise<Job[]>;
  /** Whether `work` still has transmissions due (after a send job took its batch). */
  hasDueSends(work: OutgoingWork): Promise<boolean>;
  /** Outbound work that was queued but that nobody seems to be on (see Store.staleOutgoing). */
  staleOutgoing(): Promise<OutgoingWork[]>;
}

export interface ConsumeOptions {
  inboundConcurrency: number;
  sendConcurrency: number;
  pollMs: number;
  /** The backends whose sends this worker takes. */
  backends: readonly string[];
}

/**
 * Hands work from where it is accepted (a web process) to where it is done (a worker). The store
 * stays the truth: a job only says where to look, and a worker claims the work in the store
 * before doing it, so a job delivered twice does nothing the second time.
 */
export interface Queue {
  /** For logs and /healthz. */
  readonly description: string;
  /** An inbound message was accepted. */
  incomingAccepted(id: string): Promise<void>;
  /**
   * A place for an inbound message to be processed by this process, without a claim through the
   * store, when this process takes inbound work and has room (the embedded queue only).
   */
  reserveInbound?(): Reservation | undefined;
  /**
   * A place for sends to be made by this process, of transmissions it stores already claimed, when
   * this process sends and has room (the embedded queue only).
   */
  reserveSend?(): Reservation | undefined;
  /** Transmissions were queued (new, or to retry at `notBefore`). */
  outgoingQueued(work: readonly OutgoingWork[]): Promise<void>;
  /** Worker role: start taking work. */
  consume(source: WorkSource, options: ConsumeOptions): Promise<void>;
  /** True while this process is claiming or doing work. */
  readonly busy: boolean;
  /** Stops taking work and waits for the work under way. */
  stop(): Promise<void>;
  /** Throws when the queue cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
