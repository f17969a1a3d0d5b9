import type { ErrorCode } from "../../error-codes.ts";
import { errorText, MessageSendingError } from "../../errors.ts";
import { smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import type { GatewayCall, GatewayClient } from "../gateway-client.ts";
import { sendToEach, type RecipientOutcome } from "../per-recipient.ts";

export interface VonageSendOptions {
  apiKey: string;
  apiSecret: string;
  from: string;
  apiUrl: string;
  /** Requests in flight at once for one message's recipients. */
  maxConcurrency: number;
  /** The deadline of one call. */
  timeoutMs: number;
}

/** What one message asks of the SMS API besides its text and recipient. */
export interface VonageMessage {
  /** The recipient as RapidSMS knows it; a leading `+` is dropped, as the API takes digits only. */
  identity: string;
  text: string;
  /** Our message id, echoed in the delivery receipts (at most 40 characters). */
  clientRef: string;
  /** Where the delivery receipts go (`/backend/<name>/status/`), when this server knows its public URL. */
  callback?: string;
}

/** The API's `to` and `from`: a number without its leading `+` (an alphanumeric sender stays as it is). */
export function vonageNumber(value: string): string {
  return /^\+\d+$/.test(value) ? value.slice(1) : value;
}

/**
 * `POST {apiUrl}/sms/json` for one recipient, form-encoded with `api_key` and `api_secret`, as
 * the API reference specifies it (the official SDK sends the same fields as JSON with HTTP Basic
 * instead; both are taken, see docs/gateways/vonage.md). `type=unicode` when the text does not
 * fit GSM-7, so that Vonage sends it as UCS-2 instead of replacing characters; a receipt asked for
 * each message.
 */
export function prepareVonageRequest(options: VonageSendOptions, message: VonageMessage): GatewayCall {
  const fields: Record<string, string> = {
    api_key: options.apiKey,
    api_secret: options.apiSecret,
    from: vonageNumber(options.from),
    to: vonageNumber(message.identity),
    text: message.text,
  };
  if (smsSize(message.text).encoding === "UCS-2") fields.type = "unicode";
  fields["status-report-req"] = "true";
  if (message.callback) fields.callback = message.callback;
  if (message.clientRef.length <= 40) fields["client-ref"] = message.clientRef;
  return {
    method: "POST",
    url: `${options.apiUrl.replace(/\/+$/, "")}/sms/json`,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

/** How a `messages[].status` is handled: sent again later, never (the recipient, the message, or our config), or an opt-out. */
type StatusKind = "retry" | "permanent" | "opted-out";

interface StatusRule {
  meaning: string;
  kind: StatusKind;
  /** What to do about it, for the attempt log. */
  next: string;
  code: ErrorCode;
}

const retry = (meaning: string, next = "will retry", code: ErrorCode = "GATEWAY_UNAVAILABLE"): StatusRule => ({ meaning, kind: "retry", next, code });
const permanent = (meaning: string, next: string, code: ErrorCode = "GATEWAY_REJECTED"): StatusRule => ({ meaning, kind: "permanent", next, code });

/** The SMS API's `status` codes (its reference's x-errors), and what each means for the message. */
export const VONAGE_STATUSES: Readonly<Record<string, StatusRule>> = {
  "1": retry("Throttled", "will retry; set pipeline.rateLimits for the backend to stay under the account's throughput", "GATEWAY_RATE_LIMITED"),
  "2": permanent("Missing parameters", "not retried: check from and the message"),
  "3": permanent("Invalid parameters", "not retried: check the number (digits, 7 to 15) and from"),
  "4": permanent("Invalid credentials", "not retried: check apiKey and apiSecret", "GATEWAY_AUTH_FAILED"),
  "5": retry("Internal error"),
  "6": permanent("Invalid message", "not retried: Vonage could not route it (an unrecognised number prefix?)"),
  "7": { meaning: "Number barred", kind: "opted-out", next: "not retried: the number is barred from receiving messages", code: "RECIPIENT_OPTED_OUT" },
  "8": permanent("Partner account barred", "not retried: the Vonage account is suspended; contact Vonage", "GATEWAY_AUTH_FAILED"),
  "9": retry("Partner quota violation", "will retry; top up the Vonage account", "SEND_FAILED"),
  "10": retry("Too many existing binds", "will retry", "GATEWAY_RATE_LIMITED"),
  "11": permanent("Account not enabled for HTTP", "not retried: the Vonage account is not provisioned for the SMS API"),
  "12": permanent("Message too long", "not retried: send a shorter text"),
  "14": permanent("Invalid signature", "not retried: the account requires signed requests; check its settings in the Vonage dashboard", "GATEWAY_AUTH_FAILED"),
  "15": permanent("Invalid sender address", "not retried: check from (a number or sender id the account may use there)"),
  "22": permanent("Invalid network code", "not retried"),
  "23": permanent("Invalid callback URL", "not retried: check publicUrl (the status/ callback is built from it)"),
  "29": permanent("Non-whitelisted destination", "not retried: a demo account sends only to the numbers it whitelists"),
  "32": permanent(
    "Signature and API secret disallowed",
    "not retried: the account requires signed requests; check its settings in the Vonage dashboard",
    "GATEWAY_AUTH_FAILED",
  ),
  "33": permanent("Number de-activated", "not retried: the number is no longer in service"),
};

/** One `messages[]` entry: one SMS part. */
export interface VonagePart {
  status: string;
  messageId?: string;
  errorText?: string;
}

/** The parts of the answer to a send, or undefined when the answer is not the API's JSON. */
export function readVonageParts(body: string): VonagePart[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const messages = (parsed as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  return messages.map((entry: unknown) => {
    const item = (entry ?? {}) as Record<string, unknown>;
    const id = item["message-id"];
    const error = item["error-text"];
    return {
      status: String(item.status ?? ""),
      ...((typeof id === "string" || typeof id === "number") && id !== "" && { messageId: String(id) }),
      ...(typeof error === "string" && error !== "" && { errorText: error }),
    };
  });
}

/** What came of one recipient's request. */
type Outcome = { sent: true; ids: string[]; logText: string } | { sent: false; kind: StatusKind; reason: string; code: ErrorCode; logText?: string };

/**
 * The SMS API takes one recipient per request: one request per identity, in parallel (the
 * client's connections bound how many are in flight). The first part's `message-id` is the
 * recipient's gateway id and the number of parts its segments. Failures are per recipient:
 * retried, permanent, or opted out as VONAGE_STATUSES says, each with Vonage's own text.
 */
export function createVonageSender(options: VonageSendOptions, client: GatewayClient, callback: () => string | undefined) {
  async function sendOne(identity: string, request: SendRequest): Promise<Outcome> {
    const call = prepareVonageRequest(options, { identity, text: request.text, clientRef: request.id, callback: callback() });
    let answer: Awaited<ReturnType<GatewayClient["call"]>>;
    try {
      answer = await client.call({ ...call, signal: request.signal });
    } catch (error) {
      // GatewayError: no connection, a timeout, or an HTTP status that is not 2xx (classified by the client).
      if (error instanceof MessageSendingError) return { sent: false, kind: error.retryable ? "retry" : "permanent", reason: error.message, code: error.code };
      return { sent: false, kind: "retry", reason: client.redact(errorText(error)), code: "SEND_FAILED" };
    }
    const parts = readVonageParts(answer.body);
    if (!parts) {
      // The API may have taken it: sending again could deliver it twice.
      return {
        sent: false,
        kind: "permanent",
        reason: `Vonage's answer holds no messages: ${answer.logText || "(empty)"}`,
        code: "SEND_FAILED",
        logText: answer.logText,
      };
    }
    const failed = parts.find((part) => part.status !== "0");
    const ids = parts.flatMap((part) => (part.status === "0" && part.messageId ? [part.messageId] : []));
    if (!failed) {
      if (ids.length < parts.length)
        return {
          sent: false,
          kind: "permanent",
          reason: `Vonage's answer holds no message-id: ${answer.logText}`,
          code: "SEND_FAILED",
          logText: answer.logText,
        };
      return { sent: true, ids, logText: answer.logText };
    }
    const rule = VONAGE_STATUSES[failed.status] ?? permanent(`unknown status`, "not retried");
    // Redacted before it is cut, so that no part of a secret the answer echoed survives the cut.
    const said = client.redact(`status ${failed.status} (${rule.meaning})${failed.errorText ? `: ${failed.errorText}` : ""}`).slice(0, 400);
    if (ids.length > 0) {
      return {
        sent: false,
        kind: "permanent",
        reason: `Vonage sent ${ids.length} of ${parts.length} parts (${ids.join(", ")}), then answered ${said}; not sent again, which would repeat the parts that went`,
        code: rule.code,
        logText: answer.logText,
      };
    }
    return { sent: false, kind: rule.kind, reason: `Vonage answered ${said}; ${rule.next}`, code: rule.code, logText: answer.logText };
  }

  return function send(request: SendRequest): Promise<SendResult> {
    const limits = { concurrency: options.maxConcurrency, callTimeoutMs: options.timeoutMs, deadline: request.deadline, signal: request.signal };
    return sendToEach("Vonage", request.identities, limits, async (identity): Promise<RecipientOutcome> => {
      const outcome = await sendOne(identity, request);
      if (!outcome.sent) return { sent: false, kind: outcome.kind, reason: outcome.reason, code: outcome.code, answer: outcome.logText };
      return { sent: true, externalId: outcome.ids[0], segments: outcome.ids.length, partIds: outcome.ids, answer: outcome.logText };
    });
  };
}
