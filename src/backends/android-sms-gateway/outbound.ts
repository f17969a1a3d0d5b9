import { createHash } from "node:crypto";
import { MessageSendingError } from "../../errors.ts";
import { smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { GatewayError, type GatewayCall, type GatewayClient } from "../gateway-client.ts";
import { jsonObject } from "../per-recipient.ts";

export interface AndroidSmsGatewaySendOptions {
  baseUrl: string;
  username: string;
  password: string;
}

/** Recipients of one request at most: the cloud server refuses more (`phoneNumbers` max=100, client-go's smsgateway.Message). */
export const MAX_RECIPIENTS_PER_REQUEST = 100;

/**
 * The id we give the app for one request: a digest of our message id and the request's
 * recipients, 32 hex characters (the app takes 36 at most). Not our message id itself: the
 * pipeline may send one message in several batches, and the app refuses an id it already has
 * (409, unique per device). The same batch sent again (a retry after a timeout) gets the same
 * id, so the app's 409 tells us it has that batch already instead of sending it twice.
 */
export function appMessageId(messageId: string, identities: readonly string[]): string {
  return createHash("sha256")
    .update([messageId, ...[...identities].sort()].join("\n"), "utf8")
    .digest("hex")
    .slice(0, 32);
}

/**
 * A phone number as we match it: its digits (and the `*`/`#` the app keeps), so that
 * `+255 700-000001` and `255700000001` are one recipient; text without digits as it is.
 */
function phoneKey(phone: string): string {
  const digits = phone.replace(/[^0-9*#]/g, "");
  return digits === "" ? phone : digits;
}

/**
 * The external id of one recipient's transmission: the app's message id and the recipient. The
 * app keeps one id for every recipient of a request and reports each recipient on its own
 * (`messageId` plus `recipient`); a report matched by the message id alone would mark every
 * recipient of the request delivered or failed (a gateway id shared by several transmissions
 * names them all, see store/kysely/delivery.ts), so each recipient gets its own id.
 */
export function deliveryId(appId: string, phone: string): string {
  return `${appId}/${phoneKey(phone)}`;
}

/**
 * The POST of one message to some recipients: `POST {baseUrl}/messages`, HTTP Basic, JSON with
 * our `id`, `textMessage.text`, every recipient in `phoneNumbers`, and `withDeliveryReport`.
 * `/messages` is the path the cloud documents and the phone's local server registers (with
 * `/message` as an alias); the cloud keeps `/message`, which the SDK 3.0.0 still posts to, only
 * for old clients ("remove after 2025-12-31" in the server's 3rdparty.go). `textMessage` replaces
 * the deprecated top-level `message` the SDK sends.
 */
export function prepareSendRequest(options: AndroidSmsGatewaySendOptions, appId: string, text: string, identities: readonly string[]): GatewayCall {
  const credentials = Buffer.from(`${options.username}:${options.password}`, "utf8").toString("base64");
  return {
    method: "POST",
    url: `${options.baseUrl}/messages`,
    headers: { "content-type": "application/json", authorization: `Basic ${credentials}` },
    body: JSON.stringify({ id: appId, textMessage: { text }, phoneNumbers: [...identities], withDeliveryReport: true }),
  };
}

/** What the app's answer says about each recipient of one request. */
export interface RequestOutcome {
  /** Recipients the app took, with their external ids. */
  externalIds: Record<string, string>;
  /** Recipients the app marked Failed at once, with its reason. */
  failed: Record<string, string>;
}

/**
 * Reads the 202 answer `{ id, state, recipients: [{ phoneNumber, state, error }] }`. The app
 * reports each recipient by the number as it holds it (the cloud turns numbers into E.164), so a
 * recipient's external id is built on the number the answer gives for it, found by its digits or
 * else by its place; an answer without recipients still names them by the numbers we sent.
 */
export function readSendAnswer(body: string, appId: string, identities: readonly string[]): RequestOutcome {
  const parsed = jsonObject(body);
  const id = typeof parsed?.id === "string" && parsed.id !== "" ? parsed.id : appId;
  const recipients = Array.isArray(parsed?.recipients) ? parsed.recipients.map(readRecipient).filter((r) => r !== undefined) : [];
  const outcome: RequestOutcome = { externalIds: {}, failed: {} };
  for (const [index, identity] of identities.entries()) {
    const recipient =
      recipients.find((r) => phoneKey(r.phoneNumber) === phoneKey(identity)) ?? (recipients.length === identities.length ? recipients[index] : undefined);
    if (recipient?.state === "Failed") outcome.failed[identity] = `Failed: ${recipient.error || "no reason given"}`;
    else outcome.externalIds[identity] = deliveryId(id, recipient?.phoneNumber ?? identity);
  }
  return outcome;
}

/**
 * Sends through the app's API, at most MAX_RECIPIENTS_PER_REQUEST recipients a request. 2xx (202)
 * is taken; 409 means the app already has this very request (a retry after a lost answer) and
 * is taken too; 400 and other 4xx (a number the cloud cannot parse, no device, an empty text)
 * are permanent; 401/403 are the credentials; 429, 5xx (503: the device's queue is full or it is
 * offline) and connection errors are retried. Recipients the answer marks Failed are failed
 * permanently with the app's reason.
 */
export function createAndroidSmsGatewaySender(options: AndroidSmsGatewaySendOptions, client: GatewayClient) {
  return async function send(request: SendRequest): Promise<SendResult> {
    const externalIds: Record<string, string> = {};
    const failed: Record<string, string> = {};
    const errors: { identities: string[]; error: MessageSendingError }[] = [];
    const answers: string[] = [];
    for (let at = 0; at < request.identities.length; at += MAX_RECIPIENTS_PER_REQUEST) {
      const identities = request.identities.slice(at, at + MAX_RECIPIENTS_PER_REQUEST);
      const appId = appMessageId(request.id, identities);
      let outcome: RequestOutcome;
      try {
        const answer = await client.call({ ...prepareSendRequest(options, appId, request.text, identities), signal: request.signal });
        answers.push(answer.logText);
        outcome = readSendAnswer(answer.body, appId, identities);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        if (error.status !== 409) {
          errors.push({ identities, error });
          continue;
        }
        answers.push(`409 (the app has message ${appId} already: taken as sent): ${error.answer ?? ""}`.trim());
        outcome = readSendAnswer("", appId, identities);
      }
      Object.assign(externalIds, outcome.externalIds);
      Object.assign(failed, outcome.failed);
    }
    const segments = smsSize(request.text).segments;
    if (errors.length === 0 && Object.keys(failed).length === 0) return { externalIds, answer: answers.join("\n"), segments };
    // One request that failed as a whole: its own error (with its code and Retry-After) is the outcome.
    if (errors.length === 1 && errors[0].identities.length === request.identities.length) throw errors[0].error;
    const retryable = errors.some(({ error }) => error.retryable);
    const refusedAtOnce = Object.keys(failed);
    const reasons = [
      ...errors.map(({ identities, error }) => `${identities.length} recipient(s) not sent: ${error.message}`),
      ...refusedAtOnce.map((identity) => `${identity}: ${failed[identity]}`),
    ];
    throw new MessageSendingError(`the app did not take every recipient: ${reasons.join("; ")}`, {
      failedIdentities: [...errors.flatMap(({ identities }) => identities), ...refusedAtOnce],
      externalIds,
      permanentIdentities: retryable ? [...errors.filter(({ error }) => !error.retryable).flatMap(({ identities }) => identities), ...refusedAtOnce] : [],
      identityErrors: failed,
      retryable,
    });
  };
}

interface AnsweredRecipient {
  phoneNumber: string;
  state: string;
  error: string;
}

function readRecipient(value: unknown): AnsweredRecipient | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { phoneNumber, state, error } = value as Record<string, unknown>;
  if (typeof phoneNumber !== "string" || phoneNumber === "") return undefined;
  return { phoneNumber, state: typeof state === "string" ? state : "", error: typeof error === "string" ? error : "" };
}
