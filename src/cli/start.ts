import { loadConfig } from "../config/load.ts";
import { redactUrl } from "../store/open.ts";
import { configSecrets, createLogger } from "../logger.ts";
import { createServer } from "../server/server.ts";
import { createSystem, type Role } from "../system.ts";

export interface StartOptions {
  config?: string;
  port?: number;
  host?: string;
  role?: Role;
}

/**
 * Runs the server (and/or the workers, by role) until SIGTERM or SIGINT, then stops taking
 * requests, finishes the work under way and closes the queue and the store.
 */
export async function runStart(options: StartOptions): Promise<void> {
  const role = options.role ?? "all";
  const config = await loadConfig({ configPath: options.config, overrides: { port: options.port, host: options.host } });
  const logger = createLogger(config.logLevel, configSecrets(config));
  const system = await createSystem(config, logger, role);
  const context = {
    role,
    config: config.source ?? "embedded default",
    database: redactUrl(config.database),
    queue: system.queue.description,
    backends: [...system.router.backends.keys()],
  };
  const server = role === "worker" ? undefined : await createServer(system, { logger });
  if (server) {
    await server.listen({ port: config.port, host: config.host });
    const address = server.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    logger.info(context, `RapidSMS listening on http://${config.host}:${port}`);
  } else {
    logger.info(context, "RapidSMS worker running: processing and sending, no HTTP server");
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: no new requests; finishing accepted messages");
    await server?.close();
    await system.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}
