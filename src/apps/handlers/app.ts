import type { IncomingMessage } from "../../messages/messages.ts";
import { AppBase } from "../app.ts";
import type { HandlerClass } from "./base.ts";

/**
 * Runs handlers in the handle phase: the first handler that accepts the message handles it.
 * Subclass it with `static handlers = [MyKeywordHandler, …]`.
 */
export class HandlersApp extends AppBase {
  static handlers: readonly HandlerClass[] = [];

  override async handle(msg: IncomingMessage): Promise<boolean | void> {
    for (const Handler of (this.constructor as typeof HandlersApp).handlers) {
      if (await Handler.dispatch(this.router, msg, this)) return true;
    }
  }
}
