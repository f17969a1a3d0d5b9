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
  "listContacts",
  "updateContact",
  "deleteContact",
  "createGroup",
  "getGroup",
  "listGroups",
  "updateGroup",
  "deleteGroup",
  "changeGroupMembers",
  "groupConnections",
  "connectionLanguages",
  "openSession",
  "saveSession",
  "holdInboundPart",
  "releaseInboundParts",
  "expiredInboundParts",
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
  "cancelOutgoing",
  "renewClaims",
  "releaseClaims",
  "pendingWork",
  "queueDepth",
  "reserveSendSlot",
  "purgeDedupe",
  "purgeFinished",
  "reportDelivery",
  "getMessage",
  "getTransmission",
  "listMessages",
  "searchMessages",
  "messageStats",
  "getMessageDetail",
  "messageRecipients",
  "addBackendMessages",
  "listBackendMessages",
  "countBackendMessages",
  "clearBackendMessages",
  "optOut",
  "optIn",
  "getOptOut",
  "listOptOuts",
  "queueWebhook",
  "claimWebhooks",
  "completeWebhook",
  "listWebhooks",
] as const satisfies readonly (keyof Store)[];

// Every method of Store must be in METHODS (but appData, which the main thread answers itself): this fails to compile when one is missing.
const everyMethod: Exclude<keyof Store, (typeof METHODS)[number] | "appData"> extends never ? true : never = true;
void everyMethod;

export type Method = (typeof METHODS)[number];

/** The calls behind the apps' database (app-data/thread-driver.ts), served by SqlSessions. */
export const SQL_METHODS = { sqlExecute: "execute", sqlBegin: "begin", sqlEnd: "end" } as const;
export type SqlMethod = keyof typeof SQL_METHODS;

export interface Call {
  id: number;
  method: Method | SqlMethod;
  args: unknown[];
}

export interface Answer {
  id: number;
  result?: unknown;
  error?: unknown;
}
