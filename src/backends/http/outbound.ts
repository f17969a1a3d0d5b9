import { MessageSendingError } from "../../errors.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import { GatewayError, type GatewayCall, type GatewayClient } from "../gateway-client.ts";

export interface HttpSendOptions {
  sendUrl: string;
  sendMethod: "GET" | "POST";
  sendParams: Record<string, string>;
  identityName: string;
  textName: string;
  timeoutMs: number;
}

/**
 * The generic HTTP gateway call: one request per identity, the identity and text under the same
 * parameter names as inbound, plus `sendParams`; in the query for GET, form-encoded for POST.
 */
export function createHttpSender(options: HttpSendOptions, client: GatewayClient) {
  function prepare(identity: string, text: string): GatewayCall {
    const params = new URLSearchParams({ ...options.sendParams, [options.identityName]: identity, [options.textName]: text });
    if (options.sendMethod === "GET") {
      const url = new URL(options.sendUrl);
      for (const [key, value] of params) url.searchParams.set(key, value);
      return { method: "GET", url: url.toString() };
    }
    return { method: "POST", url: options.sendUrl, headers: { "content-type": "application/x-www-form-urlencoded" }, body: params.toString() };
  }

  return async function send({ text, identities, signal }: SendRequest): Promise<SendResult> {
    const outcomes = await Promise.allSettled(identities.map((identity) => client.call({ ...prepare(identity, text), signal })));
    const failures = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ identity: identities[i], error: outcome.reason as unknown }] : []));
    if (failures.length === 0) {
      const answers = [...new Set(outcomes.map((o) => (o.status === "fulfilled" ? o.value.logText : "")))].filter(Boolean);
      return answers.length > 0 ? { answer: answers.join("\n") } : {};
    }
    const first = failures[0].error;
    const message = first instanceof Error ? first.message : String(first);
    const retryable = failures.some((f) => f.error instanceof MessageSendingError && f.error.retryable);
    if (failures.length === identities.length && first instanceof GatewayError && failures.length === 1) throw first;
    throw new MessageSendingError(
      failures.length === identities.length ? message : `${failures.length} of ${identities.length} identities failed: ${message}`,
      {
        failedIdentities: failures.length === identities.length ? [] : failures.map((f) => f.identity),
        retryable,
        code: first instanceof MessageSendingError ? first.code : undefined,
        cause: first,
      },
    );
  };
}
