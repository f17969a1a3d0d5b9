import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { INCOMING_PHASES, appName, appSettings, type AppBase, type AppClass } from "../apps/app.ts";
import { BUILTIN_TRANSLATIONS, Catalog, isTranslatable, type Translatable, type Translations } from "../apps/translations.ts";
import { ConfigError } from "../errors.ts";
import { silentLogger } from "../logger.ts";
import type { Connection } from "../messages/connection.ts";
import { ErrorMessage, IncomingMessage, OutgoingMessage } from "../messages/messages.ts";
import type { AppContacts, AppOptOuts, ReceiveOptions, RouterApi, RouterPort, RouterSettings, SendOptions } from "./api.ts";
import type { OptOutSettings } from "../config/operations.ts";
import { optOutApp } from "../apps/opt-out.ts";

export type { AppContacts, AppOptOuts, ReceiveOptions, RouterApi, RouterPort, RouterSettings, SendOptions } from "./api.ts";

export const DEFAULT_SETTINGS: RouterSettings = {
  projectName: "RapidSMS",
  defaultResponse: "Sorry, %(project_name)s could not understand your message.",
  language: "en",
};

export interface RouterOptions {
  apps?: readonly AppClass[];
  settings?: Partial<RouterSettings>;
  logger?: Logger;
  /** Where messages go (see RouterPort); the pipeline connects itself when none is given. */
  port?: RouterPort;
  /** Each app's settings by app name (the config's `appSettings`), checked by its `settingsSchema`. */
  appSettings?: Readonly<Record<string, unknown>>;
  /** What `now()` answers; default the system clock. */
  clock?: () => Date;
  /** Translations of the deployment's own (the config's `translations`): they win over the apps' and the built-in ones. */
  translations?: Translations;
  /**
   * What `database()` answers: the store's database with the apps' tables named (see store/app-data),
   * or a function that makes it when an app first asks (most apps never do).
   */
  // biome-ignore lint/suspicious/noExplicitAny: each app types its own tables
  database?: Kysely<any> | (() => Kysely<any>);
  /** STOP and START (the config's `optOut`): when given, the built-in opt-out app runs before every other. */
  optOut?: OptOutSettings | null;
}

/** Replies go before bulk sends. */
export const REPLY_PRIORITY = 1;

/**
 * The phase engine: runs the apps over a message (filter, parse, handle, default, cleanup, then
 * the outgoing phase of each reply) and says what to send. It stores nothing itself: `receive`
 * and `send` hand messages to its port, and the pipeline calls `process` on the messages it claims.
 */
export class Router implements RouterApi {
  readonly apps: AppBase[];
  readonly settings: RouterSettings;
  readonly logger: Logger;
  private port: RouterPort | undefined;
  private readonly clock: () => Date;
  /** Every translation: the config's, the apps', the built-in ones (see Catalog). */
  readonly catalog: Catalog;
  // biome-ignore lint/suspicious/noExplicitAny: as for RouterOptions.database
  private db: Kysely<any> | (() => Kysely<any>) | undefined;

  constructor(options: RouterOptions = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.logger = options.logger ?? silentLogger;
    this.port = options.port;
    this.clock = options.clock ?? (() => new Date());
    this.db = options.database;
    const classes = options.apps ?? [];
    const unknown = Object.keys(options.appSettings ?? {}).filter((name) => !classes.some((App) => appName(App) === name));
    if (unknown.length > 0)
      throw new ConfigError(`appSettings: no installed app is named ${unknown.map((n) => `"${n}"`).join(", ")}; installed: ${classes.map(appName).join(", ")}`);
    this.apps = classes.map((App) => new App(this, appSettings(App, options.appSettings?.[appName(App)])));
    if (options.optOut) this.apps.unshift(new (optOutApp(options.optOut))(this));
    this.catalog = new Catalog([options.translations ?? {}, ...classes.map((App) => App.translations ?? {}), BUILTIN_TRANSLATIONS], this.settings.language);
  }

  now(): Date {
    return this.clock();
  }

  get contacts(): AppContacts {
    const contacts = this.requirePort().contacts;
    if (!contacts) throw new Error("this router's port keeps no contacts: build it with createSystem, createRapidSms or testApps");
    return contacts;
  }

  get optOuts(): AppOptOuts {
    const optOuts = this.requirePort().optOuts;
    if (!optOuts) throw new Error("this router's port keeps no opt-outs: build it with createSystem, createRapidSms or testApps");
    return optOuts;
  }

  database<DB>(): Kysely<DB> {
    if (!this.db) throw new Error("this router has no database: build it with createSystem, createRapidSms or testApps");
    if (typeof this.db === "function") this.db = this.db();
    return this.db as Kysely<DB>;
  }

  /** Sets where `receive`, `send` and `lookupConnections` go (the pipeline does, as it starts). */
  connect(port: RouterPort): void {
    this.port = port;
  }

  private requirePort(): RouterPort {
    if (!this.port) throw new Error("this router is not connected to a pipeline: build it with createSystem (or createTestRouter in tests)");
    return this.port;
  }

