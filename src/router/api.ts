import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Translatable } from "../apps/translations.ts";
import type { Connection } from "../messages/connection.ts";
import type { ContactStore, OptOutStore } from "../store/store.ts";
import type { Fields, IncomingMessage, OutgoingKind, OutgoingMessage } from "../messages/messages.ts";

export interface RouterSettings {
  /** Interpolated into the default response as `%(project_name)s`. */
  projectName: string;
  /** What the `default` app answers to unhandled messages; `null` to stay silent. */
  defaultResponse: string | null;
  /** The language of a recipient who has none (a language tag); default `en`. */
  language: string;
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
  /** Higher goes first; replies are sent with priority 1, other messages default to 0. */
  priority?: number;
  /** For a reply in a session (`inResponseTo.session`): false keeps it open; it ends otherwise. */
  endSession?: boolean;
  /**
   * Send it then, not now: a Date, epoch ms, or an ISO 8601 string with a time zone. A time that
   * has come means now; more than a year ahead is refused (InvalidInputError, field `sendAt`).
   */
  sendAt?: Date | string | number;
  /** Where every status change of the message is POSTed, signed (see docs/operations.md, "Webhooks to other apps"). */
  eventUrl?: string;
}

/**
 * What apps and handlers see of the router (RapidSMS's `self.router`): the settings, and
 * RapidSMS's three calls, each durable once it resolves.
 */
export interface RouterApi {
  readonly settings: RouterSettings;
  readonly logger: Logger;
  /** The time now, by the router's clock: apps that count days ask it, so that tests can move it (see testApps). */
  now(): Date;
  /** Contacts and groups: who people are, their language and fields, and the groups broadcasts go to. */
  readonly contacts: AppContacts;
  /** Who opted out (STOP): nothing is sent to them. The built-in opt-out app records them; other apps may too. */
  readonly optOuts: AppOptOuts;
  /** The database for the apps' own tables (see AppBase.tables), as Kysely typed by the caller. */
  database<DB>(): Kysely<DB>;
  /** Accepts an inbound message (stored before this resolves) for the apps to process. */
  receive(text: string, connection: Connection, options?: ReceiveOptions): Promise<IncomingMessage>;
  /**
   * Runs the outgoing phases and queues `text` for every connection (stored before this resolves).
   * A translatable text (`t(...)`) goes in each recipient's language: one message per language,
   * of which this answers the first (see `sendAll` for all of them).
   */
  send(text: string | Translatable, connections: Connection | readonly Connection[], options?: SendOptions): Promise<OutgoingMessage>;
  /** As `send`, answering every message: one per language of the recipients for a translatable text, else one. */
  sendAll(text: string | Translatable, connections: Connection | readonly Connection[], options?: SendOptions): Promise<OutgoingMessage[]>;
  /** Get-or-create a connection per identity on the named backend, in input order. */
  lookupConnections(backendName: string, identities: readonly (string | number)[]): Promise<Connection[]>;
  /**
   * Queues the POST of an inbound message to `url` durably (signed, retried; see the `webhook`
   * app), once per message and url however often this is called for them.
   */
  forward(msg: IncomingMessage, options: { url: string }): Promise<void>;
}

/**
 * Where the router's messages go: the pipeline, in a running system. The router runs phases; what
 * is stored, claimed and sent, and when, is the port's business.
 */
export interface RouterPort {
  /** Stores an inbound message durably; a gateway id seen within the dedupe window answers the original's id. */
  accept(msg: IncomingMessage): Promise<{ id: string; duplicate: boolean }>;
  /** Stores an outgoing message (its outgoing phases have run) for sending. */
  enqueue(msg: OutgoingMessage, options: { priority: number; sendAt?: Date | string | number }): Promise<void>;
  lookupConnections(backendName: string, identities: readonly string[]): Promise<Connection[]>;
  /** The language of the contact of each connection that has one, by connection id ("" for the default): what translated texts are rendered in. */
  connectionLanguages(connectionIds: readonly number[]): Promise<Record<number, string>>;
  /** Contacts and groups, for apps (see RouterApi.contacts). */
  readonly contacts?: AppContacts;
  /** Opt-outs, for apps (see RouterApi.optOuts). */
  readonly optOuts?: AppOptOuts;
  /** Queues an inbound message's POST to another app (see RouterApi.forward); a port without it cannot forward. */
  forward?(msg: IncomingMessage, options: { url: string }): Promise<void>;
}

/** What apps may do with opt-outs: record one, lift one, look one up. */
export type AppOptOuts = Pick<OptOutStore, "optOut" | "optIn" | "getOptOut">;

/** What apps may do with contacts and groups: make and change them, find them, add members. */
export type AppContacts = Pick<
  ContactStore,
  "createContact" | "getContact" | "updateContact" | "listContacts" | "createGroup" | "getGroup" | "changeGroupMembers"
>;
