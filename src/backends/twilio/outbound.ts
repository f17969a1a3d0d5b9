import type { ErrorCode } from "../../error-codes.ts";
import { MessageSendingError } from "../../errors.ts";
import { smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { GatewayError, type GatewayCall, type GatewayClient } from "../gateway-client.ts";

export interface TwilioSendOptions {
  accountSid: string;
  authToken: string;
  apiKey: string | null;
  apiSecret: string | null;
  from: string | null;
  messagingServiceSid: string | null;
  apiUrl: string;
  /** Where Twilio posts this message's status callbacks, when the server's public URL is known. */
  statusCallback: string | undefined;
}

/**
 * What Twilio's error codes (https://www.twilio.com/docs/api/errors) mean for trying again:
 * opted out (the recipient texted STOP), never (a number Twilio cannot send to), or later.
 */
const OPTED_OUT = new Set([21610]);
const RETRY = new Set([20429, 21611, 30001, 30003, 20500, 20503]);
const CREDENTIALS = new Set([20003, 20005, 20404]);

/** The Messages API call for one recipient: form-encoded, Basic auth with the API key (or the account SID and auth token). */
export function prepareTwilioRequest(options: TwilioSendOptions, text: string, identity: string): GatewayCall {
  const form = new URLSearchParams({ To: identity });
  if (options.messagingServiceSid) form.set("MessagingServiceSid", options.messagingServiceSid);
  if (options.from) form.set("From", options.from);
  form.set("Body", text);
  if (options.statusCallback) form.set("StatusCallback", options.statusCallback);
  const user = options.apiKey ?? options.accountSid;
  const password = options.apiKey ? options.apiSecret : options.authToken;
  return {
    method: "POST",
    url: `${options.apiUrl.replace(/\/+$/, "")}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`,
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    },
    body: form.toString(),
  };
}

type Sent = { identity: string; sid: string; segments: number };
type Failed = { identity: string; reason: string; retryable: boolean; optedOut: boolean; code: ErrorCode };

/**
 * Sends to each identity (Twilio takes one `To` per message), all at once. Twilio's `sid` is each
 * recipient's gateway id and `num_segments` its segment count. A refusal is read from Twilio's
 * error body (`code`, `message`): 21610 is an opted-out recipient, 20429 and 5xx are tried again,
 * other 4xx codes are permanent.
 */
export function createTwilioSender(options: TwilioSendOptions, client: GatewayClient) {
  return async function send({ text, identities, signal }: SendRequest): Promise<SendResult> {
    const outcomes = await Promise.all(
      identities.map(async (identity): Promise<Sent | Failed> => {
        try {
          const answer = await client.call({ ...prepareTwilioRequest(options, text, identity), signal });
          const message = parseJson(answer.body);
          const sid = typeof message?.sid === "string" ? message.sid : "";
          if (!sid)
            return {
              identity,
              reason: `Twilio answered without a message sid: ${answer.logText}`,
              retryable: false,
              optedOut: false,
              code: "GATEWAY_REJECTED",
            };
          const segments = Number(message?.num_segments);
          return { identity, sid, segments: Number.isInteger(segments) && segments > 0 ? segments : smsSize(text).segments };
        } catch (error) {
          return failure(identity, error);
        }
      }),
    );
    const sent = outcomes.filter((o): o is Sent => "sid" in o);
    const failed = outcomes.filter((o): o is Failed => !("sid" in o));
    const externalIds = Object.fromEntries(sent.map((o) => [o.identity, o.sid]));
    if (failed.length === 0) {
      return {
        externalIds,
        segments: Object.fromEntries(sent.map((o) => [o.identity, o.segments])),
        answer: sent.map((o) => `${o.identity}: ${o.sid}`).join(", "),
      };
    }
    const message =
      failed.length === 1 && identities.length === 1
        ? `Twilio did not send the message: ${failed[0].reason}`
        : `Twilio did not send to ${failed.map((f) => f.identity).join(", ")}`;
    throw new MessageSendingError(message, {
      failedIdentities: identities.length === 1 ? [] : failed.map((f) => f.identity),
      externalIds,
      identityErrors: Object.fromEntries(failed.map((f) => [f.identity, f.reason])),
      optedOutIdentities: failed.filter((f) => f.optedOut).map((f) => f.identity),
      permanentIdentities: failed.filter((f) => !f.retryable).map((f) => f.identity),
      retryable: failed.some((f) => f.retryable),
      code: failed.length === 1 ? failed[0].code : undefined,
    });
  };
}

function failure(identity: string, error: unknown): Failed {
  if (!(error instanceof GatewayError)) throw error;
  const body = error.answer ? parseJson(error.answer) : undefined;
  const code = typeof body?.code === "number" ? body.code : undefined;
  if (code === undefined) return { identity, reason: error.message, retryable: error.retryable, optedOut: false, code: error.code };
  const said = `Twilio error ${code}: ${typeof body?.message === "string" ? body.message : "no message"} (HTTP ${error.status})`;
  if (OPTED_OUT.has(code)) return { identity, reason: said, retryable: false, optedOut: true, code: "RECIPIENT_OPTED_OUT" };
  if (RETRY.has(code) || error.retryable) return { identity, reason: `${said}; will retry`, retryable: true, optedOut: false, code: error.code };
  if (CREDENTIALS.has(code) || error.failure === "credentials")
    return {
      identity,
      reason: `${said}; check accountSid and authToken (or apiKey and apiSecret)`,
      retryable: false,
      optedOut: false,
      code: "GATEWAY_AUTH_FAILED",
    };
  return { identity, reason: said, retryable: false, optedOut: false, code: "GATEWAY_REJECTED" };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
