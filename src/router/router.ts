import type { Logger } from "pino";
import { INCOMING_PHASES, type AppBase, type AppClass } from "../apps/app.ts";
import type { BackendBase } from "../backends/backend.ts";
import { MessageSendingError, NoBackendError } from "../errors.ts";
import type { Connection } from "../messages/connection.ts";
import {
  ErrorMessage,
  IncomingMessage,
  OutgoingMessage,
  type BackendContext,
  type Fields,
  type OutgoingKind,
} from "../messages/messages.ts";
import type { Status } from "../messages/status.ts";
import type { Store, TransmissionRecord, TransmissionUpdate } from "../store/store.ts";
import { silentLogger } from "../logger.ts";

export interface RouterSettings {
  /** Interpolated into the default response as `%(project_name)s`. */
  projectName: string;
  /** What the `default` app answers to unhandled messages; `null` to stay silent. */
  defaultResponse: string | null;
}

export const DEFAULT_SETTINGS: RouterSettings = {
  projectName: "RapidSMS",
  defaultResponse: "Sorry, %(project_name)s could not understand your message.",
};

export type BackendFactory = (router: Router) => BackendBase;

export interface RouterOptions {
  store: Store;
  apps?: readonly AppClass[];
  /** Installed backends by name. */
  backends?: Readonly<Record<string, BackendFactory>>;
  settings?: Partial<RouterSettings>;
  logger?: Logger;
}

export interface ReceiveOptions {
  fields?: Fields;
  id?: string;
}

export interface SendOptions {
  inResponseTo?: IncomingMessage;
  fields?: Fields;
  kind?: OutgoingKind;
  id?: string;
}

/**
 * Runs incoming messages through the apps and outgoing messages through the backends,
 * recording every message and its per-identity transmissions in the store.
 */
