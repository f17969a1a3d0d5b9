import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Connection } from "../messages/connection.ts";
import type { Fields } from "../messages/messages.ts";
import type { DeliveryReport, Direction } from "../messages/status.ts";
import type { Conversation, SessionMark } from "../messages/session.ts";
import type { HeldPart, HoldOutcome } from "../messages/parts.ts";
import type { GatewayClient, GatewayClientOptions } from "./gateway-client.ts";

/** Which of this backend's transmissions a delivery report is about. */
export type DeliveryRef =
  /** Our message id, echoed back by the gateway, and the recipient (Kannel's dlr-url). */
  | { messageId: string; identity: string }
  /** The id the gateway answered our send with: every recipient it named. */
  | { externalId: string }
  /** The gateway's id if it is one, else our message id when that message went to one recipient here (Vumi's events). */
  | { externalIdOrMessageId: string };

export interface DeliveryOutcome {
  /** How many transmissions the report was recorded on. */
  matched: number;
  /** True when it named a gateway id no send has brought yet: kept, and applied when one does (answer the gateway 200). */
  kept: boolean;
  /** Why it matched none, when it did not: for the gateway's 400. */
  reason?: string;
}

/**
 * The parts of long inbound messages that a gateway delivers one by one (a concatenated SMS),
 * kept durably from the moment the gateway is answered: acknowledge a part once `hold` resolves.
 * Keys are the backend's own (sender, recipient and reference, say), per backend.
 */
export interface InboundParts {
  /**
   * Keeps the part (once: the same part again, by number and gateway id, or by number and text
   * for parts without ids, is a `duplicate`, also after its message was released) and answers every part in order once there are `total`. A
   * part that begins another message under the key of an incomplete one hands that one back as
   * `displaced`: receive it as it is.
   */
  hold(key: string, part: { number: number; total: number; text: string; fields?: Record<string, unknown>; externalId?: string }): Promise<HoldOutcome>;
  /** Marks the parts a message was made of received: call it once the message is stored. */
  release(key: string, parts: readonly HeldPart[]): Promise<void>;
  /** Messages whose first part was kept more than `maxAgeMs` ago and that are still not whole (100 at most): receive what came. */
  expired(maxAgeMs: number): Promise<{ key: string; parts: HeldPart[] }[]>;
}

/** A row of the database backend's log (what it "sent", what the message tester typed). */
export interface LoggedMessage {
  id: number;
  date: string;
  direction: Direction;
  messageId: string;
  externalId: string;
  identity: string;
  text: string;
}

/** The database backend's log of messages, this backend's rows only. */
export interface MessageLog {
  add(rows: readonly Omit<LoggedMessage, "id" | "date">[]): Promise<void>;
  /** Newest first. */
  list(query?: { identity?: string; direction?: Direction; limit?: number; offset?: number }): Promise<LoggedMessage[]>;
  count(query?: { identity?: string; direction?: Direction }): Promise<number>;
  /** Forgets one identity's messages, or all of them; returns how many. */
  clear(identity?: string): Promise<number>;
}

/**
 * What a backend may use of the framework: all it needs to take messages in, report on the ones
 * it sent, and call its gateway. A backend gets no router, store or pipeline.
 */
export interface BackendPort {
  /** The backend's name in `installedBackends`. */
  readonly name: string;
  /**
   * The base URL the outside world reaches this server at, without a trailing slash: the
   * backend's own `publicUrl` option, else the config's; null when neither is set. Signatures
   * over the URL a gateway called are checked against it, and callback URLs built from it (see
   * public-url.ts).
   */
  readonly publicUrl: string | null;
  readonly logger: Logger;
  /**
   * Accepts an inbound message: resolved once it is stored durably (answer the gateway 200 then).
   * A gateway id (`fields.externalId`) seen within the dedupe window is not stored again.
   */
  receive(text: string, connection: Connection, options?: { fields?: Fields; id?: string; session?: SessionMark }): Promise<{ id: string; duplicate: boolean }>;
  /**
   * For a gateway that waits for the answer within its request (a USSD hop): accepts the message
   * in `session` like `receive` (stored durably first), processes it at once, and resolves with
   * the apps' replies to the sender (their text, and whether the session ends), or `late` past
   * `deadlineMs`, `failed` when processing failed, `duplicate` for a step sent again whose answer
   * is gone. The replies are recorded as answered, not sent.
   */
  converse(text: string, connection: Connection, options: { session: SessionMark; fields?: Fields; deadlineMs: number }): Promise<Conversation>;
  /**
   * Get-or-create a connection per identity on this backend, in input order. Throws
   * InvalidInputError for an identity no store can keep (see `checkIdentity`).
   */
  lookupConnections(identities: readonly string[]): Promise<Connection[]>;
  /**
   * Why `identity` cannot be a sender's (too long, not text, control characters), or undefined.
   * Whether this backend can send to it (its `identityPattern`) is checked when a message to it is
   * sent or asked for through the API, not here: a sender id such as "MY BANK" can write in.
   */
  checkIdentity(identity: string): string | undefined;
  /** Records a delivery report on this backend's transmissions. */
  reportDelivery(ref: DeliveryRef, report: DeliveryReport): Promise<DeliveryOutcome>;
  /** Removes every value of this backend's secret options from a text (the pipeline does so to every send outcome it records). */
  redact(text: string): string;
  /** An HTTP client for the gateway that already keeps this backend's secret options out of what it returns. */
  gatewayClient(options: GatewayClientOptions): GatewayClient;
  /** The database backend's log (see DatabaseBackend). */
  readonly messages: MessageLog;
  /** Parts of long inbound messages, until each message is whole. */
  readonly parts: InboundParts;
}

/** What the server gives a backend that serves pages to people (the message tester). */
export interface PagesContext {
  /**
   * Guards every route of a scope the way /api is guarded (the API token, or this machine only;
   * no cross-site writes), and answers its errors as `{ "error" }` (json) or plain text.
   */
  protect(scope: FastifyInstance, options: { realm: string; errors: "json" | "text" }): void;
  /** Pages (event streams) open at once at most. */
  maxStreams: number;
}
