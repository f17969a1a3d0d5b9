import type { Logger } from "pino";
import { WorkLoop, type Reservation, type StopOptions } from "../pipeline/work-loop.ts";
import type { OutgoingWork } from "../store/store.ts";
import type { ConsumeOptions, LocalWorkers, Queue, QueueJobCount, WorkSource } from "./queue.ts";

/** The longest a Node timer waits (about 24.8 days): a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wakes after `ms`; work due later than a timer can wait is found by the loops' poll (every `pollMs`). */
function wakeLater(wake: () => void, ms: number): void {
  if (ms <= MAX_TIMER_MS) setTimeout(wake, ms).unref();
}

/**
 * The embedded queue: the store is the queue. Workers poll it with leased claims; in the process
 * that accepted the work they are woken at once.
 */
export class EmbeddedQueue implements Queue, LocalWorkers {
  readonly description = "embedded (on the store)";
  readonly local: LocalWorkers = this;
  private readonly logger: Logger;
  private inbound: WorkLoop | undefined;
  private sender: WorkLoop | undefined;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  async incomingAccepted(_id: string, notBefore?: number): Promise<void> {
    this.wakeAt(() => this.inbound?.wake(), notBefore);
  }

  /** Wakes a loop now, or when `notBefore` comes (then, not only at the next poll). */
  private wakeAt(wake: () => void, notBefore?: number): void {
    const wait = (notBefore ?? 0) - Date.now();
    if (wait <= 0) wake();
    else wakeLater(wake, wait);
  }

  reserveInbound(): Reservation | undefined {
    return this.inbound?.reserve();
  }

  reserveSend(): Reservation | undefined {
    return this.sender?.reserve();
  }

  async outgoingQueued(work: readonly OutgoingWork[]): Promise<void> {
    const now = Date.now();
    const later = work.map((w) => w.notBefore ?? 0).filter((at) => at > now);
    if (later.length < work.length) this.sender?.wake();
    // A retry or a scheduled send is due later: look for it then, not only at the next poll.
    if (later.length > 0) wakeLater(() => this.sender?.wake(), Math.min(...later) - now);
  }

  async consume(source: WorkSource, options: ConsumeOptions): Promise<void> {
    this.inbound = new WorkLoop({
      name: "inbound",
      concurrency: options.inboundConcurrency,
      pollMs: options.pollMs,
      logger: this.logger,
      claim: (free) => source.claimIncoming(free),
    });
    this.sender = new WorkLoop({
      name: "send",
      concurrency: options.sendConcurrency,
      pollMs: options.pollMs,
      logger: this.logger,
      claim: (free) => source.claimSends(free),
    });
    this.inbound.start();
    this.sender.start();
  }

  /** This process's places: a web-only process has none. */
  async jobCounts(): Promise<QueueJobCount[]> {
    const counts: QueueJobCount[] = [];
    for (const [queue, loop] of [
      ["inbound", this.inbound],
      ["send", this.sender],
    ] as const) {
      if (!loop) continue;
      const { active, free } = loop.places;
      counts.push({ queue, state: "active", count: active }, { queue, state: "free", count: free });
    }
    return counts;
  }

  get busy(): boolean {
    return !!(this.inbound?.busy || this.sender?.busy);
  }

  async stop(options: StopOptions = {}): Promise<boolean> {
    // One deadline for both loops, and `onDeadline` once.
    let called: Promise<void> | undefined;
    const onDeadline = () => (called ??= options.onDeadline?.() ?? Promise.resolve());
    const loops = [this.inbound, this.sender].filter((loop) => loop !== undefined);
    const finished = await Promise.all(loops.map((loop) => loop.stop({ timeoutMs: options.timeoutMs, onDeadline })));
    this.inbound = undefined;
    this.sender = undefined;
    return finished.every(Boolean);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    await this.stop();
  }
}
