import { createRequire } from "node:module";
import type { LookupFunction } from "node:net";
import type { Agent, Dispatcher } from "undici";
import type { ErrorCode } from "../error-codes.ts";
import { errorText, MessageSendingError } from "../errors.ts";
import { secretRedactor } from "../security/secrets.ts";

// undici is loaded with the first call: a server starts 60 ms sooner, and one that never sends never loads it.
let undici: typeof import("undici") | undefined;
const loadUndici = () => (undici ??= createRequire(import.meta.url)("undici") as typeof import("undici"));

/** An answer is read up to this many bytes; the rest is never read (see GatewayClientOptions). */
export const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024;
/** The part of an answer kept in the attempt log and shown in errors. */
const LOGGED_ANSWER_CHARS = 1_000;

export interface GatewayClientOptions {
  /** The deadline of each call, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Connections kept open to the gateway at most (keep-alive, reused call after call). */
  connections?: number;
  /** Values that must never appear in a stored answer, an error or a log: passwords, tokens, keys. */
  secrets?: Iterable<string | null | undefined>;
  /** Bytes of an answer read at most; a longer answer is cut there and the connection closed. */
  maxAnswerBytes?: number;
  /** What to check when the gateway refuses the credentials (401, 403), e.g. `sendsmsUser and sendsmsPass`. */
  credentialsHint?: string;
  /** Resolves host names when connecting, instead of the system's resolver (webhooks use it to refuse internal addresses). */
  lookup?: LookupFunction;
}

export type GatewayMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface GatewayCall {
  method: GatewayMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Cancels the call early (shutdown); the client's own deadline applies either way. */
  signal?: AbortSignal;
}

export interface GatewayAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The answer's text, at most `maxAnswerBytes` of it, for the backend to read ids from. */
  body: string;
  /** True when the gateway sent more than `maxAnswerBytes`. */
  truncated: boolean;
  /** The answer as it may be stored and shown: secrets redacted, at most 1,000 characters. */
  logText: string;
}

/** What went wrong with a call, as the pipeline needs to know it. */
export type GatewayFailure = "unreachable" | "timeout" | "cancelled" | "rate-limited" | "unavailable" | "credentials" | "rejected";

const FAILURES: Record<GatewayFailure, { code: ErrorCode; retryable: boolean }> = {
  unreachable: { code: "GATEWAY_UNREACHABLE", retryable: true },
  timeout: { code: "GATEWAY_TIMEOUT", retryable: true },
  cancelled: { code: "GATEWAY_CALL_CANCELLED", retryable: true },
  "rate-limited": { code: "GATEWAY_RATE_LIMITED", retryable: true },
  unavailable: { code: "GATEWAY_UNAVAILABLE", retryable: true },
  credentials: { code: "GATEWAY_AUTH_FAILED", retryable: false },
  rejected: { code: "GATEWAY_REJECTED", retryable: false },
};

/**
 * The one classification of gateway answers: 2xx is success (null); 429 and 5xx, and 408, are
 * worth trying again; 401 and 403 mean our credentials are wrong, which retrying cannot fix; any
 * other answer is a refusal of this request.
 */
export function classifyStatus(status: number): GatewayFailure | null {
  if (status >= 200 && status < 300) return null;
  if (status === 429) return "rate-limited";
  if (status >= 500 || status === 408) return "unavailable";
  if (status === 401 || status === 403) return "credentials";
  return "rejected";
}

/** A gateway call that failed: why, whether trying again may help, and the gateway's answer (redacted). */
export class GatewayError extends MessageSendingError {
  readonly failure: GatewayFailure;
  /** The HTTP status, when the gateway answered. */
  readonly status: number | null;
  /** The gateway's answer, redacted and cut (see GatewayAnswer.logText), when it answered. */
  readonly answer: string | null;
  /** How long the gateway asked us to wait (`Retry-After`), when it did. */
  readonly retryAfterMs: number | null;

  constructor(message: string, init: { failure: GatewayFailure; status?: number; answer?: string; retryAfterMs?: number | null; cause?: unknown }) {
    const { code, retryable } = FAILURES[init.failure];
    super(message, { code, retryable, cause: init.cause });
    this.failure = init.failure;
    this.status = init.status ?? null;
    this.answer = init.answer ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }
}

/**
 * The HTTP client for calling SMS gateways, for shipped and custom backends alike: keep-alive
 * connections, one deadline over the whole call, answers read up to a cap, every failure a
 * `GatewayError` classified the same way, and secrets kept out of everything it returns.
 *
 * Credentials written in a URL (`https://user:pass@host/send`) are sent as HTTP Basic and never
 * shown.
 */
export class GatewayClient {
  private agent?: Agent;
  private closed = false;
  private readonly agentOptions: Agent.Options;
  private readonly timeoutMs: number;
  private readonly maxAnswerBytes: number;
  private readonly credentialsHint: string;
  private readonly secrets: readonly string[];
  private redactor: (text: string) => string;
  /** Credentials learned from calls (URL passwords, Authorization headers): each added to the redactor once. */
  private readonly learned = new Set<string>();

