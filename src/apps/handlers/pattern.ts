import { HandlerError } from "../../errors.ts";
import type { IncomingMessage } from "../../messages/messages.ts";
import type { AppBase } from "../app.ts";
import type { RouterApi } from "../../router/api.ts";
import { BaseHandler } from "./base.ts";

/**
 * Handles messages matching `pattern` from their start (case-insensitive; add `$` to anchor the
 * end). The capture groups are passed to `handle`.
 */
export class PatternHandler extends BaseHandler {
  static pattern: string | RegExp = "";

  static regex(): RegExp {
    const source = this.pattern instanceof RegExp ? this.pattern.source : this.pattern;
    if (!source) throw new HandlerError(`${this.name}: a PatternHandler must define a pattern.`);
    return new RegExp(`^(?:${source})`, "i");
  }

  static override async dispatch(router: RouterApi | undefined, msg: IncomingMessage, app?: AppBase): Promise<boolean> {
    const match = this.regex().exec(msg.text);
    if (!match) return false;
    await new this(router, msg, app).handle(...match.slice(1));
    return true;
  }

  handle(..._groups: (string | undefined)[]): void | Promise<void> {
    throw new HandlerError(`${this.constructor.name} must implement handle(...groups)`);
  }
}
