import type { Connection } from "../../messages/connection.ts";
import { newMessageId } from "../../messages/ids.ts";
import type { Fields } from "../../messages/messages.ts";
import type { Router } from "../../router/router.ts";
import type { IncomingData } from "../http/form.ts";
import { GenericHttpBackendView } from "../http/view.ts";
import { DatabaseBackend } from "../database/index.ts";

/**
 * What a tester typed: recorded for the tester page, then received like any inbound message.
 * Recorded first, so that the tester's row always comes before its replies.
 */
export async function storeAndQueue(router: Router, backendName: string, connection: Connection, text: string, fields?: Fields): Promise<void> {
  const id = newMessageId();
  await router.store.addBackendMessages([{ name: backendName, direction: "I", messageId: id, externalId: "", identity: connection.identity, text }]);
  await router.receive(text, connection, { fields, id });
}

/** The message tester's inbound view: the generic view, recording what the tester typed. */
export class MessageTesterView extends GenericHttpBackendView {
  protected override async accept(incoming: IncomingData): Promise<void> {
    await storeAndQueue(this.router, this.backendName, incoming.connection, incoming.text, incoming.fields);
  }
}

/**
 * The message tester's backend: a database backend (replies are stored for the tester to show)
 * whose inbound view is the generic one, so what a tester sends goes in like a real gateway's.
 */
export class HttpTesterBackend extends DatabaseBackend {
  static override engine = "httptester";
  static override aliases = [];

  override views() {
    return [new MessageTesterView({ backendName: this.name, router: this.router })];
  }
}