  lookupConnections(backendName: string, identities: readonly (string | number)[]): Promise<Connection[]> {
    return this.requirePort().lookupConnections(backendName, identities.map(String));
  }

  forward(msg: IncomingMessage, options: { url: string }): Promise<void> {
    const port = this.requirePort();
    if (!port.forward) return Promise.reject(new Error("this router's port cannot forward messages to other apps: build it with createSystem"));
    return port.forward(msg, options);
  }

  /**
   * Accepts an inbound message: once this resolves it is durably stored (status Q) and will be
   * processed, even if the process dies now. A gateway id (`fields.externalId`) already accepted
   * on the same backend within the dedupe window is not stored again: the message returned then
   * has the original's id and `duplicate` set.
   */
  async receive(text: string, connection: Connection, options: ReceiveOptions = {}): Promise<IncomingMessage> {
    const msg = new IncomingMessage({ connections: [connection], text, fields: options.fields, id: options.id });
    const accepted = await this.requirePort().accept(msg);
    if (!accepted.duplicate) return msg;
    const original = new IncomingMessage({ connections: [connection], text, fields: options.fields, id: accepted.id });
    original.duplicate = true;
    return original;
  }

  /**
   * Sends `text` to one or more connections: runs the outgoing phases (apps in reverse order,
   * `false` cancels), then queues one transmission per connection. Once this resolves the message
   * is stored and will be sent (one `send` call per backend, batched); its status tells the outcome.
   */
  async send(text: string | Translatable, connections: Connection | readonly Connection[], options: SendOptions = {}): Promise<OutgoingMessage> {
    return (await this.sendAll(text, connections, options))[0];
  }

  async sendAll(text: string | Translatable, connections: Connection | readonly Connection[], options: SendOptions = {}): Promise<OutgoingMessage[]> {
    const list = asList(connections);
    if (list.length === 0) throw new TypeError("send needs at least one connection");
    const sent: OutgoingMessage[] = [];
    for (const [rendered, recipients] of await this.render(text, list)) {
      const msg = await this.prepareOutgoing(rendered, recipients, options);
      if (msg.processed) await this.requirePort().enqueue(msg, { priority: options.priority ?? 0, sendAt: options.sendAt });
      sent.push(msg);
    }
    return sent;
  }

  /** `text` for each group of recipients who read it alike: one group for plain text, one per language for a translatable one. */
  private async render(text: string | Translatable, connections: readonly Connection[]): Promise<[string, Connection[]][]> {
    if (!isTranslatable(text)) return [[text, [...connections]]];
    // By connection, not by the connection's contactId: an app may have just made the sender a contact.
    const languages = await this.requirePort().connectionLanguages(connections.map((c) => c.id));
    const byText = new Map<string, Connection[]>();
    for (const connection of connections) {
      const rendered = this.catalog.render(text, languages[connection.id] ?? "");
      const group = byText.get(rendered);
      if (group) group.push(connection);
      else byText.set(rendered, [connection]);
    }
    return [...byText];
  }

  /**
   * Runs an inbound message through the apps' phases, then each reply through the outgoing phase;
   * returns the replies to send (those no app cancelled), in the order they were made. Throws
   * what an app threw: the caller decides whether to try again.
   */
  async process(msg: IncomingMessage): Promise<OutgoingMessage[]> {
    await this.processIncomingPhases(msg);
    const replies: OutgoingMessage[] = [];
    for (const response of msg.responses) {
      for (const [text, connections] of await this.render(response.text, response.connections)) {
        const reply = await this.prepareOutgoing(text, connections, {
          inResponseTo: response.inResponseTo,
          fields: response.fields,
          kind: response.kind,
          endSession: response.endSession,
        });
        if (reply.processed) replies.push(reply);
      }
    }
    return replies;
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
          msg.handledBy = app.name;
          break;
        }
      }
    }
    msg.processed = true;
  }

  /** A message for `connections` after its outgoing phases; `processed` is false when an app cancelled it. */
  async prepareOutgoing(text: string, connections: Connection | readonly Connection[], options: SendOptions = {}): Promise<OutgoingMessage> {
    const list = asList(connections);
    if (list.length === 0) throw new TypeError("send needs at least one connection");
    const MessageClass = options.kind === "error" ? ErrorMessage : OutgoingMessage;
    const msg = new MessageClass({
      connections: uniqueConnections(list),
      text,
      fields: options.fields,
      inResponseTo: options.inResponseTo,
      id: options.id,
    });
    msg.endSession = options.endSession;
    msg.eventUrl = options.eventUrl;
    await this.processOutgoingPhases(msg);
    return msg;
  }

  private async processOutgoingPhases(msg: OutgoingMessage): Promise<void> {
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
        return;
      }
    }
    msg.processed = true;
  }
}

function asList(connections: Connection | readonly Connection[]): readonly Connection[] {
  return Array.isArray(connections) ? (connections as readonly Connection[]) : [connections as Connection];
}

function uniqueConnections(connections: readonly Connection[]): Connection[] {
  const seen = new Set<number>();
  return connections.filter((c) => !seen.has(c.id) && seen.add(c.id));
}
