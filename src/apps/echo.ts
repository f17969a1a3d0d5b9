import { HandlersApp } from "./handlers/app.ts";
import { KeywordHandler } from "./handlers/keyword.ts";
import { BaseHandler } from "./handlers/base.ts";
import { t } from "./translations.ts";
import type { IncomingMessage } from "../messages/messages.ts";
import type { RouterApi } from "../router/api.ts";

/** `echo <anything>` answers `<anything>`. */
export class EchoHandler extends KeywordHandler {
  static override keyword = "echo";

  override help(): void {
    this.respond(t("To echo some text, send: ECHO <ANYTHING>"));
  }

  override handle(text: string): void {
    this.respond(text);
  }
}

/** Exactly `ping` (case-sensitive, nothing else around it, as in RapidSMS) answers `pong`. */
export class PingHandler extends BaseHandler {
  static override async dispatch(_router: RouterApi | undefined, msg: IncomingMessage): Promise<boolean> {
    if (msg.text !== "ping") return false;
    msg.respond("pong");
    return true;
  }
}

export class EchoApp extends HandlersApp {
  static override appName = "echo";
  static override handlers = [EchoHandler];
}

export class PingApp extends HandlersApp {
  static override appName = "ping";
  static override handlers = [PingHandler];
}
