import type { Connection } from "../../messages/connection.ts";
import { newMessageId } from "../../messages/ids.ts";
import type { Fields } from "../../messages/messages.ts";
import type { FastifyPluginAsync } from "fastify";
import type { SendRequest } from "../backend.ts";
import type { PagesContext } from "../port.ts";
import { testerPages } from "./pages.ts";
import type { IncomingData } from "../http/form.ts";
import { GenericHttpBackendView, type HttpViewOptions } from "../http/view.ts";
import { DatabaseBackend } from "../database/index.ts";

/** The message tester's inbound view: the generic view, recording what the tester typed. */
export class MessageTesterView extends GenericHttpBackendView {
  private readonly backend: HttpTesterBackend;

  constructor(options: HttpViewOptions & { backend: HttpTesterBackend }) {
    super(options);
    this.backend = options.backend;
  }

  protected override async accept(incoming: IncomingData): Promise<void> {
    await this.backend.receiveFromTester(incoming.connection, incoming.text, incoming.fields);
  }
}

/**
 * The message tester's backend: a database backend (replies are stored for the tester to show)
 * whose inbound view is the generic one, so what a tester sends goes in like a real gateway's.
 * It tells its listeners (the tester's open pages) each time its conversation changes here.
 */
export class HttpTesterBackend extends DatabaseBackend {
  static override engine = "httptester";
  static override aliases = [];
  static override providesTester = true;
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after each change this process makes to the conversation; returns how to stop. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * What a tester typed: recorded for the tester page, then received like any inbound message.
   * Recorded first, so that the tester's row always comes before its replies.
   */
  async receiveFromTester(connection: Connection, text: string, fields?: Fields): Promise<void> {
    const id = newMessageId();
    await this.port.messages.add([{ direction: "I", messageId: id, externalId: "", identity: connection.identity, text }]);
    this.changed();
    await this.port.receive(text, connection, { fields, id });
  }

  /** Forgets one number's conversation, or every one; returns how many messages went. */
  async clear(identity?: string): Promise<number> {
    const cleared = await this.port.messages.clear(identity);
    this.changed();
    return cleared;
  }

  override async send(request: SendRequest): Promise<void> {
    await super.send(request);
    this.changed();
  }

  override pages(context: PagesContext): FastifyPluginAsync {
    return testerPages(this, context);
  }

  override views() {
    return [new MessageTesterView({ port: this.port, backend: this })];
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
