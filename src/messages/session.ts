/** What a gateway says of a session with a message: it begins, it goes on, or the user left it. */
export type SessionEvent = "new" | "resume" | "close";

/** The session a gateway put a message in, as its backend marks it (stored as the message's `session` field). */
export interface SessionMark {
  /** The gateway's session id. */
  id: string;
  /** What the gateway said; without it, the session is new when this is its first message. */
  event?: SessionEvent;
}

/** The field a backend's session mark is stored in. */
export const SESSION_FIELD = "session";

/** The session mark in a message's fields, or undefined when the message is in no session. */
export function sessionMark(fields: Readonly<Record<string, unknown>>): SessionMark | undefined {
  const value = fields[SESSION_FIELD];
  if (value === null || typeof value !== "object") return undefined;
  const { id, event } = value as Record<string, unknown>;
  if (typeof id !== "string" || id === "") return undefined;
  return event === "new" || event === "resume" || event === "close" ? { id, event } : { id };
}

/**
 * The session (a USSD dialogue) an incoming message belongs to, as apps see it: whether this
 * message opened it, which step it is, and `state`, what apps keep from one step to the next
 * (JSON; saved after the step, kept across restarts). Reply with `msg.respond(text, { endSession: false })`
 * to ask for more input; any other reply ends the session.
 */
export class MessageSession {
  readonly id: string;
  /** True for the session's first message (also when its processing is tried again). */
  readonly isNew: boolean;
  /** True when the gateway says the user left the session: no reply reaches them. */
  readonly closed: boolean;
  /** 1 for the first message, 2 for the next, … */
  readonly step: number;
  state: Record<string, unknown>;

  constructor(init: { id: string; isNew: boolean; closed: boolean; step: number; state: Record<string, unknown> }) {
    this.id = init.id;
    this.isNew = init.isNew;
    this.closed = init.closed;
    this.step = init.step;
    this.state = init.state;
  }
}

/** What a reply in a session tells its backend: which session, and whether it ends it. */
export interface SessionReply {
  id: string;
  end: boolean;
}

/** The answer a gateway waits for within its request (a USSD hop): the replies' text, and whether the session ends. */
export interface SessionAnswer {
  text: string;
  end: boolean;
}

/** What a request waiting within a session (a USSD hop) gets: the apps' answer, or why there is none. */
export type Conversation =
  | ({ outcome: "answered" } & SessionAnswer)
  /** The apps did not answer within the deadline: they still run, and their replies are recorded as too late. */
  | { outcome: "late" }
  /** Processing failed (an app threw, the store failed): the message is tried again later, out of the session. */
  | { outcome: "failed" }
  /** The gateway sent this step again and its answer is no longer known here. */
  | { outcome: "duplicate" }
  /** This process has as many steps under way as it takes: nothing was stored. */
  | { outcome: "busy" };
