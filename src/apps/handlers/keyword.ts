import { HandlerError } from "../../errors.ts";
import type { IncomingMessage } from "../../messages/messages.ts";
import type { RouterApi } from "../../router/api.ts";
import { BaseHandler, InvalidNumberError, NotFoundError } from "./base.ts";

/**
 * Handles messages starting with `keyword` (a regex fragment, case-insensitive). Like RapidSMS,
 * there is no word boundary: keyword `echo` takes `echohello` with the text `hello`. Spaces,
 * commas, semicolons and colons after the keyword are skipped. A bare keyword calls `help()`.
 */
export class KeywordHandler extends BaseHandler {
  static keyword = "";

  static pattern(): RegExp {
    if (!this.keyword) throw new HandlerError(`${this.name}: a KeywordHandler must define a keyword.`);
    // RapidSMS compiles the keyword in verbose mode, where unescaped whitespace is ignored.
    const keyword = this.keyword.replace(/(\\.)|\s+/g, (_match, escaped: string | undefined) => escaped ?? "");
    return new RegExp(`^\\s*(?:${keyword})[\\s,;:]*([^\\s,;:].*)?$`, "is");
  }

  static override async dispatch(router: RouterApi | undefined, msg: IncomingMessage): Promise<boolean> {
    const match = this.pattern().exec(msg.text);
    if (!match) return false;
    const handler = new this(router, msg);
    const rest = match[1];
    try {
      if (rest !== undefined && rest.trim() !== "") await handler.handle(rest);
      else await handler.help();
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof InvalidNumberError) {
        handler.respondError(error.message);
        return true;
      }
      throw error;
    }
    return true;
  }

  /** Answers a bare keyword; override to explain the keyword's use. */
  help(): void | Promise<void> {
    throw new HandlerError(`${this.constructor.name} must implement help()`);
  }

  /** Handles the text after the keyword. */
  handle(_text: string): void | Promise<void> {
    throw new HandlerError(`${this.constructor.name} must implement handle(text)`);
  }
}
