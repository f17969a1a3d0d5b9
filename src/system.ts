import type { Logger } from "pino";
import type { ResolvedConfig } from "./config/config.ts";
import { silentLogger } from "./logger.ts";
import { EmbeddedQueue } from "./queue/embedded.ts";
import type { Queue } from "./queue/queue.ts";
import { setRouter } from "./router/global.ts";
import { Router } from "./router/router.ts";
import { errorText, StoreUnavailableError } from "./errors.ts";
import { openStore, redactUrl } from "./store/open.ts";
import type { Store } from "./store/store.ts";

/** web: the HTTP server only; worker: processing and sending only; all: both (the default). */
export type Role = "web" | "worker" | "all";

export interface System {
  config: ResolvedConfig;
  store: Store;
  queue: Queue;
  router: Router;
  role: Role;
  /** Stops the pipeline (running work finishes, queued work stays queued), then closes the queue and store. */
  close(): Promise<void>;
}

/** Opens the store (running migrations) and the queue, builds the backends and apps, and installs the router. */
export async function createSystem(config: ResolvedConfig, logger: Logger = silentLogger, role: Role = "all"): Promise<System> {
  const store = openStore(config.database, config.baseDir);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw new StoreUnavailableError(
      `cannot open the database ${redactUrl(config.database)}: ${errorText(error)}: check that it is running and that database (or DATABASE_URL) names it`,
      { cause: error },
    );
  }
  // BullMQ and ioredis are loaded only by deployments that use them.
  const queue: Queue = config.queue ? new (await import("./queue/bullmq.ts")).BullmqQueue(config.queue, logger) : new EmbeddedQueue(logger);
  const backends = Object.fromEntries(
    Object.entries(config.backends).map(([name, { engine, options }]) => [name, (router: Router) => engine.create(router, name, options)]),
  );
  const router = new Router({
    store,
    queue,
    apps: config.apps,
    backends,
    settings: { projectName: config.projectName, defaultResponse: config.defaultResponse },
    pipeline: config.pipeline,
    logger,
  });
  if (role !== "web") await router.start();
  setRouter(router);
  return {
    config,
    store,
    queue,
    router,
    role,
    async close() {
      await router.stop();
      await queue.close();
      setRouter(undefined);
      await store.close();
    },
  };
}
