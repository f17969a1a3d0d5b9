import { AppBase } from "../../src/apps/app.ts";
import type { IncomingMessage } from "../../src/messages/messages.ts";

/**
 * A three-step USSD survey, as a service would write one: the name, then the age, then thanks.
 * What the user said so far lives in the session's state, so the survey goes on after a restart
 * between two steps. A message outside a session is left to the other apps; `slow` takes 3 s,
 * longer than a USSD step may.
 */
export default class UssdSurveyApp extends AppBase {
  static override appName = "survey";

  override async handle(msg: IncomingMessage): Promise<boolean> {
    const session = msg.session;
    if (!session) return false;
    if (msg.text === "slow") {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      msg.respond("This came too late.");
    } else if (session.isNew) {
      msg.respond("Welcome to the survey. What is your name?", { endSession: false });
    } else if (session.state.name === undefined) {
      session.state.name = msg.text;
      msg.respond(`Thank you ${msg.text}. How old are you?`, { endSession: false });
    } else {
      msg.respond(`Thank you ${String(session.state.name)}, ${msg.text}. Goodbye.`);
    }
    return true;
  }
}
