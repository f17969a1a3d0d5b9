import { MessageSendingError } from "../../errors.ts";
import { smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import type { GatewayCall, GatewayClient } from "../gateway-client.ts";

export interface AfricasTalkingSendOptions {
  username: string;
  apiKey: string;
  from: string | null;
  /** The messaging endpoint's base: the live API, or the sandbox's for username `sandbox`. */
  apiUrl: string;
  /** Whether Africa's Talking should queue a large batch rather than refuse it (`enqueue=1`). */
  enqueue: boolean;
}

/** Per-recipient `statusCode`s of the bulk SMS answer: sent, opted out, or refused (retry or not). */
const SENT = new Set([100, 101, 102]);
/**
 * UserInBlacklist: the recipient asked not to get messages. (409 is DoNotDisturbRejection in most
 * copies of Africa's Talking's table and DuplicateRequest in one: UNVERIFIED, so it is taken as a
 * plain refusal, not an opt-out.)
 */
const OPTED_OUT = new Set([406]);
/** InsufficientBalance and the gateway's own failures pass; the rest are about the number or the sender. */
const RETRY = new Set([405, 500, 501, 502]);

/** One POST for every recipient: `to` comma-separated, the API key in the `apiKey` header, form-encoded. */
export function prepareAfricasTalkingRequest(options: AfricasTalkingSendOptions, text: string, identities: readonly string[]): GatewayCall {
  const form = new URLSearchParams({ username: options.username, to: identities.join(","), message: text });
  if (options.from) form.set("from", options.from);
  form.set("bulkSMSMode", "1");
  if (options.enqueue) form.set("enqueue", "1");
  return {
    method: "POST",
    url: `${options.apiUrl.replace(/\/+$/, "")}/version1/messaging`,
    headers: { apikey: options.apiKey, accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  };
}

interface Recipient {
  statusCode?: unknown;
  status?: unknown;
  number?: unknown;
  messageId?: unknown;
  messageParts?: unknown;
}

/**
 * Sends one text to every identity in one call. The answer lists each recipient's `statusCode`
 * and `messageId` (by `number`, which Africa's Talking writes in international form): those
 * sent get their id and segment count, the others fail one by one with Africa's Talking's status.
 */
export function createAfricasTalkingSender(options: AfricasTalkingSendOptions, client: GatewayClient) {
  return async function send({ text, identities, signal }: SendRequest): Promise<SendResult> {
    const answer = await client.call({ ...prepareAfricasTalkingRequest(options, text, identities), signal });
    const recipients = readRecipients(answer.body);
    if (!recipients) {
      throw new MessageSendingError(`Africa's Talking answered ${answer.status} without SMSMessageData.Recipients: ${answer.logText}`, {
        retryable: false,
        code: "GATEWAY_REJECTED",
      });
    }
    const externalIds: Record<string, string> = {};
    const segments: Record<string, number> = {};
    const identityErrors: Record<string, string> = {};
    const optedOut: string[] = [];
    const permanent: string[] = [];
    const unmatched = [...recipients];
    for (const identity of identities) {
      const at = unmatched.findIndex((r) => sameNumber(String(r.number ?? ""), identity));
      const recipient = at === -1 ? undefined : unmatched.splice(at, 1)[0];
      const code = Number(recipient?.statusCode);
      if (recipient && SENT.has(code) && typeof recipient.messageId === "string" && recipient.messageId !== "None") {
        externalIds[identity] = recipient.messageId;
        const parts = Number(recipient.messageParts);
        segments[identity] = Number.isInteger(parts) && parts > 0 ? parts : smsSize(text).segments;
        continue;
      }
      identityErrors[identity] = recipient
        ? `Africa's Talking status ${code} ${String(recipient.status ?? "")}`.trim()
        : `Africa's Talking's answer does not name this recipient: ${answer.logText}`;
      if (OPTED_OUT.has(code)) optedOut.push(identity);
      else if (!RETRY.has(code)) permanent.push(identity);
    }
    const failed = Object.keys(identityErrors);
    if (failed.length === 0) return { externalIds, segments, answer: answer.logText };
    throw new MessageSendingError(`Africa's Talking did not send to ${failed.join(", ")}: ${failed.map((f) => identityErrors[f]).join("; ")}`, {
      failedIdentities: failed.length === identities.length ? [] : failed,
      externalIds,
      identityErrors,
      optedOutIdentities: optedOut,
      permanentIdentities: permanent,
      retryable: failed.some((f) => !optedOut.includes(f) && !permanent.includes(f)),
      code: failed.length === optedOut.length ? "RECIPIENT_OPTED_OUT" : undefined,
    });
  };
}

function readRecipients(body: string): Recipient[] | undefined {
  try {
    const data = JSON.parse(body) as { SMSMessageData?: { Recipients?: unknown } };
    const list = data?.SMSMessageData?.Recipients;
    return Array.isArray(list) ? (list.filter((r) => r !== null && typeof r === "object") as Recipient[]) : undefined;
  } catch {
    return undefined;
  }
}

/** `+254711000001` and `254711000001` are one number; a local `0711…` is matched on its last nine digits. */
function sameNumber(answered: string, identity: string): boolean {
  const a = answered.replace(/[^\d]/g, "");
  const b = identity.replace(/[^\d]/g, "");
  if (a === b) return a !== "";
  return a.length >= 9 && b.length >= 9 && a.slice(-9) === b.slice(-9);
}
