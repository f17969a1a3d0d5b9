import { loadConfig } from "../config/load.ts";
import { redactUrl } from "../store/open.ts";
import { configSecrets, createLogger } from "../logger.ts";
import { createServer } from "../server/server.ts";
import { setRouter } from "../router/global.ts";
import { createSystem, type Role } from "../system.ts";

export interface StartOptions {
  config?: string;
  port?: number;
  host?: string;
  role?: Role;
  /** How long stopping waits for work under way, in ms (default: pipeline.shutdownTimeoutMs, 30 s). */
  shutdownTimeout?: number;
}

/**
 * Runs the server (and/or the workers, by role) until SIGTERM or SIGINT, then stops taking
 * requests, finishes the work under way (for the shutdown timeout at most: what is still running
 * then is given back for other workers) and closes the queue and the store.
 */
export async function runStart(options: StartOptions): Promise<void> {
  const role = options.role ?? "all";
  const config = await loadConfig({ configPath: options.config, overrides: { port: options.port, host: options.host } });
  const logger = createLogger(config.logLevel, configSecrets(config));
  const system = await createSystem(config, logger, role, {
    // The store thread keeps dying: exit, so that the supervisor starts the process afresh.
    onStoreFailed: (error) => {
      logger.fatal({ err: error }, "the store gave up; exiting");
      process.exit(1);
    },
  });
  // This process's system: RapidSMS's module-level receive() and send() use its router.
  setRouter(system.router);
  const context = {
    role,
    config: config.source ?? "embedded default",
    database: redactUrl(config.database),
    queue: system.queue.description,
    backends: [...system.backends.keys()],
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
    const timeoutMs = options.shutdownTimeout ?? config.pipeline.shutdownTimeoutMs;
    // Whatever hangs past the deadline (a request that never ends, a gateway), the process exits.
    setTimeout(() => {
      logger.error({ timeoutMs }, "shutdown did not finish in time; exiting now");
      process.exit(1);
    }, timeoutMs + 5_000).unref();
    await server?.close();
    await system.close({ timeoutMs });
    setRouter(undefined);
    logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  stopWithNpm(() => void stop("npm stopped"));
}

/**
 * Started through npm (`npm start`, `npx rapidsms start`), the server runs under npm and a shell;
 * stopping npm's PID stops neither of them, and the server would run on as an orphan. So it stops
 * too when the process that started it is gone. A server started any other way (a service unit, a
 * container, `nohup`) is left to its own signals.
 */
function stopWithNpm(stop: () => void): void {
  if (!process.env.npm_execpath) return;
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 500).unref();
}
