import type { Logger } from "pino";
import type { RapidSmsConfig } from "../config/config.ts";
import { resolveConfig } from "../config/resolve.ts";
import { ConfigError, InvalidInputError } from "../errors.ts";
import { silentLogger } from "../logger.ts";
import type { Status } from "../messages/status.ts";
import { createSystem, type System } from "../system.ts";

export interface SendArgs {
  /** The installed backend to send through. */
  backend: string;
  /** One recipient or many, as identities on that backend (phone numbers, for most). */
  to: string | readonly string[];
  text: string;
}

export interface MessageStatus {
  id: string;
  /** Q queued, P being sent, S sent, D delivered, E failed (see docs). */
  status: Status;
  error: string | null;
  recipients: { backend: string; identity: string; status: Status; error: string | null }[];
}

/** RapidSMS inside a host's own app: the system, and what the host's code calls. */
export interface RapidSms {
  readonly system: System;
  /**
   * Runs the workers in this process: apps over accepted messages, and the senders. A web-only
   * process (its workers run elsewhere, on a shared PostgreSQL and Redis) never calls it.
   */
  start(): Promise<void>;
  /** Queues a message to one or many recipients and returns its id; it is sent by the workers. */
  send(args: SendArgs): Promise<string>;
  /** A message's status and each recipient's, or undefined for an id it does not know. */
  status(id: string): Promise<MessageStatus | undefined>;
  /** Stops the workers (finishing the work under way) and closes the store and the queue. */
  close(): Promise<void>;
}

export interface CreateRapidSmsOptions {
  logger?: Logger;
}

/**
 * Builds RapidSMS once for a host app: validates the config (a config object, as in
 * rapidsms.config.ts), opens the store (running migrations) and the queue. Mount its routes with
 * `rapidsms-ts/fastify`, `/express`, `/fetch` or `/node`; call `start()` to run the workers here.
 */
export async function createRapidSms(config: RapidSmsConfig, options: CreateRapidSmsOptions = {}): Promise<RapidSms> {
  const resolved = await resolveConfig(config);
  const logger = options.logger ?? silentLogger;
  const system = await createSystem(resolved, logger, "web");
  return {
    system,
    start: () => system.pipeline.start(),
    async send({ backend, to, text }) {
      if (!system.backends.has(backend)) throw new ConfigError(`backend "${backend}" is not installed; installed: ${[...system.backends.keys()].join(", ")}`);
      const identities = typeof to === "string" ? [to] : [...to];
      if (identities.length === 0) throw new InvalidInputError("to", "No recipient.");
      for (const [i, identity] of identities.entries()) {
        const unfit = system.pipeline.unsendable(backend, identity);
        if (unfit) throw new InvalidInputError("to", unfit, identities.length > 1 ? i : undefined);
      }
      const message = await system.router.send(text, await system.router.lookupConnections(backend, identities));
      return message.id;
    },
    async status(id) {
      const record = await system.store.getMessage(id);
      if (!record) return undefined;
      return {
        id: record.id,
        status: record.status,
        error: record.error,
        recipients: record.transmissions.map((t) => ({ backend: t.backend, identity: t.identity, status: t.status, error: t.error })),
      };
    },
    close: () => system.close(),
  };
}
