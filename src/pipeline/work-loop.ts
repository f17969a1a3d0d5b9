import type { Logger } from "pino";

/** A unit of work; `signal` aborts when the loop stops waiting for it (the shutdown deadline). */
export type Job = (signal: AbortSignal) => Promise<void>;

/** A place held in a WorkLoop for a job about to be handed in. */
export interface Reservation {
  run(job: Job): void;
  cancel(): void;
}

export interface StopOptions {
  /** How long to wait for the work under way. */
  timeoutMs?: number;
  /** Runs when the wait is over and work is still under way, before that work is told to stop. */
  onDeadline?: () => Promise<void>;
}

export interface WorkLoopOptions {
  name: string;
  /** Jobs running at once at most. */
  concurrency: number;
  /** Sleep between empty claims unless woken. */
  pollMs: number;
  /** Claims up to `free` units of work and returns a job for each. */
  claim: (free: number) => Promise<Job[]>;
  logger: Logger;
}

/**
 * Claims work and runs it, up to `concurrency` jobs at once; sleeps when there is none until
 * `wake()`, `pollMs`, or a job finishing while the last claim still found work.
 */
export class WorkLoop {
  private readonly options: WorkLoopOptions;
  private readonly running = new Set<Promise<void>>();
  /** Places held for jobs about to be handed in (see `reserve`). */
  private reserved = 0;
  private active = false;
  private claiming = false;
  /** Places the claim under way asked for: they are not free for `reserve` until it answers. */
  private claimingFor = 0;
  private woken = false;
  /**
   * The last claim found nothing: a job finishing does not mean there is more to claim (jobs
   * handed in through `reserve` finish all the time while the store has nothing for a claim).
   * Only `wake()` (new work) or the poll claims again.
   */
  private drained = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** Aborted when stop() gives up waiting for the running jobs. */
  private abort = new AbortController();
  /** Called when a job ends or a reserved place is used or given up: stop() looks again at what is under way. */
  private readonly settled = new Set<() => void>();

  constructor(options: WorkLoopOptions) {
    this.options = options;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.loop = this.run();
  }

  /** Look for work now: there is new work. */
  wake(): void {
    this.drained = false;
    this.nudge();
  }

  private nudge(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Holds a place for a job this process is about to hand itself (see Router.receive), if one is
   * free: `run` starts the job in it, `cancel` gives it back.
   */
  reserve(): Reservation | undefined {
    if (!this.active || this.running.size + this.reserved + this.claimingFor >= this.options.concurrency) return undefined;
    this.reserved++;
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      this.reserved--;
      this.notifySettled();
      return true;
    };
    return {
      run: (job) => {
        if (close()) this.track(job);
      },
      cancel: () => {
        if (close()) this.wake();
      },
    };
  }

  /** Places running a job or held for one, and the places left (for /metrics). */
  get places(): { active: number; free: number } {
    const active = this.running.size + this.reserved;
    return { active, free: Math.max(0, this.options.concurrency - active) };
  }

  /** True while a claim or a job is under way. */
  get busy(): boolean {
    return this.claiming || this.running.size > 0 || this.reserved > 0;
  }

  /**
   * Stops claiming and waits for the running jobs, and for those still to be handed in through
   * places reserved before (a processed message's replies, for the send loop), `timeoutMs` at
   * most; then runs `onDeadline`, signals the jobs still running to stop, and returns without
   * them. Resolves whether every job finished in time.
   */
  async stop({ timeoutMs = Number.POSITIVE_INFINITY, onDeadline }: StopOptions = {}): Promise<boolean> {
    this.active = false;
    this.wake();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([this.underWay(), deadline]);
    clearTimeout(timer);
    if (!finished) {
      await onDeadline?.();
      this.abort.abort(new Error("the work loop stopped waiting for this job (shutdown deadline)"));
    }
    this.abort = new AbortController();
    return finished;
  }

  /** Resolves when no job runs and no place is reserved. */
  private async underWay(): Promise<true> {
    while (this.running.size > 0 || this.reserved > 0) await new Promise<void>((resolve) => this.settled.add(resolve));
    return true;
  }

  private notifySettled(): void {
    for (const resolve of this.settled) resolve();
    this.settled.clear();
  }

  private async run(): Promise<void> {
    while (this.active) {
      this.woken = false;
      const free = this.options.concurrency - this.running.size - this.reserved;
      let claimed = 0;
      if (free > 0) {
        this.claiming = true;
        this.claimingFor = free;
        try {
          const jobs = await this.options.claim(free);
          claimed = jobs.length;
          // Unless new work came in while this claim ran.
          if (!this.woken) this.drained = claimed === 0;
          for (const job of jobs) this.track(job);
        } catch (error) {
          this.options.logger.error({ err: error, loop: this.options.name }, "claiming work failed; trying again");
        } finally {
          this.claiming = false;
          this.claimingFor = 0;
        }
      }
      if (claimed > 0 && this.running.size < this.options.concurrency) continue;
      if (!this.woken && this.active) await this.sleep();
    }
  }

  private track(job: Job): void {
    const running: Promise<void> = Promise.resolve()
      .then(() => job(this.abort.signal))
      .catch((error) => this.options.logger.error({ err: error, loop: this.options.name }, "a job failed; its work will be claimed again"))
      .finally(() => {
        this.running.delete(running);
        this.notifySettled();
        if (!this.drained) this.nudge();
      });
    this.running.add(running);
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      // Unref'd: a forgotten loop must not keep a process alive; servers and CLIs stop it explicitly.
      const timer = setTimeout(done, this.options.pollMs).unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
