import type { Connection } from "../messages/connection.ts";
import type { Direction, Status } from "../messages/status.ts";
import type { Fields } from "../messages/messages.ts";

export interface BackendRow {
  id: number;
  name: string;
}

export interface ContactRow {
  id: number;
  name: string;
  language: string;
}

export interface TransmissionRecord {
  id: number;
  connectionId: number;
  backend: string;
  identity: string;
  status: Status;
  error: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
}

export interface MessageRecord {
  id: string;
  direction: Direction;
  status: Status;
  text: string;
  fields: Fields;
  externalId: string | null;
  inResponseTo: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  transmissions: TransmissionRecord[];
}

export interface IncomingRecordInit {
  id: string;
  text: string;
  fields: Fields;
  connection: Connection;
}

export interface OutgoingRecordInit {
  id: string;
  text: string;
  fields: Fields;
  inResponseTo: string | null;
  connections: readonly Connection[];
}

export interface TransmissionUpdate {
  ids: readonly number[];
  status: Status;
  error?: string | null;
}

export interface MessageQuery {
  direction?: Direction;
  status?: Status;
  backend?: string;
  identity?: string;
  inResponseTo?: string;
  limit?: number;
}

/** A row of the database backend's table: one message per identity, both directions. */
export interface BackendMessage {
  id: number;
  name: string;
  date: string;
  direction: Direction;
  messageId: string;
  externalId: string;
  identity: string;
  text: string;
}

export type BackendMessageInit = Omit<BackendMessage, "id" | "date">;

export interface BackendMessageQuery {
  name: string;
  identity?: string;
  direction?: Direction;
  limit?: number;
  offset?: number;
}

/**
 * Everything the system persists. The embedded SQLite store implements it; a PostgreSQL store
 * will implement the same contract (see store.contract.ts).
 */
export interface Store {
  /** Creates or upgrades the schema; safe to run on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;

  getOrCreateBackend(name: string): Promise<BackendRow>;
  /** Get-or-create one connection per identity on the named backend, in input order. */
  lookupConnections(backendName: string, identities: readonly string[]): Promise<Connection[]>;

  createContact(init: { name?: string; language?: string }): Promise<ContactRow>;
  getContact(id: number): Promise<ContactRow | undefined>;
  setConnectionContact(connectionId: number, contactId: number | null): Promise<void>;

  /** Records an inbound message (status Q) with its one transmission. */
  saveIncoming(init: IncomingRecordInit): Promise<void>;
  /** Marks an inbound message received (R) or errored (E). */
  finishIncoming(id: string, status: "R" | "E", error?: string): Promise<void>;
  /** Records an outbound message with one transmission per connection, all P; returns them. */
  saveOutgoing(init: OutgoingRecordInit): Promise<TransmissionRecord[]>;
  /** Applies transmission updates and re-derives the message's status, in one transaction. */
  updateTransmissions(messageId: string, updates: readonly TransmissionUpdate[]): Promise<Status>;
  getMessage(id: string): Promise<MessageRecord | undefined>;
  /** Newest first. */
  listMessages(query: MessageQuery): Promise<MessageRecord[]>;

  addBackendMessages(rows: readonly BackendMessageInit[]): Promise<void>;
  /** Newest first. */
  listBackendMessages(query: BackendMessageQuery): Promise<BackendMessage[]>;
  countBackendMessages(query: Omit<BackendMessageQuery, "limit" | "offset">): Promise<number>;
  clearBackendMessages(name: string, identity?: string): Promise<number>;
}
