import type { Logger } from "pino";
import type { BackendBase } from "./backends/backend.ts";
import type { ResolvedConfig } from "./config/config.ts";
import { ConfigError, errorText, StoreUnavailableError } from "./errors.ts";
import { silentLogger } from "./logger.ts";
import { Pipeline } from "./pipeline/pipeline.ts";
import { EmbeddedQueue } from "./queue/embedded.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { timedStore } from "./metrics/timed-store.ts";
import type { Queue } from "./queue/queue.ts";
import { appTables } from "./apps/app.ts";
import { checkWebhookApps } from "./apps/webhook.ts";
import { Router } from "./router/router.ts";
import { redactUrl } from "./store/open.ts";
import { type OpeningStore, openSystemStore, type SystemStoreOptions } from "./system-store.ts";
import type { Store } from "./store/store.ts";
import { loadNow } from "./load-now.ts";

// Kysely, in this thread, only for apps with tables of their own (or a PostgreSQL store).
const appData = () => loadNow<typeof import("./store/app-data/migrate.ts")>(import.meta.url, "./store/app-data/migrate");

/** web: the HTTP server only; worker: processing and sending only; all: both (the default). */
export type Role = "web" | "worker" | "all";

export interface System {
  config: ResolvedConfig;
  store: Store;
  queue: Queue;
  /** The phase engine: the apps, `receive`, `send`, `lookupConnections`. */
  router: Router;
  /** Durable work: accept, process, send, report; the backends. */
  pipeline: Pipeline;
  backends: ReadonlyMap<string, BackendBase<object>>;
  role: Role;
  /** What /metrics serves (a no-op when `config.metrics` is false). */
  metrics: Metrics;
  /**
   * Stops the pipeline (running work finishes, `shutdownTimeoutMs` at most, then it is given back
   * for other workers; queued work stays queued), then closes the backends, the queue and the store.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Opens the store (running migrations) and the queue, builds the backends and apps, and starts the workers (unless `web`). */
export interface SystemOptions extends SystemStoreOptions {
  /** The store, opened ahead by openSystemStore (with the same config and options); by default createSystem opens it. */
  opening?: OpeningStore;
}

export async function createSystem(config: ResolvedConfig, logger: Logger = silentLogger, role: Role = "all", options: SystemOptions = {}): Promise<System> {
  try {
    checkWebhookApps(config.apps, config.webhooks.secret);
  } catch (error) {
    await options.opening?.store.close().catch(() => {});
    throw error;
  }
  const { store: opened, migrated } = options.opening ?? openSystemStore(config, logger, options);
  const metrics = createMetrics(config.metrics, { role });
  const store = timedStore(opened, metrics);
  try {
    await migrated;
  } catch (error) {
    await store.close().catch(() => {});
    if (error instanceof ConfigError) throw error;
    const named = options.database ? "the database the host app gave" : `the database ${redactUrl(config.database)}`;
    throw new StoreUnavailableError(`cannot open ${named}: ${errorText(error)}: check that it is running and that database (or DATABASE_URL) names it`, {
      cause: error,
    });
  }
  const apps = appTables(config.apps);
  try {
    if (apps.length > 0) await appData().migrateApps(store.appData(), apps);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  const queue: Queue = config.queue ? new (await loadBullmq()).BullmqQueue(config.queue, logger) : new EmbeddedQueue(logger);
  const router = new Router({
    apps: config.apps,
    appSettings: config.appSettings,
    database: () => appData().appDatabase(store.appData(), apps),
    settings: { projectName: config.projectName, defaultResponse: config.defaultResponse, language: config.language },
    translations: config.translations,
    optOut: config.optOut,
    logger,
  });
  const pipeline = new Pipeline({
    store,
    queue,
    router,
    backends: config.backends,
    options: config.pipeline,
    logger,
    publicUrl: config.publicUrl,
    retention: config.retention,
    webhooks: config.webhooks,
    metrics,
  });
  const backendNames = [...pipeline.backends.keys()];
  metrics.watch({ queueDepth: () => store.queueDepth(), ...(queue.jobCounts && { queueJobs: () => queue.jobCounts!(backendNames) }) });
  if (role !== "web") await pipeline.start();
  return {
    config,
    store,
    queue,
    router,
    pipeline,
    backends: pipeline.backends,
    role,
    metrics,
    async close(options = {}) {
      await pipeline.stop(options);
      await pipeline.closeBackends();
      await queue.close();
      await store.close();
    },
  };
}

/**
 * BullMQ and ioredis are optional peer dependencies: loaded, and needed, only by deployments that
 * share work through Redis.
 */
async function loadBullmq(): Promise<typeof import("./queue/bullmq.ts")> {
  try {
    return await import("./queue/bullmq.ts");
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND" || !/bullmq|ioredis/.test(errorText(error))) throw error;
    throw new ConfigError(`queue: a Redis queue needs the packages bullmq and ioredis in your project: npm install bullmq ioredis`, { cause: error });
  }
}
