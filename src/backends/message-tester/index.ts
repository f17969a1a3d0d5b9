import { newMessageId } from "../../messages/ids.ts";
import type { IncomingData } from "../http/form.ts";
import { GenericHttpBackendView } from "../http/view.ts";
import { DatabaseBackend } from "../database/index.ts";

/** The message tester's inbound view: the generic view, recording what the tester typed. */
export class MessageTesterView extends GenericHttpBackendView {
  protected override async accept(incoming: IncomingData): Promise<void> {
    // Recorded before the router sees it, so the tester's row always precedes its replies.
    const id = newMessageId();
    await this.router.store.addBackendMessages([
      { name: this.backendName, direction: "I", messageId: id, externalId: "", identity: incoming.connection.identity, text: incoming.text },
    ]);
    await this.router.receive(incoming.text, incoming.connection, { fields: incoming.fields, id });
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
