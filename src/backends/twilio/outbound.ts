import { smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { GatewayError, type GatewayCall, type GatewayClient } from "../gateway-client.ts";
import { jsonObject, sendToEach, type RecipientOutcome } from "../per-recipient.ts";

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
  /** Requests in flight at once for one message's recipients. */
  maxConcurrency: number;
  /** The deadline of one call. */
  timeoutMs: number;
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

/**
 * Sends to each identity (Twilio takes one `To` per message), `maxConcurrency` at once. Twilio's
 * `sid` is each recipient's gateway id and `num_segments` its segment count. A refusal is read
 * from Twilio's error body (`code`, `message`): 21610 is an opted-out recipient, 20429 and 5xx
 * are tried again, other 4xx codes are permanent.
 */
export function createTwilioSender(options: TwilioSendOptions, client: GatewayClient) {
  return function send({ text, identities, signal, deadline }: SendRequest): Promise<SendResult> {
    const limits = { concurrency: options.maxConcurrency, callTimeoutMs: options.timeoutMs, deadline, signal };
    return sendToEach("Twilio", identities, limits, async (identity): Promise<RecipientOutcome> => {
      try {
        const answer = await client.call({ ...prepareTwilioRequest(options, text, identity), signal });
        const message = jsonObject(answer.body);
        const sid = typeof message?.sid === "string" ? message.sid : "";
        if (!sid) return { sent: false, kind: "permanent", reason: `Twilio answered without a message sid: ${answer.logText}`, code: "GATEWAY_REJECTED" };
        const segments = Number(message?.num_segments);
        return { sent: true, externalId: sid, segments: Number.isInteger(segments) && segments > 0 ? segments : smsSize(text).segments, answer: sid };
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        return refusal(error);
      }
    });
  };
}

function refusal(error: GatewayError): RecipientOutcome {
  const body = error.answer ? jsonObject(error.answer) : undefined;
  const code = typeof body?.code === "number" ? body.code : undefined;
  if (code === undefined) return { sent: false, kind: error.retryable ? "retry" : "permanent", reason: error.message, code: error.code };
  const said = `Twilio error ${code}: ${typeof body?.message === "string" ? body.message : "no message"} (HTTP ${error.status})`;
  if (OPTED_OUT.has(code)) return { sent: false, kind: "opted-out", reason: said, code: "RECIPIENT_OPTED_OUT" };
  if (RETRY.has(code) || error.retryable) return { sent: false, kind: "retry", reason: `${said}; will retry`, code: error.code };
  if (CREDENTIALS.has(code) || error.failure === "credentials")
    return { sent: false, kind: "permanent", reason: `${said}; check accountSid and authToken (or apiKey and apiSecret)`, code: "GATEWAY_AUTH_FAILED" };
  return { sent: false, kind: "permanent", reason: said, code: "GATEWAY_REJECTED" };
}
