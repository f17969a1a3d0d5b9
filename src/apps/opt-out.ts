import type { OptOutSettings } from "../config/operations.ts";
import type { IncomingMessage } from "../messages/messages.ts";
import { AppBase, type AppClass } from "./app.ts";
import { OptOutKeywords } from "./opt-out-keywords.ts";
import { t } from "./translations.ts";

/**
 * The built-in opt-out app, which the router puts before every other when `optOut` is on. In the
 * filter phase, a STOP keyword opts the sender out (recorded with the keyword and the message) and
 * gets the confirmation, once; a START keyword from someone opted out opts them back in and gets
 * the start confirmation. Either way no other app sees the message. A START keyword from someone
 * who is not opted out ("YES") goes on to the apps like any text. Processed again after a failure
 * (a crash, a lost claim), a STOP or START finds what it recorded and is handled the same way.
 */
export function optOutApp(settings: OptOutSettings): AppClass {
  const keywords = new OptOutKeywords(settings);
  return class OptOutApp extends AppBase {
    static override appName = "opt-out";

    override async filter(msg: IncomingMessage): Promise<boolean | undefined> {
      const found = keywords.match(msg.text);
      if (!found) return undefined;
      const { backend, identity } = msg.connection;
      if (found.kind === "stop") {
        const { created, record } = await this.router.optOuts.optOut({ backend, identity, source: "keyword", detail: found.keyword, messageId: msg.id });
        // Processed again after a failure, the message finds its own opt-out: it is still owed the confirmation.
        const first = created || record.messageId === msg.id;
        if (first && settings.confirmation !== null) msg.respond(t(settings.confirmation));
        this.router.logger.info({ messageId: msg.id, backend, first }, "a sender opted out");
        return true;
      }
      // Processed again after a failure, a START that opted the sender in is still one (the store kept its id).
      if (!(await this.router.optOuts.optIn({ backend, identity, messageId: msg.id }))) return undefined;
      if (settings.startConfirmation !== null) msg.respond(t(settings.startConfirmation));
      this.router.logger.info({ messageId: msg.id, backend }, "a sender opted back in");
      return true;
    }
  };
}
