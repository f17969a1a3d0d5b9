import type { Kysely } from "kysely";
import { IncomingMessage, type RespondOptions, type Response } from "../../messages/messages.ts";
import type { RouterApi } from "../../router/api.ts";
import type { AppBase } from "../app.ts";
import { Catalog, type Translatable } from "../translations.ts";

/** Thrown by a handler when what the message names does not exist; answered as an error reply. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** Thrown by `parseNumber` for text that is not a whole number; answered as "Not a valid number: X". */
export class InvalidNumberError extends Error {
  override name = "InvalidNumberError";
  readonly input: string;

  constructor(input: string) {
    super(`Not a valid number: ${input}`);
    this.input = input;
  }
}

/** A whole number in base 10, surrounding whitespace allowed; throws InvalidNumberError otherwise. */
export function parseNumber(text: string): number {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) throw new InvalidNumberError(trimmed);
  return Number(trimmed);
}

/** A handler tried alone answers its texts as written. */
const SOURCE_TEXTS = new Catalog([]);

export type HandlerClass = {
  new (router: RouterApi | undefined, msg: IncomingMessage, app?: AppBase): BaseHandler;
  dispatch(router: RouterApi | undefined, msg: IncomingMessage, app?: AppBase): Promise<boolean>;
};

/**
 * A handler answers one kind of message. `dispatch` decides whether it accepts the message;
 * subclasses (KeywordHandler, PatternHandler) implement it. A handler run by a HandlersApp has
 * that app as `app` (its settings, its tables); one tried alone with `test()` has neither app
 * nor router.
 */
export class BaseHandler {
  readonly router: RouterApi | undefined;
  readonly msg: IncomingMessage;
  readonly app: AppBase | undefined;

  constructor(router: RouterApi | undefined, msg: IncomingMessage, app?: AppBase) {
    this.router = router;
    this.msg = msg;
    this.app = app;
  }

  static async dispatch(_router: RouterApi | undefined, _msg: IncomingMessage, _app?: AppBase): Promise<boolean> {
    return false;
  }

  /**
   * Tries this handler on `text` without a router: the texts it would answer, or `false` when it
   * declines the message.
   */
  static async test(this: HandlerClass, text: string, identity = "mock"): Promise<string[] | false> {
    const connection = { id: 0, backend: `mock_${identity}`, identity, contactId: null };
    const msg = new IncomingMessage({ connections: [connection], text });
    const accepted = await this.dispatch(undefined, msg);
    return accepted ? msg.responses.map((r) => SOURCE_TEXTS.render(r.text)) : false;
  }

  /** The database of the apps' tables (see AppBase.database); a handler tried alone with `test()` has none. */
  database<DB>(): Kysely<DB> {
    if (!this.router) throw new Error(`${this.constructor.name} needs the database: test it within its app, with testApps`);
    return this.router.database<DB>();
  }

  respond(text: string | Translatable, options?: RespondOptions): Response {
    return this.msg.respond(text, options);
  }

  respondError(text: string | Translatable, options?: RespondOptions): Response {
    return this.msg.error(text, options);
  }
}
