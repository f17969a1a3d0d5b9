import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadConfig } from "../config/load.ts";
import { redactUrl } from "../store/open.ts";
import { configSecrets, createLogger } from "../logger.ts";
import { ConfigError } from "../errors.ts";
import { keepCompiledCode } from "../load-now.ts";
import type { Role, System } from "../system.ts";
import { openSystemStore } from "../system-store.ts";
import { type StartedStoreThread, startStoreThread } from "../store/sqlite-thread.ts";
import type { ResolvedConfig } from "../config/config.ts";

export interface StartOptions {
  config?: string;
  port?: number;
  host?: string;
  role?: Role;
  /** How long stopping waits for work under way, in ms (default: pipeline.shutdownTimeoutMs, 30 s). */
  shutdownTimeout?: number;
  /** A worker's listener for /metrics and /healthz (web and all serve them on `port`). */
  metricsPort?: number;
}

/**
 * Runs the server (and/or the workers, by role) until SIGTERM or SIGINT, then stops taking
 * requests, finishes the work under way (for the shutdown timeout at most: what is still running
 * then is given back for other workers) and closes the queue and the store.
 */
export async function runStart(options: StartOptions, storeThread: StartedStoreThread = startStoreThread()): Promise<void> {
  const role = options.role ?? "all";
  // The store thread (started by the caller, or here) boots and loads its modules while this one
  // reads the config; a config whose database is not a SQLite file stops it again.
  let config: ResolvedConfig;
  try {
    if (options.metricsPort !== undefined && role !== "worker")
      throw new ConfigError(`--metrics-port is for --role worker: a ${role} process serves /metrics on its --port`);
    config = await loadConfig({ configPath: options.config, overrides: { port: options.port, host: options.host } });
  } catch (error) {
    storeThread.discard();
    throw error;
  }
  const logger = createLogger(config.logLevel, configSecrets(config));
  // The store thread keeps dying: exit, so that the supervisor starts the process afresh.
  const onStoreFailed = (error: Error) => {
    logger.fatal({ err: error }, "the store gave up; exiting");
    process.exit(1);
  };
  // The store thread starts and migrates on the other core while this one loads the server.
  const opening = openSystemStore(config, logger, { onStoreFailed, storeThread });
  const [{ createSystem }, { createServer }, { setRouter }] = await Promise.all([
    import("../system.ts"),
    import("../server/server.ts"),
    import("../router/global.ts"),
  ]);
  const system = await createSystem(config, logger, role, { onStoreFailed, opening });
  // This process's system: RapidSMS's module-level receive() and send() use its router.
  setRouter(system.router);
  const context = {
    role,
    config: config.source ?? "embedded default",
    database: redactUrl(config.database),
    queue: system.queue.description,
    backends: [...system.backends.keys()],
  };
  const server = role === "worker" ? await workerServer(system, logger, options.metricsPort) : await createServer(system, { logger });
  if (server) {
    const port = role === "worker" ? options.metricsPort! : config.port;
    await server.listen({ port, host: config.host });
    const address = server.server.address();
    const listening = typeof address === "object" && address ? address.port : port;
    logger.info(context, `RapidSMS listening on http://${config.host}:${listening}${role === "worker" ? " (a worker: /metrics and /healthz only)" : ""}`);
  }
  if (role === "worker") logger.info(context, `RapidSMS worker running: processing and sending${server ? "" : ", no HTTP server"}`);
  keepCompiledCode();

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

async function workerServer(system: System, logger: ReturnType<typeof createLogger>, metricsPort: number | undefined) {
  return metricsPort === undefined ? undefined : (await import("../server/worker-server.ts")).createWorkerServer(system, logger);
}

/**
 * Started through npm (`npm start`, `npx rapidsms start`), the server runs under npm. npm passes on
 * SIGTERM and SIGINT, but when npm goes any other way (SIGKILL, a crash, a closed terminal) the
 * server would run on as an orphan. So it stops too when the process that started it is gone.
 * A server started any other way (a service unit, a container) is left to its own signals;
 * RAPIDSMS_STAY=1 keeps one started through npm running on its own.
 */
function stopWithNpm(stop: () => void): void {
  if (!process.env.npm_execpath || process.env.RAPIDSMS_STAY === "1") return;
  // npm runs the bin through a shell that may stay between them: watch the parent and its parent.
  const watched = [process.ppid, parentOf(process.ppid)].filter((pid): pid is number => pid !== undefined && pid > 1);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as { code?: string }).code === "EPERM";
    }
  };
  setInterval(() => {
    if (!watched.every(alive)) stop();
  }, 500).unref();
}

/** The parent of process `pid`: from /proc on Linux, else from ps (every Unix has it); undefined if neither says. */
function parentOf(pid: number): number | undefined {
  if (process.platform === "win32") return undefined;
  let ppid = Number.NaN;
  try {
    // /proc/<pid>/stat: "pid (command) state ppid …", where the command may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    ppid = Number(spawnSync("ps", ["-o", "ppid=", "-p", String(pid)], { encoding: "utf8", timeout: 2_000 }).stdout?.trim());
  }
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}
