import { MessageSendingError } from "../../errors.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { GatewayError, type GatewayCall, type GatewayClient } from "../gateway-client.ts";

export interface HttpSendOptions {
  sendUrl: string;
  sendMethod: "GET" | "POST";
  sendParams: Record<string, string>;
  /** The names the gateway gives the recipient, the text and (when `sender` is set) the sender. */
  identityName: string;
  textName: string;
  senderName: string;
  sender?: string;
  /** How a POST carries its parameters. */
  body: "form" | "json";
  headers: Record<string, string>;
  /** Reads the gateway's message id from its answer; when set, an answer without one is a failed send. */
  readId?: (answer: string) => string | undefined;
  timeoutMs: number;
}

/**
 * The generic HTTP gateway call: one request per identity with its parameters (the recipient,
 * the text, the sender, plus `sendParams`): in the query for GET, form-encoded or JSON for POST.
 * The gateway's message id, when a reader is configured, is kept per recipient for its reports.
 */
export function createHttpSender(options: HttpSendOptions, client: GatewayClient) {
  function prepare(identity: string, text: string): GatewayCall {
    const values: Record<string, string> = { ...options.sendParams, [options.identityName]: identity, [options.textName]: text };
    if (options.sender !== undefined) values[options.senderName] = options.sender;
    if (options.sendMethod === "GET") {
      const url = new URL(options.sendUrl);
      for (const [key, value] of Object.entries(values)) url.searchParams.set(key, value);
      return { method: "GET", url: url.toString(), headers: options.headers };
    }
    if (options.body === "json")
      return { method: "POST", url: options.sendUrl, headers: { ...options.headers, "content-type": "application/json" }, body: JSON.stringify(values) };
    return {
      method: "POST",
      url: options.sendUrl,
      headers: { ...options.headers, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(values).toString(),
    };
  }

  async function sendOne(identity: string, text: string, signal: AbortSignal | undefined): Promise<{ id?: string; logText: string }> {
    const answer = await client.call({ ...prepare(identity, text), signal });
    if (!options.readId) return { logText: answer.logText };
    const id = options.readId(answer.body);
    if (id === undefined) {
      throw new UnreadableAnswer(`the gateway's answer holds no message id where the backend's messageId option looks: ${answer.logText || "(empty)"}`);
    }
    return { id, logText: answer.logText };
  }

  return async function send({ text, identities, signal }: SendRequest): Promise<SendResult> {
    const outcomes = await Promise.allSettled(identities.map((identity) => sendOne(identity, text, signal)));
    const failures = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ identity: identities[i], error: outcome.reason as unknown }] : []));
    // The gateway's id of each message it took, whether or not the others failed.
    const externalIds = Object.fromEntries(
      outcomes.flatMap((o, i) => (o.status === "fulfilled" && o.value.id !== undefined ? [[identities[i], o.value.id] as const] : [])),
    );
    if (failures.length === 0) {
      const answers = [...new Set(outcomes.map((o) => (o.status === "fulfilled" ? o.value.logText : "")))].filter(Boolean);
      return { ...(answers.length > 0 && { answer: answers.join("\n") }), ...(Object.keys(externalIds).length > 0 && { externalIds }) };
    }
    const first = failures[0].error;
    const message = first instanceof Error ? first.message : String(first);
    const retryable = failures.some((f) => f.error instanceof MessageSendingError && f.error.retryable);
    if (failures.length === identities.length && first instanceof GatewayError && failures.length === 1) throw first;
    throw new MessageSendingError(
      failures.length === identities.length ? message : `${failures.length} of ${identities.length} identities failed: ${message}`,
      {
        failedIdentities: failures.length === identities.length ? [] : failures.map((f) => f.identity),
        // The gateway took these, but their answers did not say how it knows them: sending again could deliver twice.
        permanentIdentities: failures.filter((f) => f.error instanceof UnreadableAnswer).map((f) => f.identity),
        externalIds,
        retryable,
        code: first instanceof MessageSendingError ? first.code : undefined,
        cause: first,
      },
    );
  };
}

/** An answer to a send without the message id the backend is configured to read: never retried, since the gateway may have taken it. */
class UnreadableAnswer extends MessageSendingError {
  constructor(message: string) {
    super(message, { retryable: false, code: "SEND_FAILED" });
  }
}
