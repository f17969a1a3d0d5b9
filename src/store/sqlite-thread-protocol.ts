import type { Store } from "./store.ts";

/** The Store methods the store thread serves (see sqlite-thread.ts). */
export const METHODS = [
  "migrate",
  "close",
  "ping",
  "getOrCreateBackend",
  "lookupConnections",
  "createContact",
  "getContact",
  "setConnectionContact",
  "acceptIncoming",
  "claimIncoming",
  "completeIncoming",
  "failIncoming",
  "enqueueOutgoing",
  "claimTransmissions",
  "dueTransmissions",
  "staleOutgoing",
  "recordAttempts",
  "renewClaims",
  "releaseClaims",
  "pendingWork",
  "reserveSendSlot",
  "purgeDedupe",
  "reportDelivery",
  "getMessage",
  "getTransmission",
  "listMessages",
  "addBackendMessages",
  "listBackendMessages",
  "countBackendMessages",
  "clearBackendMessages",
] as const satisfies readonly (keyof Store)[];

// Every method of Store must be in METHODS: this fails to compile when one is missing.
const everyMethod: Exclude<keyof Store, (typeof METHODS)[number]> extends never ? true : never = true;
void everyMethod;

export type Method = (typeof METHODS)[number];

export interface Call {
  id: number;
  method: Method;
  args: unknown[];
}

export interface Answer {
  id: number;
  result?: unknown;
  error?: unknown;
}
