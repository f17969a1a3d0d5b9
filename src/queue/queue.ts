import type { Job, Reservation, StopOptions } from "../pipeline/work-loop.ts";
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
 * Places in this process's own workers, for work this process stores already claimed (see
 * Pipeline.accept): the work skips a claim through the store. Only a queue whose workers run in
 * the accepting process has them.
 */
export interface LocalWorkers {
  /** A place for an inbound message to be processed here, if this process takes inbound work and has room. */
  reserveInbound(): Reservation | undefined;
  /** A place for sends to be made here, if this process sends and has room. */
  reserveSend(): Reservation | undefined;
}

/** One of a queue's own counts for /metrics: jobs (or places) of one queue in one state. */
export interface QueueJobCount {
  queue: string;
  state: string;
  count: number;
}

/**
 * Hands work from where it is accepted (a web process) to where it is done (a worker). The store
 * stays the truth: a job only says where to look, and a worker claims the work in the store
 * before doing it, so a job delivered twice does nothing the second time.
 */
export interface Queue {
  /** For logs and /healthz. */
  readonly description: string;
  /** This process's workers, when the queue runs them here (the embedded queue); null otherwise. */
  readonly local: LocalWorkers | null;
  /** An inbound message was accepted (or, with `notBefore`, is to be processed again then). */
  incomingAccepted(id: string, notBefore?: number): Promise<void>;
  /** Transmissions were queued (new, or to retry at `notBefore`). */
  outgoingQueued(work: readonly OutgoingWork[]): Promise<void>;
  /** Worker role: start taking work. */
  consume(source: WorkSource, options: ConsumeOptions): Promise<void>;
  /** True while this process is claiming or doing work. */
  readonly busy: boolean;
  /**
   * Stops taking work and waits for the work under way, `timeoutMs` at most; then runs
   * `onDeadline` and signals the work still under way to stop. Resolves whether all of it
   * finished in time.
   */
  stop(options?: StopOptions): Promise<boolean>;
  /** Throws when the queue cannot be reached. */
  ping(): Promise<void>;
  /** The queue's own counts for /metrics (jobs by state; places in use), for the queues of these backends' sends and the inbound one. */
  jobCounts?(backends: readonly string[]): Promise<QueueJobCount[]>;
  close(): Promise<void>;
}
