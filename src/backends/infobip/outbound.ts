import { MessageSendingError } from "../../errors.ts";
import { smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { GatewayError, type GatewayCall, type GatewayClient } from "../gateway-client.ts";

export interface InfobipSendOptions {
  /** The account's base URL, normalised: scheme included, no trailing slash. */
  baseUrl: string;
  apiKey: string;
  from?: string;
}

/** Where Infobip's SMS API v3 takes messages, below the account's base URL. */
export const SEND_PATH = "/sms/3/messages";

/**
 * The id we give Infobip for the message to one recipient: our message id, a dash, the identity.
 * Infobip wants one id per destination (it rejects a repeated one with REJECTED_DUPLICATE_MESSAGE_ID)
 * and takes up to 200 characters (its OpenAPI `Destination.messageId`): 32 + 1 + at most 100 fit.
 * Built from the identity rather than its place in the list, it stays the same when a retry sends
 * to fewer recipients, so no two transmissions of a message ever share one.
 */
export function destinationMessageId(messageId: string, identity: string): string {
  return `${messageId}-${identity}`;
}

/**
 * The v3 request for one text to every identity, in one call: each identity a destination with
 * its own `messageId`, the sender when `from` is set, the delivery-report URL when one is known
 * (else the account's subscription settings apply), and the SMS count per destination asked for.
 */
export function prepareInfobipRequest(options: InfobipSendOptions, { id, text, identities }: SendRequest, deliveryUrl: string | undefined): GatewayCall {
  const message: Record<string, unknown> = {};
  if (options.from !== undefined) message.sender = options.from;
  message.destinations = identities.map((identity) => ({ to: identity, messageId: destinationMessageId(id, identity) }));
  message.content = { text };
  if (deliveryUrl !== undefined) message.webhooks = { delivery: { url: deliveryUrl }, contentType: "application/json" };
  return {
    method: "POST",
    url: `${options.baseUrl}${SEND_PATH}`,
    headers: { authorization: `App ${options.apiKey}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ messages: [message], options: { includeSmsCountInResponse: true } }),
  };
}

/** One `messages[]` entry of Infobip's answer: a destination's id, status and SMS count. */
interface AnsweredDestination {
  messageId?: unknown;
  destination?: unknown;
  status?: { groupName?: unknown; id?: unknown; name?: unknown; description?: unknown; action?: unknown };
  details?: { messageCount?: unknown };
}

type Refusal = "opted-out" | "permanent" | "retry";

/**
 * What a REJECTED (or otherwise failed) destination in the send's answer means, by Infobip's status
 * name (its status code table): the recipient's Do Not Disturb or the destination's blocklisting
 * is an opt-out; an invalid number, and the account's own limits (sender, credit, routes), will not
 * change by sending again; a system error, the flooding filter or the platform being unavailable
 * may pass.
 */
const REFUSALS: Readonly<Record<string, Refusal>> = {
  REJECTED_DND: "opted-out",
  REJECTED_DESTINATION_BLOCKLISTED: "opted-out",
  REJECTED_SYSTEM_ERROR: "retry",
  REJECTED_FLOODING_FILTER: "retry",
  UNDELIVERABLE_REJECTED_PLATFORM: "retry",
};
/** Status ids of the same statuses, for an answer that gives the id without the name. */
const REFUSALS_BY_ID: Readonly<Record<number, Refusal>> = { 10: "opted-out", 14: "opted-out", 21: "retry", 20: "retry", 100: "retry" };
/** Our own id sent again (a retry after an answer we never got): Infobip has the message already. */
const DUPLICATE_ID = { name: "REJECTED_DUPLICATE_MESSAGE_ID", id: 23 };
const FAILED_GROUPS = new Set(["REJECTED", "UNDELIVERABLE", "EXPIRED"]);

/**
 * Infobip's send endpoint through the backend's gateway client. One call carries every
 * identity; the answer's `messages[]` says per destination whether it was taken (PENDING) and in
 * how many parts, or REJECTED and why. Refused calls (4xx, 5xx) keep Infobip's own error text.
 */
export function createInfobipSender(options: InfobipSendOptions, client: GatewayClient, deliveryUrl: () => string | undefined) {
  return async function send(request: SendRequest): Promise<SendResult> {
    const call = prepareInfobipRequest(options, request, deliveryUrl());
    let body: string;
    let logText: string;
    try {
      ({ body, logText } = await client.call({ ...call, signal: request.signal }));
    } catch (error) {
      throw error instanceof GatewayError ? withInfobipReason(error, call.url) : error;
    }
    return readSendAnswer(body, logText, request, (text) => client.redact(text));
  };
}

/**
 * The outcome of a 2xx answer. A destination the answer does not name (or an answer that is not
 * JSON) is taken as sent under the id we gave it: Infobip accepted the request, and its reports
 * carry that id, so they still find the transmission; sending again could deliver twice.
 */
export function readSendAnswer(body: string, logText: string, { id, text, identities }: SendRequest, redact: (text: string) => string): SendResult {
  const ours = new Map(identities.map((identity) => [destinationMessageId(id, identity), identity]));
  const entries = answeredDestinations(body);
  const byIdentity = new Map<string, AnsweredDestination>();
  entries.forEach((entry, i) => {
    const identity = matchIdentity(entry, i, entries.length, identities, ours);
    if (identity !== undefined && !byIdentity.has(identity)) byIdentity.set(identity, entry);
  });
  const fallbackSegments = smsSize(text).segments;
  const externalIds: Record<string, string> = {};
  const segments: Record<string, number> = {};
  const failed: { identity: string; refusal: Refusal; reason: string }[] = [];
  for (const identity of identities) {
    const entry = byIdentity.get(identity);
    const status = entry?.status;
    const refusal = status && isFailed(status) && !isDuplicateOfOurs(status) ? refusalOf(status) : undefined;
    if (refusal) {
      failed.push({ identity, refusal, reason: redact(statusText(status!)) });
      continue;
    }
    externalIds[identity] = nonEmptyText(entry?.messageId) ?? destinationMessageId(id, identity);
    const count = entry?.details?.messageCount;
    segments[identity] = Number.isInteger(count) && (count as number) > 0 ? (count as number) : fallbackSegments;
  }
  if (failed.length === 0) return { answer: logText, externalIds, segments };
  const optedOut = failed.filter((f) => f.refusal === "opted-out").map((f) => f.identity);
  const permanent = failed.filter((f) => f.refusal === "permanent").map((f) => f.identity);
  const first = failed[0];
  throw new MessageSendingError(
    failed.length === 1
      ? `Infobip rejected ${first.identity}: ${first.reason}`
      : `Infobip rejected ${failed.length} of ${identities.length} recipients, ${first.identity} first: ${first.reason}`,
    {
      failedIdentities: failed.map((f) => f.identity),
      externalIds,
      optedOutIdentities: optedOut,
      permanentIdentities: permanent,
      identityErrors: Object.fromEntries(failed.map((f) => [f.identity, f.reason])),
      retryable: failed.some((f) => f.refusal === "retry"),
      code: optedOut.length === failed.length ? "RECIPIENT_OPTED_OUT" : "GATEWAY_REJECTED",
    },
  );
}

function answeredDestinations(body: string): AnsweredDestination[] {
  try {
    const parsed: unknown = JSON.parse(body);
    const messages = isObject(parsed) ? parsed.messages : undefined;
    return Array.isArray(messages) ? messages.filter(isObject) : [];
  } catch {
    return [];
  }
}

/**
 * Which identity an answer entry is about: by the id we gave it (Infobip answers with it), else by
 * its destination (as we sent it, or the same digits without a `+`), else by its place when the
 * answer has one entry per destination (Infobip keeps the request's order).
 */
function matchIdentity(
  entry: AnsweredDestination,
  index: number,
  count: number,
  identities: readonly string[],
  ours: ReadonlyMap<string, string>,
): string | undefined {
  const byId = ours.get(nonEmptyText(entry.messageId) ?? "");
  if (byId !== undefined) return byId;
  const destination = nonEmptyText(entry.destination);
  if (destination !== undefined) {
    const digits = destination.replace(/^\+/, "");
    const found = identities.find((identity) => identity === destination || identity.replace(/^\+/, "") === digits);
    if (found !== undefined) return found;
  }
  return count === identities.length ? identities[index] : undefined;
}

function isFailed(status: NonNullable<AnsweredDestination["status"]>): boolean {
  return typeof status.groupName === "string" && FAILED_GROUPS.has(status.groupName.toUpperCase());
}

function isDuplicateOfOurs(status: NonNullable<AnsweredDestination["status"]>): boolean {
  return status.name === DUPLICATE_ID.name || status.id === DUPLICATE_ID.id;
}

function refusalOf(status: NonNullable<AnsweredDestination["status"]>): Refusal {
  const byName = typeof status.name === "string" ? REFUSALS[status.name] : undefined;
  return byName ?? (typeof status.id === "number" ? REFUSALS_BY_ID[status.id] : undefined) ?? "permanent";
}

/** `REJECTED_DND (10): Message has been received and rejected …`: Infobip's words for a refused destination. */
function statusText(status: NonNullable<AnsweredDestination["status"]>): string {
  const name = nonEmptyText(status.name) ?? nonEmptyText(status.groupName) ?? "REJECTED";
  const id = typeof status.id === "number" ? ` (${status.id})` : "";
  const description = nonEmptyText(status.description);
  const action = nonEmptyText(status.action);
  return `${name}${id}${description ? `: ${description}` : ""}${action ? `; ${action}` : ""}`;
}

/**
 * The gateway client's error with Infobip's reason up front: the v3 error body
 * `{ errorCode, description, action, violations }` or the older
 * `{ requestError: { serviceException: { messageId, text, validationErrors } } }`. It is read from
 * the client's redacted answer, so no secret can come back in it; same failure, same retry rule.
 */
function withInfobipReason(error: GatewayError, url: string): GatewayError {
  const reason = error.answer ? infobipErrorText(error.answer) : undefined;
  if (reason === undefined || error.status === null) return error;
  const next =
    error.failure === "credentials"
      ? "check apiKey and baseUrl (the key belongs to that account)"
      : error.retryable
        ? "will retry"
        : "check the backend's options and the message";
  return new GatewayError(`Infobip answered ${error.status} to POST ${new URL(url).origin}${SEND_PATH}: ${reason}; ${next}`, {
    failure: error.failure,
    status: error.status,
    answer: error.answer ?? undefined,
    retryAfterMs: error.retryAfterMs,
    cause: error,
  });
}

/** `E400: Request cannot be processed. (messages[0].destinations[0].to: size must be between 1 and 64)`, or undefined for a body of another shape. */
export function infobipErrorText(answer: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const code = nonEmptyText(parsed.errorCode);
  const description = nonEmptyText(parsed.description);
  if (code !== undefined || description !== undefined) {
    const violations = (Array.isArray(parsed.violations) ? parsed.violations : [])
      .filter(isObject)
      .map((v) => [nonEmptyText(v.property), nonEmptyText(v.violation)].filter(Boolean).join(": "))
      .filter(Boolean);
    const action = nonEmptyText(parsed.action);
    return [[code, description].filter(Boolean).join(": "), violations.length > 0 ? `(${violations.join("; ")})` : "", action ? `- ${action}` : ""]
      .filter(Boolean)
      .join(" ");
  }
  const exception = isObject(parsed.requestError) ? parsed.requestError.serviceException : undefined;
  if (!isObject(exception)) return undefined;
  const legacy = [nonEmptyText(exception.messageId), nonEmptyText(exception.text)].filter(Boolean).join(": ");
  const validation = isObject(exception.validationErrors)
    ? Object.entries(exception.validationErrors).map(([field, problems]) => `${field}: ${Array.isArray(problems) ? problems.join(", ") : String(problems)}`)
    : [];
  const text = [legacy, validation.length > 0 ? `(${validation.join("; ")})` : ""].filter(Boolean).join(" ");
  return text === "" ? undefined : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function nonEmptyText(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}
