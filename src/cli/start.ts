import { loadConfig } from "../config/load.ts";
import { redactUrl } from "../store/open.ts";
import { createLogger } from "../logger.ts";
import { createServer } from "../server/server.ts";
import { createSystem } from "../system.ts";

export interface StartOptions {
  config?: string;
  port?: number;
  host?: string;
}

/** Runs the server until SIGTERM or SIGINT, then stops taking requests, finishes accepted work and closes the store. */
export async function runStart(options: StartOptions): Promise<void> {
  const config = await loadConfig({ configPath: options.config, overrides: { port: options.port, host: options.host } });
  const logger = createLogger(config.logLevel);
  const system = await createSystem(config, logger);
  const server = await createServer(system, logger);
  await server.listen({ port: config.port, host: config.host });
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  logger.info(
    { config: config.source ?? "embedded default", database: redactUrl(config.database), backends: [...system.router.backends.keys()] },
    `RapidSMS listening on http://${config.host}:${port}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: no new requests; finishing accepted messages");
    await server.close();
    await system.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}
