import type { Logger } from "pino";
import { broadcastToGroup } from "../broadcast.ts";
import type { RapidSmsConfig } from "../config/config.ts";
import { environmentOverrides } from "../config/load.ts";
import { resolveConfig } from "../config/resolve.ts";
import { ConfigError, InvalidInputError } from "../errors.ts";
import { silentLogger } from "../logger.ts";
import { LIMITS } from "../messages/limits.ts";
import type { Status } from "../messages/status.ts";
import type { StatusChange } from "../pipeline/status-events.ts";
import { getRouter, setRouter } from "../router/global.ts";
import type { HostDatabase } from "../store/open.ts";
import { createSystem, type System } from "../system.ts";

export interface SendArgs {
  /** The installed backend to send through. */
  backend: string;
  /** One recipient or many, as identities on that backend (phone numbers, for most). */
  to: string | readonly string[];
  text: string;
  /** Send it then, not now (see SendOptions.sendAt); `cancel(id)` calls it off until then. */
  sendAt?: Date | string | number;
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
  readonly logger: Logger;
  /**
   * Runs the workers in this process: apps over accepted messages, and the senders. A web-only
   * process (its workers run elsewhere, on a shared PostgreSQL and Redis) never calls it.
   */
  start(): Promise<void>;
  /**
   * Queues a message to one or many recipients and returns its id; the workers send it. Throws
   * InvalidInputError for a recipient the backend cannot send to, and an Error when an app's
   * outgoing phase cancelled the message.
   */
  send(args: SendArgs): Promise<string>;
  /**
   * Sends `text` to every member of a contact group (by id or name) at their own connection, or
   * at their connection on `backend`; returns the messages' ids (one per 10,000 members) and who
   * was left out. Throws InvalidInputError when there is no such group or nobody in it to send to.
   */
  broadcast(args: {
    group: number | string;
    text: string;
    backend?: string;
    sendAt?: Date | string | number;
  }): Promise<{ ids: string[]; recipients: number; skipped: number }>;
  /**
   * Cancels what is still queued of an outbound message (a scheduled send): each such recipient
   * ends failed with the error `cancelled`. Undefined for an id it does not know.
   */
  cancel(id: string): Promise<{ cancelled: number; sending: number; sent: number; failed: number } | undefined>;
  /** A message's status and each recipient's, or undefined for an id it does not know. */
  status(id: string): Promise<MessageStatus | undefined>;
  /**
   * Calls `listener` with each recipient's status change that this process records: the sends
   * of its workers (queued, sent, queued again for a retry, failed) and the delivery reports its
   * routes receive (delivered, failed). Returns what stops it. A listener that throws is logged.
   */
  onStatus(listener: (change: StatusChange) => void): () => void;
  /**
   * The same changes as an async iterator (`for await (const change of sms.statusChanges())`),
   * ending when `signal` aborts or the loop breaks; a reader far behind gets an error, never a
   * silent gap.
   */
  statusChanges(options?: { signal?: AbortSignal }): AsyncIterableIterator<StatusChange>;
  /** Closes what was mounted from it, stops the workers (finishing the work under way), and closes the store and the queue. */
  close(): Promise<void>;
}

export interface CreateRapidSmsOptions {
  /** Where its logs go (pino); default: nowhere. The mounts log their failed requests here. */
  logger?: Logger;
  /** The environment whose variables set over the config (DATABASE_URL, RAPIDSMS_API_TOKEN, …), as for `rapidsms start`; default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where relative paths of the config (`sqlite:./x.db`, app modules) are from; default: the working directory. */
  baseDir?: string;
  /**
   * The host app's own PostgreSQL: its `pg.Pool`, or its Kysely instance (on PostgreSQL). Used
   * instead of the config's `database` (and DATABASE_URL); RapidSMS borrows its connections and
   * never closes it. Set `tablePrefix` or `databaseSchema` in the config to keep the tables apart.
   */
  database?: HostDatabase;
}

/** What the mounts made from a RapidSms, closed with it. */
const mounted = new WeakMap<RapidSms, (() => Promise<void>)[]>();

/** Closes `close` when `rapidsms` is closed: for the apps a mount builds around the system. */
export function closeWith(rapidsms: RapidSms, close: () => Promise<void>): void {
  mounted.get(rapidsms)?.push(close);
}

/**
 * Builds RapidSMS once for a host app: validates the config (a config object, as in
 * rapidsms.config.ts, with the environment's variables over it), opens the store (running
 * migrations) and the queue. Mount its routes with `rapidsms-ts/fastify`, `/express`, `/fetch` or
 * `/node`; call `start()` to run the workers here. RapidSMS's module-level `send()` and
 * `receive()` use it, unless another router is already set.
 */
export async function createRapidSms(config: RapidSmsConfig, options: CreateRapidSmsOptions = {}): Promise<RapidSms> {
  const resolved = await resolveConfig(config, { baseDir: options.baseDir ?? process.cwd(), overrides: environmentOverrides(options.env ?? process.env) });
  const logger = options.logger ?? silentLogger;
  const system = await createSystem(resolved, logger, "web", { database: options.database });
  let current = false;
  try {
    getRouter();
  } catch {
    setRouter(system.router);
    current = true;
  }
  const rapidsms: RapidSms = {
    system,
    logger,
    start: () => system.pipeline.start(),
    async send({ backend, to, text, sendAt }) {
      const notInstalled = system.pipeline.notInstalled(backend);
      if (notInstalled) throw new ConfigError(notInstalled);
      const identities = typeof to === "string" ? [to] : Array.isArray(to) ? [...to] : undefined;
      if (!identities || identities.some((identity) => typeof identity !== "string"))
        throw new InvalidInputError("to", "Expected an identity, or a list of identities, as text.");
      if (identities.length === 0) throw new InvalidInputError("to", "No recipient.");
      if (identities.length > LIMITS.recipients) throw new InvalidInputError("to", `More than ${LIMITS.recipients} recipients (${identities.length}).`);
      for (const [i, identity] of identities.entries()) {
        const unfit = system.pipeline.unsendable(backend, identity);
        if (unfit) throw new InvalidInputError("to", unfit, identities.length > 1 ? i : undefined);
      }
      const message = await system.router.send(text, await system.router.lookupConnections(backend, identities), { sendAt });
      if (!message.processed) throw new Error("an app's outgoing phase cancelled the message: nothing was queued");
      return message.id;
    },
    async broadcast(args) {
      const sent = await broadcastToGroup(system, args);
      if (sent.refused) throw new InvalidInputError(sent.refused === "no such backend" ? "backend" : "group", sent.message);
      return { ids: sent.ids, recipients: sent.recipients, skipped: sent.skipped };
    },
    async cancel(id) {
      const result = await system.pipeline.cancelOutgoing(id);
      if (result === "inbound") throw new InvalidInputError("id", `message ${id} is inbound: only outbound messages can be cancelled`);
      return result && { cancelled: result.cancelled, sending: result.sending, sent: result.sent, failed: result.failed };
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
    onStatus: (listener) => system.pipeline.events.on(listener),
    statusChanges: (options) => system.pipeline.events.changes(options),
    async close() {
      for (const close of mounted.get(rapidsms)?.splice(0) ?? []) await close();
      if (current) setRouter(undefined);
      await system.close();
    },
  };
  mounted.set(rapidsms, []);
  return rapidsms;
}
