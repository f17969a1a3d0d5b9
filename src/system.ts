import type { Logger } from "pino";
import type { ResolvedConfig } from "./config/config.ts";
import { silentLogger } from "./logger.ts";
import { setRouter } from "./router/global.ts";
import { Router } from "./router/router.ts";
import { openStore } from "./store/open.ts";
import type { Store } from "./store/store.ts";

export interface System {
  config: ResolvedConfig;
  store: Store;
  router: Router;
  /** Stops the pipeline (running work finishes, queued work stays queued), then closes the store. */
  close(): Promise<void>;
}

/** Opens the store (running migrations), builds the backends and apps, and installs the router. */
export async function createSystem(config: ResolvedConfig, logger: Logger = silentLogger): Promise<System> {
  const store = openStore(config.database, config.baseDir);
  await store.migrate();
  const backends = Object.fromEntries(
    Object.entries(config.backends).map(([name, { engine, options }]) => [name, (router: Router) => engine.create(router, name, options)]),
  );
  const router = new Router({
    store,
    apps: config.apps,
    backends,
    settings: { projectName: config.projectName, defaultResponse: config.defaultResponse },
    pipeline: config.pipeline,
    logger,
  });
  router.start();
  setRouter(router);
  return {
    config,
    store,
    router,
    async close() {
      await router.stop();
      setRouter(undefined);
      await store.close();
    },
  };
}
