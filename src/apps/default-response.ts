import type { IncomingMessage } from "../messages/messages.ts";
import { AppBase } from "./app.ts";
import { t } from "./translations.ts";

/**
 * Answers messages no app handled with the `defaultResponse` setting (`%(project_name)s` becomes
 * the `projectName` setting), in the sender's language where a translation of it is known.
 * Install it last.
 */
export class DefaultResponseApp extends AppBase {
  static override appName = "default";

  override default(msg: IncomingMessage): void {
    const { defaultResponse, projectName } = this.router.settings;
    if (defaultResponse !== null) msg.error(t(defaultResponse, { project_name: projectName }));
  }
}
