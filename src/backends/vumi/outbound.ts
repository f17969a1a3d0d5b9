import type { SendRequest, SendResult } from "../backend.ts";
import type { GatewayCall, GatewayClient } from "../gateway-client.ts";

export interface VumiSendOptions {
  sendsmsUrl: string;
  sendsmsParams: Record<string, unknown>;
  sendsmsUser: string | null;
  sendsmsPass: string | null;
  timeoutMs: number;
  maxConcurrency: number;
}

/**
 * The POST of one message to all its identities (CONTRACTS.md §4.2): `sendsmsParams`, then the
 * content, `to_addr` as a list, our id in `metadata`; `in_reply_to` only when replying to one
 * identity; `from_addr` and `endpoint` when the context carries them.
 */
export function prepareVumiRequest(options: VumiSendOptions, { id, text, identities, context }: SendRequest): GatewayCall {
  const payload: Record<string, unknown> = {
    ...options.sendsmsParams,
    content: text,
    to_addr: [...identities],
    // A reply in a session (USSD) goes on or closes it, as the app said.
    session_event: context.session ? (context.session.end ? "close" : "resume") : null,
    metadata: { rapidsms_msg_id: id },
  };
  if (context.externalId && identities.length === 1) payload.in_reply_to = context.externalId;
  if (context.fromAddr !== undefined) payload.from_addr = context.fromAddr;
  if (context.endpoint !== undefined) payload.endpoint = context.endpoint;
  const headers: Record<string, string> = { "content-type": "application/json" };
  const credentials = basicCredentials(options);
  if (credentials) headers.authorization = `Basic ${credentials}`;
  return { method: "POST", url: options.sendsmsUrl, headers, body: JSON.stringify(payload) };
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
  const id = result === undefined ? idText(property(parsed, "message_id")) : (idText(property(result, "message_id")) ?? idText(property(result, "id")));
  return id === undefined ? undefined : Object.fromEntries(identities.map((identity) => [identity, id]));
}

/**
 * Vumi's send endpoint, through the backend's gateway client. 2xx is sent; 401 and 403
 * (credentials) and other 4xx are permanent; 429, 5xx and connection errors are retried.
 */
export function createVumiSender(options: VumiSendOptions, client: GatewayClient) {
  return async function send(request: SendRequest): Promise<SendResult> {
    const answer = await client.call({ ...prepareVumiRequest(options, request), signal: request.signal });
    const externalIds = gatewayMessageIds(answer.body, request.identities);
    return externalIds ? { answer: answer.logText, externalIds } : { answer: answer.logText };
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