export class Router {
  readonly store: Store;
  readonly apps: AppBase[];
  readonly backends = new Map<string, BackendBase>();
  readonly settings: RouterSettings;
  readonly logger: Logger;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: RouterOptions) {
    this.store = options.store;
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.logger = options.logger ?? silentLogger;
    for (const [name, create] of Object.entries(options.backends ?? {})) {
      this.backends.set(name, create(this));
    }
    this.apps = (options.apps ?? []).map((App) => new App(this));
  }

  /** Get-or-create a connection per identity on the named backend, in input order. */
  lookupConnections(backendName: string, identities: readonly (string | number)[]): Promise<Connection[]> {
    return this.store.lookupConnections(backendName, identities.map(String));
  }

  /**
   * Accepts an inbound message: it is stored (status Q) before this resolves, then processed by
   * the apps in the background. Use `idle()` to wait for processing.
   */
  async receive(text: string, connection: Connection, options: ReceiveOptions = {}): Promise<IncomingMessage> {
    const msg = new IncomingMessage({ connections: [connection], text, fields: options.fields, id: options.id });
    await this.store.saveIncoming({ id: msg.id, text: msg.text, fields: msg.fields, connection });
    this.track(this.processIncoming(msg));
    return msg;
  }

  /** Runs the incoming phases, then sends the responses; marks the message R, or E if an app threw. */
  async processIncoming(msg: IncomingMessage): Promise<void> {
    try {
      await this.processIncomingPhases(msg);
    } catch (error) {
      this.logger.error({ err: error, messageId: msg.id }, "an app failed while processing an incoming message");
      await this.store.finishIncoming(msg.id, "E", errorText(error));
      return;
    }
    await this.store.finishIncoming(msg.id, "R");
    for (const response of msg.responses) {
      await this.send(response.text, response.connections, {
        inResponseTo: response.inResponseTo,
        fields: response.fields,
        kind: response.kind,
      });
    }
  }

  private async processIncomingPhases(msg: IncomingMessage): Promise<void> {
    for (const phase of INCOMING_PHASES) {
      if (phase === "default" && msg.handled) break;
      for (const app of this.apps) {
        const result = await app[phase](msg);
        if (phase === "filter" && result === true) {
          this.logger.debug({ app: app.name, messageId: msg.id }, "message filtered");
          return;
        }
        if ((phase === "handle" || phase === "default") && result === true) {
          if (phase === "handle") msg.handled = true;
          break;
        }
      }
    }
    msg.processed = true;
  }

  /**
   * Sends `text` to one or more connections: runs the outgoing phases (apps in reverse order,
   * `false` cancels), records the message, then makes one `send` call per backend with all of
   * that backend's identities. A failing backend does not stop the others; per-identity outcomes
   * are recorded as transmission statuses.
   */
  async send(text: string, connections: Connection | readonly Connection[], options: SendOptions = {}): Promise<OutgoingMessage> {
    const list = Array.isArray(connections) ? (connections as readonly Connection[]) : [connections as Connection];
    const MessageClass = options.kind === "error" ? ErrorMessage : OutgoingMessage;
    const msg = new MessageClass({
      connections: uniqueConnections(list),
      text,
      fields: options.fields,
      inResponseTo: options.inResponseTo,
      id: options.id,
    });
    if (!(await this.processOutgoingPhases(msg))) return msg;
    await this.deliver(msg);
    return msg;
  }

  private async processOutgoingPhases(msg: OutgoingMessage): Promise<boolean> {
    for (const app of [...this.apps].reverse()) {
      let result: unknown;
      try {
        result = await app.outgoing(msg);
      } catch (error) {
        this.logger.error({ err: error, app: app.name, messageId: msg.id }, "an app failed in the outgoing phase; continuing");
        continue;
      }
      if (result === false) {
        this.logger.info({ app: app.name, messageId: msg.id }, "Message cancelled");
        return false;
      }
    }
    msg.processed = true;
    return true;
  }

  private async deliver(msg: OutgoingMessage): Promise<Status> {
    const transmissions = await this.store.saveOutgoing({
      id: msg.id,
      text: msg.text,
      fields: msg.fields,
      inResponseTo: msg.inResponseTo?.id ?? null,
      connections: msg.connections,
    });
    const context = msg.extraBackendContext();
    const groups = Map.groupBy(transmissions, (t) => t.backend);
    const updates = await Promise.all(
      [...groups].map(([backendName, group]) => this.sendGroup(backendName, msg, group, context)),
    );
    return this.store.updateTransmissions(msg.id, updates.flat());
  }

  private async sendGroup(
    backendName: string,
    msg: OutgoingMessage,
    group: readonly TransmissionRecord[],
    context: BackendContext,
  ): Promise<TransmissionUpdate[]> {
    const ids = group.map((t) => t.id);
    try {
      await this.sendToBackend(backendName, msg.id, msg.text, group.map((t) => t.identity), context);
      return [{ ids, status: "S" }];
    } catch (error) {
      const reason = errorText(error);
      const failed = error instanceof MessageSendingError ? new Set(error.failedIdentities) : new Set<string>();
      if (failed.size === 0) return [{ ids, status: "E", error: reason }];
      return [
        { ids: group.filter((t) => !failed.has(t.identity)).map((t) => t.id), status: "S" },
        { ids: group.filter((t) => failed.has(t.identity)).map((t) => t.id), status: "E", error: reason },
      ];
    }
  }

  /**
   * Calls one backend's `send`. Throws `NoBackendError` for an unknown name, and a
   * `MessageSendingError` (the backend's own when it lists failed identities) on failure.
   */
  async sendToBackend(backendName: string, id: string, text: string, identities: string[], context: BackendContext): Promise<void> {
    const backend = this.backends.get(backendName);
    if (!backend) {
      const error = new NoBackendError(backendName);
      this.logger.error({ backend: backendName, messageId: id }, error.message);
      throw error;
    }
    try {
      await backend.send({ id, text, identities, context });
    } catch (error) {
      this.logger.error({ err: error, backend: backendName, messageId: id }, `${backendName} encountered an error while sending.`);
      if (error instanceof MessageSendingError && error.failedIdentities.length > 0) throw error;
      throw new MessageSendingError(`${backendName} encountered an error while sending: ${errorText(error)}`, {
        cause: error,
        retryable: error instanceof MessageSendingError ? error.retryable : true,
      });
    }
  }

  /** Resolves once every message accepted so far has been processed and its replies sent. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error) => this.logger.error({ err: error }, "background message processing failed"));
    this.inFlight.add(tracked);
    tracked.finally(() => this.inFlight.delete(tracked));
  }
}

function uniqueConnections(connections: readonly Connection[]): Connection[] {
  const seen = new Set<number>();
  return connections.filter((c) => !seen.has(c.id) && seen.add(c.id));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
