import type { Connection } from "../messages/connection.ts";
import type { IncomingMessage, OutgoingMessage } from "../messages/messages.ts";
import type { ReceiveOptions, Router, SendOptions } from "./router.ts";

let current: Router | undefined;

/** The process's router, set by `setRouter` (the server and CLI set it on start). */
export function getRouter(): Router {
  if (!current) {
    throw new Error("no router is running: start the server, or create a Router and call setRouter(router)");
  }
  return current;
}

export function setRouter(router: Router | undefined): void {
  current = router;
}

export function receive(text: string, connection: Connection, options?: ReceiveOptions): Promise<IncomingMessage> {
  return getRouter().receive(text, connection, options);
}

export function send(text: string, connections: Connection | readonly Connection[], options?: SendOptions): Promise<OutgoingMessage> {
  return getRouter().send(text, connections, options);
}

export function lookupConnections(backendName: string, identities: readonly (string | number)[]): Promise<Connection[]> {
  return getRouter().lookupConnections(backendName, identities);
}
