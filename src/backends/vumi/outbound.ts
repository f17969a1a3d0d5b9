import { MessageSendingError } from "../../errors.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { callGateway, gatewayAgent, secretRedactor, type GatewayRequest } from "../gateway-http.ts";

export interface VumiSendOptions {
  sendsmsUrl: string;
  sendsmsParams: Record<string, unknown>;
  sendsmsUser: string | null;
  sendsmsPass: string | null;
  timeoutMs: number;
  maxConcurrency: number;
}

/** The answer kept in the attempt log is cut to this many characters. */
const ANSWER_LIMIT = 200;

/**
 * The POST of one message to all its identities (CONTRACTS.md §4.2): `sendsmsParams`, then the
 * content, `to_addr` as a list, our id in `metadata`; `in_reply_to` only when replying to one
 * identity; `from_addr` and `endpoint` when the context carries them.
 */
export function prepareVumiRequest(options: VumiSendOptions, { id, text, identities, context }: SendRequest): GatewayRequest {
  const payload: Record<string, unknown> = {
    ...options.sendsmsParams,
    content: text,
    to_addr: [...identities],
    session_event: null,
    metadata: { rapidsms_msg_id: id },
  };
  if (context.externalId && identities.length === 1) payload.in_reply_to = context.externalId;
  if (context.fromAddr !== undefined) payload.from_addr = context.fromAddr;
  if (context.endpoint !== undefined) payload.endpoint = context.endpoint;
  const headers: Record<string, string> = { "content-type": "application/json" };
  const credentials = basicCredentials(options);
  if (credentials) headers.authorization = `Basic ${credentials}`;
  return { method: "POST", url: options.sendsmsUrl, headers, body: JSON.stringify(payload), timeoutMs: options.timeoutMs };
}

/**
 * The ids the gateway gave our message, per identity, so that its events can be matched: Vumi's
 * RapidSMS relay answers the list of messages it sent (one per `to_addr`), Vumi's HTTP API the
 * message (`message_id`), Junebug `{ "result": { "message_id" } }` (or `result.id`).
 */
export function gatewayMessageIds(answer: string, identities: readonly string[]): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) {
    const ids: Record<string, string> = {};
    for (const sent of parsed) {
      const to = idText(property(sent, "to_addr"));
      const id = idText(property(sent, "message_id"));
      if (to !== undefined && id !== undefined && identities.includes(to)) ids[to] = id;
    }
    return Object.keys(ids).length > 0 ? ids : undefined;
  }
  const result = property(parsed, "result");
  const id = result === undefined ? idText(property(parsed, "message_id")) : idText(property(result, "message_id")) ?? idText(property(result, "id"));
  return id === undefined ? undefined : Object.fromEntries(identities.map((identity) => [identity, id]));
}

/**
 * Vumi's send endpoint over keep-alive connections. 2xx is sent; 401 and 403 (credentials) and
 * other 4xx are permanent; 429, 5xx and connection errors are retried.
 */
export function createVumiSender(options: VumiSendOptions) {
  const agent = gatewayAgent(options.maxConcurrency);
  const redact = secretRedactor([options.sendsmsPass ?? undefined, basicCredentials(options)]);
  return async function send(request: SendRequest): Promise<SendResult> {
    try {
      const { body } = await callGateway(agent, prepareVumiRequest(options, request), redact);
      const trimmed = body.trim();
      const answer = redact(trimmed.length > ANSWER_LIMIT ? `${trimmed.slice(0, ANSWER_LIMIT)}…` : trimmed);
      const externalIds = gatewayMessageIds(body, request.identities);
      return externalIds ? { answer, externalIds } : { answer };
    } catch (error) {
      if (error instanceof MessageSendingError && / answered 40[13] /.test(error.message)) {
        throw new MessageSendingError(`${error.message.replace(/; check the backend's options$/, "")}: check sendsmsUser and sendsmsPass`, {
          retryable: false,
          code: "GATEWAY_AUTH_FAILED",
        });
      }
      throw error;
    }
  };
}

function basicCredentials({ sendsmsUser, sendsmsPass }: VumiSendOptions): string | undefined {
  return sendsmsUser && sendsmsPass ? Buffer.from(`${sendsmsUser}:${sendsmsPass}`, "utf8").toString("base64") : undefined;
}

function property(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function idText(value: unknown): string | undefined {
  if (typeof value === "number") return String(value);
  return typeof value === "string" && value !== "" ? value : undefined;
}
