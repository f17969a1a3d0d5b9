import { Queue as JobQueue, Worker, type Job as QueueJob } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { WorkLoop } from "../pipeline/work-loop.ts";
import type { OutgoingWork } from "../store/store.ts";
import type { Job, StopOptions } from "../pipeline/work-loop.ts";
import type { ConsumeOptions, Queue, QueueJobCount, WorkSource } from "./queue.ts";

const INBOUND = "rapidsms-inbound";
const sendQueueName = (backend: string) => `rapidsms-send-${backend.replaceAll(":", "_")}`;
/** BullMQ: 1 is the highest priority. Replies (priority 1 here) go before bulk (0). */
const jobPriority = (priority = 0) => (priority > 0 ? 1 : 2);
const keep = { removeOnComplete: true, removeOnFail: 1_000 };

/**
 * The scale-out queue: BullMQ on Redis. An accepted message becomes an inbound job; queued
 * transmissions become a send job per message and backend, on one queue per backend, with
 * priorities (replies first). A slow sweep of the store catches work whose job was lost (a web
 * process that died between its commit and the enqueue). Rate limits are kept by the senders
 * through the store, which spaces sends exactly; BullMQ's limiter, tried first, reached only 94%
 * of a 50 msg/s limit here, since each job's own overhead adds to the limiter's interval.
 */
export class BullmqQueue implements Queue {
  readonly description: string;
  /** Its workers may be in any process: no hand-off. */
  readonly local = null;
  private readonly logger: Logger;
  private readonly connection: Redis;
  /** Workers block on connections of their own; BullMQ leaves closing given connections to us. */
  private readonly workerConnections: Redis[] = [];
  private readonly queues = new Map<string, JobQueue>();
  private readonly workers: Worker[] = [];
  private sweeper: WorkLoop | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private active = 0;
  /** Aborted when stop() gives up waiting for the jobs under way. */
  private abort = new AbortController();

  constructor(url: string, logger: Logger) {
    this.logger = logger;
    this.description = `BullMQ on ${url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")}`;
    this.connection = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  }

  private queue(name: string): JobQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new JobQueue(name, { connection: this.connection });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Jobs by state in the inbound queue and each backend's send queue (read from Redis at each
   * scrape; every process sees the same counts). BullMQ keeps jobs with a priority apart from the
   * others that wait: both are waiting here.
   */
  async jobCounts(backends: readonly string[]): Promise<QueueJobCount[]> {
    const names = [INBOUND, ...backends.map(sendQueueName)];
    const counts = await Promise.all(names.map((name) => this.queue(name).getJobCounts("waiting", "prioritized", "active", "delayed", "failed")));
    return names.flatMap((queue, i) => {
      const { waiting = 0, prioritized = 0, active = 0, delayed = 0, failed = 0 } = counts[i];
      return [
        { queue, state: "waiting", count: waiting + prioritized },
        { queue, state: "active", count: active },
        { queue, state: "delayed", count: delayed },
        { queue, state: "failed", count: failed },
      ];
    });
  }

  private workerConnection(): Redis {
    const connection = this.connection.duplicate();
    this.workerConnections.push(connection);
    return connection;
  }

  async incomingAccepted(id: string, notBefore?: number): Promise<void> {
    const delay = Math.max(0, (notBefore ?? 0) - Date.now());
    // A retry is a job of its own: the first one, with the message's id, may still be kept as completed.
    await this.queue(INBOUND).add("incoming", { id }, { jobId: notBefore ? `${id}-${notBefore}` : id, delay, ...keep });
  }

  /** `stale`: handed out again by the sweep; one such job per message and backend at a time. */
  async outgoingQueued(work: readonly OutgoingWork[], stale?: "stale"): Promise<void> {
    const now = Date.now();
    await Promise.all(
      work.map((w) =>
        this.queue(sendQueueName(w.backend)).add(
          "send",
          { messageId: w.messageId, backend: w.backend, priority: w.priority ?? 0, ...(w.notBefore ? { notBefore: w.notBefore } : {}) },
          {
            priority: jobPriority(w.priority),
            delay: Math.max(0, (w.notBefore ?? now) - now),
            ...(stale ? { jobId: `stale-${w.messageId}-${w.backend}` } : {}),
            ...keep,
          },
        ),
      ),
    );
  }

  async consume(source: WorkSource, options: ConsumeOptions): Promise<void> {
    const run = async (jobs: Job[]) => {
      this.active++;
      try {
        for (const job of jobs) await job(this.abort.signal);
      } finally {
        this.active--;
      }
    };
    this.workers.push(
      new Worker(INBOUND, async (job: QueueJob<{ id: string }>) => run(await source.claimIncoming(1, job.data.id)), {
        connection: this.workerConnection(),
        concurrency: options.inboundConcurrency,
      }),
    );
    for (const backend of options.backends) {
      const worker = new Worker(
        sendQueueName(backend),
        async (job: QueueJob<OutgoingWork & { priority: number }>) => {
          const jobs = await source.claimSends(1, job.data);
          // A delayed job (a scheduled send, a retry) that Redis handed out before this process's
          // clock says it is due found nothing: it waits again, rather than for the stale sweep.
          if (jobs.length === 0 && (job.data.notBefore ?? 0) > Date.now()) {
            await this.outgoingQueued([job.data]);
            return;
          }
          await run(jobs);
          // A job sends one batch; if the message has more, it goes on as another job, so that
          // the limiter counts every send and other messages get their turn.
          if (await source.hasDueSends(job.data)) await this.outgoingQueued([{ ...job.data, notBefore: undefined }]);
        },
        {
          connection: this.workerConnection(),
          concurrency: options.sendConcurrency,
        },
      );
      this.workers.push(worker);
    }
    for (const worker of this.workers) worker.on("error", (error) => this.logger.error({ err: error }, "queue worker error"));
    this.sweeper = new WorkLoop({
      name: "inbound sweep",
      concurrency: options.inboundConcurrency,
      pollMs: options.pollMs * 5,
      logger: this.logger,
      claim: (free) => source.claimIncoming(free),
    });
    this.sweeper.start();
    this.staleTimer = setInterval(() => {
      source
        .staleOutgoing()
        .then((stale) => this.outgoingQueued(stale, "stale"))
        .catch((error) => this.logger.error({ err: error }, "sweeping stale outbound work failed"));
    }, options.pollMs * 5);
    this.staleTimer.unref();
  }

  get busy(): boolean {
    return this.active > 0 || !!this.sweeper?.busy;
  }

  async stop({ timeoutMs = Number.POSITIVE_INFINITY, onDeadline }: StopOptions = {}): Promise<boolean> {
    clearInterval(this.staleTimer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const closing = Promise.all([this.sweeper?.stop({ timeoutMs }), ...this.workers.map((w) => w.close())]).then(() => true as const);
    const finished = await Promise.race([closing, deadline]);
    clearTimeout(timer);
    if (!finished) {
      await onDeadline?.();
      this.abort.abort(new Error("the queue stopped waiting for this job (shutdown deadline)"));
      await Promise.all(this.workers.map((w) => w.close(true)));
    }
    this.abort = new AbortController();
    for (const connection of this.workerConnections) connection.disconnect();
    this.workers.length = 0;
    this.workerConnections.length = 0;
    this.sweeper = undefined;
    return finished;
  }

  async ping(): Promise<void> {
    if (this.connection.status === "wait") await this.connection.connect();
    await this.connection.ping();
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }
}
