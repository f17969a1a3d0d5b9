import type { ErrorCode } from "../../error-codes.ts";
import { smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { GatewayError, type GatewayCall, type GatewayClient } from "../gateway-client.ts";
import { jsonObject, sendToEach, type RecipientOutcome } from "../per-recipient.ts";

export interface TelerivetSendOptions {
  apiKey: string;
  projectId: string;
  routeId: string | null;
  apiUrl: string;
  /** Where Telerivet posts each message's status changes, when the server's public URL is known. */
  statusUrl: string | undefined;
  /** Sent as `status_secret` with `statusUrl`: Telerivet posts it back as `secret`. */
  statusSecret: string;
  maxConcurrency: number;
  /** The deadline of one call. */
  timeoutMs: number;
}

/**
 * Telerivet's error codes (`{"error":{"code","message","param"}}`) that mean the recipient opted
 * out. UNVERIFIED: Telerivet documents the contact flag `send_blocked` ("Telerivet is blocked
 * from sending messages to this contact", set when the contact texts STOP or is blocked in the
 * web app), but not the error code of a send to such a contact; we assume the code is named
 * after the flag. Any other code in a 4xx answer (`invalid_param`, such as an invalid `to_number`,
 * and `not_found`, a wrong project or route) is permanent; 429 and 5xx are tried again.
 */
export const OPTED_OUT_CODES: ReadonlySet<string> = new Set(["send_blocked"]);

/** Statuses a send's answer can already carry that mean Telerivet will not send it. */
const FAILED_AT_ONCE = new Set(["failed", "not_delivered", "cancelled"]);

/**
 * The call that sends one message to one recipient: `POST {apiUrl}/v1/projects/{projectId}/messages/send`
 * with HTTP Basic (the API key as the user name, an empty password) and a JSON body, as the SDK
 * sends it. `message_type` is left out, so the route's default text type is used.
 */
export function prepareTelerivetRequest(options: TelerivetSendOptions, text: string, identity: string): GatewayCall {
  const body: Record<string, string> = { to_number: identity, content: text };
  if (options.routeId) body.route_id = options.routeId;
  if (options.statusUrl) {
    body.status_url = options.statusUrl;
    body.status_secret = options.statusSecret;
  }
  return {
    method: "POST",
    url: `${options.apiUrl.replace(/\/+$/, "")}/v1/projects/${encodeURIComponent(options.projectId)}/messages/send`,
    headers: {
      authorization: `Basic ${Buffer.from(`${options.apiKey}:`, "utf8").toString("base64")}`,
      "content-type": "application/json",
      accept: "application/json",
    },
    body: JSON.stringify(body),
  };
}

type Sent = { identity: string; id: string; segments: number; logText: string };
type Failed = { identity: string; reason: string; retryable: boolean; optedOut: boolean; code: ErrorCode };

/**
 * Sends to each identity (Telerivet's `messages/send` takes one recipient), at most
 * `maxConcurrency` at once. Each answer is the Message: its `id` is the recipient's gateway id,
 * `num_parts` (given "if known") its segment count. A partial failure names the failed recipients,
 * each with Telerivet's own reason, and gives the ids of the sent ones.
 */
export function createTelerivetSender(options: TelerivetSendOptions, client: GatewayClient) {
  return function send({ text, identities, signal, deadline }: SendRequest): Promise<SendResult> {
    const limits = { concurrency: options.maxConcurrency, callTimeoutMs: options.timeoutMs, deadline, signal };
    return sendToEach("Telerivet", identities, limits, async (identity): Promise<RecipientOutcome> => {
      let outcome: Sent | Failed;
      try {
        const answer = await client.call({ ...prepareTelerivetRequest(options, text, identity), signal });
        outcome = readAnswer(identity, text, answer.body, answer.logText, client);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        outcome = refusal(identity, error);
      }
      if ("id" in outcome) return { sent: true, externalId: outcome.id, segments: outcome.segments, answer: outcome.logText };
      return { sent: false, kind: outcome.optedOut ? "opted-out" : outcome.retryable ? "retry" : "permanent", reason: outcome.reason, code: outcome.code };
    });
  };
}

/**
 * A 2xx answer: the Message Telerivet created. The SDK takes any answer with an `error` object as
 * a refusal, and so do we. An answer without an id, or a message that already failed, is a
 * permanent failure for that recipient: Telerivet may have taken it, and sending it again could
 * send it twice.
 */
function readAnswer(identity: string, text: string, body: string, logText: string, client: GatewayClient): Sent | Failed {
  const message = jsonObject(body);
  const error = telerivetError(message);
  if (error) return codeRefusal(identity, error, undefined, (said) => client.redact(said));
  const id = typeof message?.id === "string" && message.id !== "" ? message.id : undefined;
  if (!id) return { identity, reason: `Telerivet answered without a message id: ${logText}`, retryable: false, optedOut: false, code: "GATEWAY_REJECTED" };
  const status = typeof message?.status === "string" ? message.status : "";
  if (FAILED_AT_ONCE.has(status)) {
    const why = typeof message?.error_message === "string" && message.error_message !== "" ? `: ${client.redact(message.error_message)}` : "";
    return {
      identity,
      reason: `Telerivet took the message as ${id} but reports it ${status}${why}`,
      retryable: false,
      optedOut: false,
      code: "GATEWAY_REJECTED",
    };
  }
  const parts = message?.num_parts;
  const segments = typeof parts === "number" && Number.isInteger(parts) && parts > 0 ? parts : smsSize(text).segments;
  return { identity, id, segments, logText };
}

/**
 * A call that failed. An opted-out code counts whatever the HTTP status it came with; any other
 * Telerivet code decides a refusal (another 4xx). 401 and 403 (the API key), 429, 5xx and no answer
 * keep the gateway client's classification, whose message already quotes Telerivet's answer.
 */
function refusal(identity: string, error: GatewayError): Failed {
  const telerivet = telerivetError(error.answer === null ? undefined : jsonObject(error.answer));
  // The client's answer text is redacted already.
  const asIs = (text: string) => text;
  if (telerivet && (OPTED_OUT_CODES.has(telerivet.code) || error.failure === "rejected")) return codeRefusal(identity, telerivet, error.status, asIs);
  return { identity, reason: error.message, retryable: error.retryable, optedOut: false, code: error.code };
}

type TelerivetErrorBody = { code: string; message: string; param: string | undefined };

function codeRefusal(identity: string, error: TelerivetErrorBody, status: number | null | undefined, redact: (text: string) => string): Failed {
  const said = `Telerivet error ${redact(describe(error))}${status ? ` (HTTP ${status})` : ""}`;
  if (OPTED_OUT_CODES.has(error.code)) return { identity, reason: said, retryable: false, optedOut: true, code: "RECIPIENT_OPTED_OUT" };
  const next = error.code === "not_found" ? "check projectId and routeId" : "check the number and the backend's options";
  return { identity, reason: `${said}; ${next}`, retryable: false, optedOut: false, code: "GATEWAY_REJECTED" };
}

function describe(error: TelerivetErrorBody): string {
  return `${error.code}${error.param ? ` (${error.param})` : ""}: ${error.message || "no message"}`;
}

function telerivetError(body: Record<string, unknown> | undefined): TelerivetErrorBody | undefined {
  const error = body?.error;
  if (error === null || typeof error !== "object" || Array.isArray(error)) return undefined;
  const { code, message, param } = error as Record<string, unknown>;
  return {
    code: typeof code === "string" && code !== "" ? code : "unknown",
    message: typeof message === "string" ? message : "",
    param: typeof param === "string" && param !== "" ? param : undefined,
  };
}
