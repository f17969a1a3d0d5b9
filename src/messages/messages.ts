import type { Translatable } from "../apps/translations.ts";
import type { Connection } from "./connection.ts";
import { newMessageId } from "./ids.ts";
import type { MessageSession, SessionReply } from "./session.ts";

export type Fields = Record<string, unknown>;

/** Extra metadata handed to `BackendBase.send` as `context`. */
export interface BackendContext {
  /** Id of the inbound message this one replies to. */
  inResponseTo?: string;
  /** The gateway's own id of that inbound message (Vumi `message_id`, Twilio `SmsSid`, …). */
  externalId?: string;
  /** The session the reply answers in (a USSD dialogue), and whether it ends it. */
  session?: SessionReply;
  [key: string]: unknown;
}

export interface MessageInit {
  connections: readonly Connection[];
  text: string;
  id?: string;
  fields?: Fields;
  inResponseTo?: IncomingMessage;
}

export class MessageBase {
  readonly id: string;
  readonly connections: readonly Connection[];
  text: string;
  readonly rawText: string;
  fields: Fields;
  readonly inResponseTo: IncomingMessage | undefined;
  processed = false;
  handled = false;
  /** The app whose handle (or default) phase answered the message; the message log shows it. */
  handledBy: string | null = null;

  constructor(init: MessageInit) {
    if (typeof init.text !== "string") {
      throw new TypeError("a message needs a text (an empty string is allowed)");
    }
    this.id = init.id ?? newMessageId();
    this.connections = [...init.connections];
    this.text = init.text;
    this.rawText = init.text;
    this.fields = { ...init.fields };
    this.inResponseTo = init.inResponseTo;
  }

  /** The first connection; most messages have exactly one. */
  get connection(): Connection {
    return this.connections[0];
  }
}

export type OutgoingKind = "message" | "error";

/** What `respond()` queues: sent by the router once every phase has run, a translatable text in the recipient's language. */
export interface Response {
  text: string | Translatable;
  connections: readonly Connection[];
  inResponseTo: IncomingMessage;
  fields?: Fields;
  kind: OutgoingKind;
  /** In a session: false asks for more input (USSD's CON); otherwise the reply ends the session. */
  endSession?: boolean;
}

export type RespondOptions = Partial<Pick<Response, "connections" | "fields" | "endSession">>;

export class IncomingMessage extends MessageBase {
  readonly responses: Response[] = [];
  /** Set by `receive` when the gateway had already delivered this message (same gateway id). */
  duplicate = false;
  /** The session the message came in (a USSD dialogue), set before the apps see it; undefined outside one. */
  session: MessageSession | undefined;

  respond(text: string | Translatable, options: RespondOptions = {}): Response {
    return this.queueResponse(text, "message", options);
  }

  error(text: string | Translatable, options: RespondOptions = {}): Response {
    return this.queueResponse(text, "error", options);
  }

  private queueResponse(text: string | Translatable, kind: OutgoingKind, options: RespondOptions): Response {
    const response: Response = { text, connections: this.connections, inResponseTo: this, kind, ...options };
    this.responses.push(response);
    return response;
  }
}

export class OutgoingMessage extends MessageBase {
  readonly kind: OutgoingKind = "message";
  /** For a reply in a session: false keeps the session open (see Response.endSession). */
  endSession: boolean | undefined;
  /** Where each status change of this message is POSTed (SendOptions.eventUrl). */
  eventUrl: string | undefined;

  /** The `context` a backend receives: which message this replies to, and the gateway's id of it. */
  extraBackendContext(): BackendContext {
    const original = this.inResponseTo;
    if (!original) return {};
    const context: BackendContext = { inResponseTo: original.id };
    const externalId = original.fields.externalId;
    if (externalId !== undefined && externalId !== null && externalId !== "") {
      context.externalId = String(externalId);
    }
    // Only a reply to the session's own user is in the session: a message to someone else (a supervisor) is an ordinary one.
    const [to] = this.connections;
    const own = this.connections.length === 1 && to.backend === original.connection.backend && to.identity === original.connection.identity;
    if (original.session && own) context.session = { id: original.session.id, end: this.endSession !== false };
    return context;
  }
}

/** An outgoing message that reports an error to its recipient; routed like any other. */
export class ErrorMessage extends OutgoingMessage {
  override readonly kind: OutgoingKind = "error";
}