  constructor(options: GatewayClientOptions) {
    this.timeoutMs = options.timeoutMs;
    this.maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    this.credentialsHint = options.credentialsHint ?? "the backend's credentials";
    this.secrets = [...(options.secrets ?? [])].filter((s): s is string => typeof s === "string");
    this.redactor = secretRedactor(this.secrets);
    this.agentOptions = {
      connections: options.connections ?? 32,
      keepAliveTimeout: 30_000,
      connect: { timeout: options.timeoutMs, ...(options.lookup ? { lookup: options.lookup } : {}) },
    };
  }

  /** Removes every secret this client knows of from a text. */
  redact(text: string): string {
    return this.redactor(text);
  }

  /**
   * Makes one call. Resolves with a 2xx answer; throws a `GatewayError` for anything else: no
   * connection, the deadline, or an answer that is not 2xx.
   */
  async call(call: GatewayCall): Promise<GatewayAnswer> {
    const { url, headers } = this.withUrlCredentials(call.url, call.headers);
    this.learnAuthorization(headers);
    const shown = describeTarget(call.method, url);
    // One controller for the deadline and the caller's signal (AbortSignal.any costs far more under load).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const cancel = () => controller.abort();
    if (call.signal?.aborted) cancel();
    else call.signal?.addEventListener("abort", cancel, { once: true });
    const signal = controller.signal;
    let answer: GatewayAnswer;
    try {
      if (this.closed) throw new Error("the backend's client is closed");
      const { request, Agent } = loadUndici();
      this.agent ??= new Agent(this.agentOptions);
      const response = await request(url, {
        method: call.method,
        headers,
        body: call.body,
        dispatcher: this.agent,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      answer = await this.read(response);
    } catch (error) {
      const failure: GatewayFailure = timedOut ? "timeout" : call.signal?.aborted ? "cancelled" : "unreachable";
      const why =
        failure === "timeout"
          ? `no complete answer within ${this.timeoutMs} ms`
          : failure === "cancelled"
            ? "the call was cancelled"
            : this.redact(errorText(error));
      throw new GatewayError(`gateway unreachable (${shown}): ${why}; will retry`, { failure, cause: failure === "unreachable" ? error : undefined });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", cancel);
    }
    const failure = classifyStatus(answer.status);
    if (failure === null) return answer;
    const next =
      failure === "credentials" ? `check ${this.credentialsHint}` : FAILURES[failure].retryable ? "will retry" : "check the backend's options and the message";
    const text = answer.logText === "" ? "" : `: ${answer.logText}`;
    throw new GatewayError(`gateway answered ${answer.status} to ${shown}${text}; ${next}`, {
      failure,
      status: answer.status,
      answer: answer.logText,
      retryAfterMs: retryAfter(answer.headers["retry-after"]),
    });
  }

  /** Closes the kept connections. */
  async close(): Promise<void> {
    this.closed = true;
    await this.agent?.close();
  }

  private async read(response: Dispatcher.ResponseData): Promise<GatewayAnswer> {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (size + chunk.length > this.maxAnswerBytes) {
        chunks.push(chunk.subarray(0, this.maxAnswerBytes - size));
        size = this.maxAnswerBytes;
        truncated = true;
        // Leaving the loop destroys the body: the rest of the answer is never read.
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    const body = Buffer.concat(chunks, size).toString("utf8");
    const redacted = this.redact(body).trim();
    const cut = redacted.length > LOGGED_ANSWER_CHARS || truncated;
    const logText = cut ? `${redacted.slice(0, LOGGED_ANSWER_CHARS)}… (answer cut${truncated ? ` at ${this.maxAnswerBytes} bytes` : ""})` : redacted;
    return { status: response.statusCode, headers: response.headers, body, truncated, logText };
  }

  /** What a call sends as its Authorization (after the scheme) is a secret too: an echoing gateway must not show it. */
  private learnAuthorization(headers: Record<string, string> | undefined): void {
    if (!headers) return;
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === "authorization") this.learn([value.replace(/^\S+\s+/, "")]);
    }
  }

  private learn(secrets: readonly string[]): void {
    const fresh = secrets.filter((secret) => !this.learned.has(secret));
    if (fresh.length === 0) return;
    for (const secret of fresh) this.learned.add(secret);
    this.redactor = secretRedactor([...this.secrets, ...this.learned]);
  }

  /** Moves `user:pass@` out of a URL into an Authorization header (unless the call sets one). */
  private withUrlCredentials(raw: string, headers: Record<string, string> | undefined): { url: string; headers: Record<string, string> | undefined } {
    if (!raw.includes("@")) return { url: raw, headers };
    const url = new URL(raw);
    if (url.username === "" && url.password === "") return { url: raw, headers };
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    const basic = Buffer.from(`${user}:${password}`, "utf8").toString("base64");
    if (password !== "") this.learn([password, basic]);
    url.username = "";
    url.password = "";
    const hasAuthorization = Object.keys(headers ?? {}).some((name) => name.toLowerCase() === "authorization");
    return { url: url.toString(), headers: hasAuthorization ? headers : { ...headers, authorization: `Basic ${basic}` } };
  }
}

/** `POST http://host:port/path`, without credentials or query (where gateways take passwords). */
function describeTarget(method: string, raw: string): string {
  try {
    const url = new URL(raw);
    return `${method} ${url.origin}${url.pathname}`;
  } catch {
    return method;
  }
}

function retryAfter(value: string | string[] | undefined): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
