import { Agent, request } from "undici";
import { errorText, MessageSendingError } from "../errors.ts";

export interface GatewayRequest {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface GatewayAnswer {
  status: number;
  body: string;
}

/** One keep-alive connection pool per backend; gateways are called again and again. */
export function gatewayAgent(connections = 32): Agent {
  return new Agent({ connections, keepAliveTimeout: 30_000 });
}

/**
 * Calls a gateway and classifies the outcome: 2xx resolves; 429, 5xx, timeouts and connection
 * errors throw a retryable `MessageSendingError`; other answers throw a permanent one.
 * `redact` removes secrets from anything that ends up in the error.
 */
export async function callGateway(agent: Agent, call: GatewayRequest, redact: (text: string) => string = (t) => t): Promise<GatewayAnswer> {
  let status: number;
  let body: string;
  try {
    const response = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      dispatcher: agent,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    });
    status = response.statusCode;
    body = await response.body.text();
  } catch (error) {
    const reason = errorText(error);
    throw new MessageSendingError(redact(`gateway unreachable (${call.method} ${call.url}): ${reason}; will retry`), {
      retryable: true,
      code: "GATEWAY_UNREACHABLE",
    });
  }
  if (status >= 200 && status < 300) return { status, body };
  const retryable = status === 429 || status >= 500;
  const answer = body.length > 200 ? `${body.slice(0, 200)}…` : body;
  throw new MessageSendingError(
    redact(`gateway answered ${status} to ${call.method} ${call.url}: ${answer.trim()}${retryable ? "; will retry" : "; check the backend's options"}`),
    { retryable, code: retryable ? "GATEWAY_UNAVAILABLE" : "GATEWAY_REJECTED" },
  );
}

/** Replaces each secret value, raw and URL-encoded, with `***`. */
export function secretRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const values = secrets
    .filter((s): s is string => typeof s === "string" && s.length > 0)
    .flatMap((s) => [s, encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2)]);
  const unique = [...new Set(values)].sort((a, b) => b.length - a.length);
  return (text) => unique.reduce((out, secret) => out.split(secret).join("***"), text);
}
