import type { Logger } from "pino";
import type { RetentionSettings } from "../config/operations.ts";
import { errorText } from "../errors.ts";
import type { PurgeCursor, PurgeResult, RetentionStore } from "../store/store.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionInit {
  store: RetentionStore;
  settings: RetentionSettings;
  logger: Logger;
  /** Messages per transaction. */
  batch?: number;
  /** The pause between batches, which leaves the store's writer to the traffic. */
  pauseMs?: number;
  /** How long after start the first purge runs, and the time between purges. */
  firstAfterMs?: number;
  everyMs?: number;
}

/**
 * Purges finished messages older than `retention.days`: soon after start, then every hour, in
 * batches (500 messages, about 2,000 recipients at most) with a pause between them, so that the
 * purge of a year's backlog never holds the store's writer for more than one short transaction at
 * a time. A run walks the messages once, oldest first: those it could not purge are passed by.
 */
export class RetentionPurge {
  private readonly init: Required<RetentionInit>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(init: RetentionInit) {
    this.init = { batch: 500, pauseMs: 50, firstAfterMs: 5_000 + Math.random() * 5_000, everyMs: 60 * 60_000, ...init };
  }

  start(): void {
    this.stopping = false;
    this.schedule(this.init.firstAfterMs);
  }

  /** Stops after the batch under way, if any. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Purges everything old enough now, batch after batch; resolves with how many messages went. */
  async purge(now = Date.now()): Promise<number> {
    const { store, settings, batch, pauseMs } = this.init;
    const olderThan = now - settings.days * DAY_MS;
    let total = 0;
    let after: PurgeCursor | null = null;
    for (;;) {
      const { messages, backendMessages, next }: PurgeResult = await store.purgeFinished({ olderThan, limit: batch, after });
      total += messages;
      if (next === null && backendMessages < batch) return total;
      after = next;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      if (this.stopping) return total;
    }
  }

  private schedule(afterMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.purge()
        .then(
          (purged) => {
            if (purged > 0)
              this.init.logger.info(
                { purged, days: this.init.settings.days },
                `retention: purged ${purged} finished messages older than ${this.init.settings.days} days`,
              );
          },
          (error: unknown) =>
            this.init.logger.error({ err: error }, `retention: purging old messages failed (${errorText(error)}); it is tried again in an hour`),
        )
        .finally(() => {
          this.running = undefined;
          this.schedule(this.init.everyMs);
        });
    }, afterMs);
    this.timer.unref();
  }
}
