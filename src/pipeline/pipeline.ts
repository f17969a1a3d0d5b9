import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Queue, WorkSource } from "../queue/queue.ts";
import type { Router } from "../router/router.ts";
import type { ClaimedTransmission, OutgoingWork } from "../store/store.ts";
import type { PipelineOptions } from "./policy.ts";
import { Sender } from "./sender.ts";
import type { Job } from "./work-loop.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The background work of one worker process: running accepted messages through the apps and
 * sending queued transmissions, as the queue hands them out. Work is claimed in the store with
 * leases renewed while this process lives, so work claimed by a process that died is picked up again.
 */
export class Pipeline implements WorkSource {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly router: Router;
  private readonly options: PipelineOptions;
  private readonly queue: Queue;
  private readonly sender: Sender;
  private housekeeping: NodeJS.Timeout | undefined;

  constructor(router: Router, options: PipelineOptions, queue: Queue) {
    this.router = router;
    this.options = options;
    this.queue = queue;
    this.sender = new Sender(router, options, this.owner, queue);
  }

  async claimIncoming(limit: number, only?: string): Promise<Job[]> {
    const claimed = await this.router.store.claimIncoming(this.owner, limit, this.options.leaseMs, Date.now(), only);
    return claimed.map((message) => () => this.router.processClaimed(message));
  }

  claimSends(limit: number, only?: OutgoingWork): Promise<Job[]> {
    return this.sender.claim(limit, only);
  }

  /** Sends transmissions this process stored already claimed (see Router.processClaimed). */
  sendClaimed(claimed: readonly ClaimedTransmission[]): Promise<void> {
    return this.sender.sendClaimed(claimed);
  }

  async hasDueSends(work: OutgoingWork): Promise<boolean> {
    return (await this.router.store.dueTransmissions(work)) > 0;
  }

  staleOutgoing(): Promise<OutgoingWork[]> {
    return this.router.store.staleOutgoing(this.options.staleAfterMs, 1_000);
  }

  async start(): Promise<void> {
    await this.queue.consume(this, {
      inboundConcurrency: this.options.inboundConcurrency,
      sendConcurrency: this.options.sendConcurrency,
      pollMs: this.options.pollMs,
      backends: [...this.router.backends.keys()],
    });
    let lastPurge = 0;
    this.housekeeping = setInterval(
      () => {
        const now = Date.now();
        void this.router.store
          .renewClaims(this.owner, this.options.leaseMs, now)
          .catch((error) => this.router.logger.error({ err: error }, "renewing work leases failed"));
        if (now - lastPurge > 10 * 60_000) {
          lastPurge = now;
          void this.router.store
            .purgeDedupe(now - this.options.dedupeWindowMs)
            .catch((error) => this.router.logger.error({ err: error }, "purging old gateway ids failed"));
        }
      },
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
    this.housekeeping.unref();
  }

  /**
   * Resolves when everything is done: every accepted message processed and every transmission
   * final (S, D or E), retries included. For tests and tools; a server never needs it.
   */
  async idle(): Promise<void> {
    for (;;) {
      while (this.queue.busy) await sleep(2);
      const pending = await this.router.store.pendingWork();
      if (pending.inbound === 0 && pending.outbound === 0 && pending.nextRetryAt === null) return;
      await sleep(pending.nextRetryAt === null ? 5 : Math.max(5, Math.min(1_000, pending.nextRetryAt - Date.now())));
    }
  }

  /** Stops taking work, lets running work finish, and gives back anything still claimed. */
  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    await this.queue.stop();
    await this.router.store.releaseClaims(this.owner);
  }
}
