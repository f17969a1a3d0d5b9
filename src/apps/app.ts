import type { IncomingMessage, OutgoingMessage } from "../messages/messages.ts";
import type { RouterApi } from "../router/api.ts";

type PhaseResult = boolean | void | undefined;

/**
 * An app sees every message. Incoming phases run in this order, apps in `apps` order:
 * - filter: returning exactly `true` stops all processing of the message;
 * - parse: every app runs;
 * - handle: the first app returning `true` marks the message handled and ends the phase;
 * - default: runs only when no app handled the message, until one returns `true`;
 * - cleanup: every app runs, only when the message was not handled.
 * `outgoing` runs for each outgoing message, apps in reverse order; returning exactly `false`
 * cancels the message.
 */
export class AppBase {
  /** The name apps are known by in config and logs; defaults to the class name. */
  static appName?: string;
  readonly router: RouterApi;

  constructor(router: RouterApi) {
    this.router = router;
  }

  get name(): string {
    const cls = this.constructor as typeof AppBase;
    return cls.appName ?? cls.name;
  }

  filter(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  parse(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  handle(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  default(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  cleanup(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  outgoing(_msg: OutgoingMessage): PhaseResult | Promise<PhaseResult> {}
}

export type AppClass = new (router: RouterApi) => AppBase;
export type IncomingPhase = "filter" | "parse" | "handle" | "default" | "cleanup";
export const INCOMING_PHASES: readonly IncomingPhase[] = ["filter", "parse", "handle", "default", "cleanup"];
