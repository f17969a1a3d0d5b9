import { MessageSendingError } from "../../errors.ts";
import { callGateway, gatewayAgent, secretRedactor, type GatewayRequest } from "../gateway-http.ts";
import type { SendRequest } from "../backend.ts";

export interface HttpSendOptions {
  sendUrl: string;
  sendMethod: "GET" | "POST";
  sendParams: Record<string, string>;
  identityName: string;
  textName: string;
  timeoutMs: number;
  secrets: readonly string[];
}

/**
 * The generic HTTP gateway call: one request per identity, the identity and text under the same
 * parameter names as inbound, plus `sendParams`; in the query for GET, form-encoded for POST.
 */
export function createHttpSender(options: HttpSendOptions) {
  const agent = gatewayAgent();
  const redact = secretRedactor(options.secrets);

  function prepare(identity: string, text: string): GatewayRequest {
    const params = new URLSearchParams({ ...options.sendParams, [options.identityName]: identity, [options.textName]: text });
    if (options.sendMethod === "GET") {
      const url = new URL(options.sendUrl);
      for (const [key, value] of params) url.searchParams.set(key, value);
      return { method: "GET", url: url.toString(), timeoutMs: options.timeoutMs };
    }
    return {
      method: "POST",
      url: options.sendUrl,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: params.toString(),
      timeoutMs: options.timeoutMs,
    };
  }

  return async function send({ text, identities }: SendRequest): Promise<void> {
    const outcomes = await Promise.allSettled(identities.map((identity) => callGateway(agent, prepare(identity, text), redact)));
    const failures = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ identity: identities[i], error: outcome.reason }] : []));
    if (failures.length === 0) return;
    const first = failures[0].error;
    const retryable = failures.some((f) => f.error instanceof MessageSendingError && f.error.retryable);
    throw new MessageSendingError(
      failures.length === identities.length ? first.message : `${failures.length} of ${identities.length} identities failed: ${first.message}`,
      { failedIdentities: failures.length === identities.length ? [] : failures.map((f) => f.identity), retryable, cause: first },
    );
  };
}
