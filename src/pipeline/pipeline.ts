import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Router } from "../router/router.ts";
import type { PipelineOptions } from "./policy.ts";
import { Sender } from "./sender.ts";
import { WorkLoop } from "./work-loop.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The background work of one process: an inbound loop that runs accepted messages through the
 * apps, and a send loop that delivers queued transmissions. Both claim work from the store with
 * renewable leases, so work claimed by a process that died is picked up again.
 */
export class Pipeline {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly router: Router;
  private readonly options: PipelineOptions;
  private readonly inbound: WorkLoop;
  private readonly sender: WorkLoop;
  private housekeeping: NodeJS.Timeout | undefined;

  constructor(router: Router, options: PipelineOptions) {
    this.router = router;
    this.options = options;
    this.inbound = new WorkLoop({
      name: "inbound",
      concurrency: options.inboundConcurrency,
      pollMs: options.pollMs,
      logger: router.logger,
      claim: async (free) => {
        const claimed = await router.store.claimIncoming(this.owner, free, options.leaseMs);
        return claimed.map((message) => () => router.processClaimed(message));
      },
    });
    const sender = new Sender(router, options, this.owner);
    this.sender = new WorkLoop({
      name: "send",
      concurrency: options.sendConcurrency,
      pollMs: options.pollMs,
      logger: router.logger,
      claim: (free) => sender.claim(free),
    });
  }

  start(): void {
    this.inbound.start();
    this.sender.start();
    let lastPurge = 0;
    this.housekeeping = setInterval(() => {
      const now = Date.now();
      void this.router.store.renewClaims(this.owner, this.options.leaseMs, now).catch((error) =>
        this.router.logger.error({ err: error }, "renewing work leases failed"),
      );
      if (now - lastPurge > 10 * 60_000) {
        lastPurge = now;
        void this.router.store.purgeDedupe(now - this.options.dedupeWindowMs).catch((error) =>
          this.router.logger.error({ err: error }, "purging old gateway ids failed"),
        );
      }
    }, Math.max(50, Math.floor(this.options.leaseMs / 3)));
    this.housekeeping.unref();
  }

  wakeInbound(): void {
    this.inbound.wake();
  }

  wakeSender(): void {
    this.sender.wake();
  }

  /**
   * Resolves when everything is done: every accepted message processed and every transmission
   * final (S, D or E), retries included. For tests and tools; a server never needs it.
   */
  async idle(): Promise<void> {
    for (;;) {
      while (this.inbound.busy || this.sender.busy) await sleep(2);
      const pending = await this.router.store.pendingWork();
      if (pending.inbound === 0 && pending.outbound === 0 && pending.nextRetryAt === null) return;
      this.inbound.wake();
      this.sender.wake();
      await sleep(pending.nextRetryAt === null ? 5 : Math.max(5, Math.min(1_000, pending.nextRetryAt - Date.now())));
    }
  }

  /** Stops claiming, lets running work finish, and gives back anything still claimed. */
  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    await Promise.all([this.inbound.stop(), this.sender.stop()]);
    await this.router.store.releaseClaims(this.owner);
  }
}
