import { HandlerError } from "../../errors.ts";
import type { IncomingMessage } from "../../messages/messages.ts";
import type { AppBase } from "../app.ts";
import type { RouterApi } from "../../router/api.ts";
import { BaseHandler, InvalidNumberError, NotFoundError } from "./base.ts";

/**
 * What a keyword takes after it. `required` (RapidSMS's way): a bare keyword calls `help()`.
 * `optional`: a bare keyword calls `handle("")`. `none` (a command such as `STATUS`): the bare
 * keyword calls `handle("")`, and text after it calls `help()`.
 */
export type KeywordArgument = "required" | "optional" | "none";

/**
 * Handles messages starting with `keyword` (a regex fragment, case-insensitive). Like RapidSMS,
 * there is no word boundary: keyword `echo` takes `echohello` with the text `hello`. Spaces,
 * commas, semicolons and colons after the keyword are skipped. What a bare keyword does is
 * `argument`'s choice: by default it calls `help()`.
 */
export class KeywordHandler extends BaseHandler {
  static keyword = "";
  static argument: KeywordArgument = "required";

  static pattern(): RegExp {
    if (!this.keyword) throw new HandlerError(`${this.name}: a KeywordHandler must define a keyword.`);
    // RapidSMS compiles the keyword in verbose mode, where unescaped whitespace is ignored.
    const keyword = this.keyword.replace(/(\\.)|\s+/g, (_match, escaped: string | undefined) => escaped ?? "");
    return new RegExp(`^\\s*(?:${keyword})[\\s,;:]*([^\\s,;:].*)?$`, "is");
  }

  static override async dispatch(router: RouterApi | undefined, msg: IncomingMessage, app?: AppBase): Promise<boolean> {
    const match = this.pattern().exec(msg.text);
    if (!match) return false;
    const handler = new this(router, msg, app);
    const rest = match[1] !== undefined && match[1].trim() !== "" ? match[1] : undefined;
    const takes = this.argument;
    try {
      if (rest === undefined) await (takes === "required" ? handler.help() : handler.handle(""));
      else await (takes === "none" ? handler.help() : handler.handle(rest));
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof InvalidNumberError) {
        handler.respondError(error.message);
        return true;
      }
      throw error;
    }
    return true;
  }

  /** Answers a bare keyword (or, with `argument: "none"`, a keyword with text after it); override to explain the keyword's use. */
  help(): void | Promise<void> {
    throw new HandlerError(`${this.constructor.name} must implement help()`);
  }

  /** Handles the text after the keyword: "" for a bare keyword when `argument` is `optional` or `none`. */
  handle(_text: string): void | Promise<void> {
    throw new HandlerError(`${this.constructor.name} must implement handle(text)`);
  }
}
