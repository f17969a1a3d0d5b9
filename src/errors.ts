import type { ErrorCode } from "./error-codes.ts";

/**
 * One error class per kind of failure. Each has a stable `code` (see error-codes.ts and
 * docs/errors.md) and a message that says what the caller should do next.
 */
export class RapidSmsError extends Error {
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Start-up configuration is wrong: fix the config file (the message names the backend and key). */
export class ConfigError extends RapidSmsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "CONFIG_INVALID", options);
  }
}

export interface MessageSendingErrorOptions extends ErrorOptions {
  /** Identities that failed; every other identity of the call is taken as sent. Empty: all failed. */
  failedIdentities?: readonly string[];
  /** A partial failure: the gateway's ids of the messages to the identities that were sent, for their delivery reports. */
  externalIds?: Readonly<Record<string, string>>;
  /** A partial failure: the segments of the messages to the identities that were sent. */
  segments?: Readonly<Record<string, number>>;
  /** A partial failure: each part's gateway id of the messages to the identities that were sent (see SendResult.partIds). */
  partIds?: Readonly<Record<string, readonly string[]>>;
  /** Failed identities that must not be tried again, though others of the call may be (`retryable`): a gateway that took the message but answered unreadably. */
  permanentIdentities?: readonly string[];
  /**
   * Failed identities that opted out of messages from this sender (they texted STOP: Twilio's
   * 21610, Vonage's barred number, Africa's Talking's blacklist): never tried again, recorded
   * with the code RECIPIENT_OPTED_OUT.
   */
  optedOutIdentities?: readonly string[];
  /** The gateway's own reason per failed identity, when it gave one each (bulk APIs): recorded instead of the message. */
  identityErrors?: Readonly<Record<string, string>>;
  /** Whether sending again later may succeed (timeouts, 5xx, 429) or never will (bad request, bad config). */
  retryable?: boolean;
  code?: ErrorCode;
}

/**
 * A backend could not deliver a message to its gateway. Thrown by `BackendBase.send`; with
 * `failedIdentities` it reports a partial failure.
 */
export class MessageSendingError extends RapidSmsError {
  readonly failedIdentities: string[];
  readonly externalIds: Readonly<Record<string, string>>;
  readonly segments: Readonly<Record<string, number>>;
  readonly partIds: Readonly<Record<string, readonly string[]>>;
  readonly permanentIdentities: readonly string[];
  readonly optedOutIdentities: readonly string[];
  readonly identityErrors: Readonly<Record<string, string>>;
  readonly retryable: boolean;

  constructor(message = "An error occurred during sending.", options: MessageSendingErrorOptions = {}) {
    super(message, options.code ?? "SEND_FAILED", options);
    this.failedIdentities = [...(options.failedIdentities ?? [])];
    this.externalIds = { ...options.externalIds };
    this.segments = { ...options.segments };
    this.partIds = { ...options.partIds };
    this.permanentIdentities = [...(options.permanentIdentities ?? [])];
    this.optedOutIdentities = [...(options.optedOutIdentities ?? [])];
    this.identityErrors = { ...options.identityErrors };
    this.retryable = options.retryable ?? true;
  }
}

/** A message was routed to a backend name that is not in `installedBackends`. */
export class NoBackendError extends MessageSendingError {
  constructor(backendName: string) {
    super(`Router is not configured with the ${backendName} backend: add it to installedBackends or send through an installed backend.`, {
      retryable: false,
      code: "BACKEND_NOT_CONFIGURED",
    });
  }
}

/** A send took longer than its backend's deadline (`pipeline.sendTimeoutMs`): it is tried again later. */
export class SendTimeoutError extends MessageSendingError {
  constructor(backend: string, timeoutMs: number) {
    super(`${backend} did not finish the send within ${timeoutMs} ms (pipeline.sendTimeoutMs); will retry`, { retryable: true, code: "SEND_TIMEOUT" });
  }
}

/** A send was cut short because its worker is shutting down; the transmission goes back to the queue. */
export class SendCancelledError extends MessageSendingError {
  constructor() {
    super("the send was cut short: this worker is shutting down; another will send it", { retryable: true, code: "SEND_CANCELLED" });
  }
}

/** The message of anything thrown (for an AggregateError, such as a refused connection to every address of a host, each of its errors). */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") return [...new Set(error.errors.map(errorText))].join("; ");
  return error instanceof Error ? error.message : String(error);
}

/** Input that no store or gateway can take as it is: the field it is in, and why. */
export class InvalidInputError extends RapidSmsError {
  /** The field, as the caller knows it (`identity`, `text`, `externalId`). */
  readonly field: string;
  /** For a list (several identities), which item. */
  readonly index: number | undefined;
  /** Why, without the field. */
  readonly reason: string;

  constructor(field: string, reason: string, index?: number) {
    super(`${field}${index === undefined ? "" : ` ${index}`}: ${reason}`, "INPUT_INVALID");
    this.field = field;
    this.index = index;
    this.reason = reason;
  }
}

/** The database could not be opened or brought up to date at start-up: check that it runs and that the URL names it. */
export class StoreUnavailableError extends RapidSmsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "STORE_UNAVAILABLE", options);
  }
}

/** The store stopped while answering (its thread died, its connection broke): nothing is known to be done; try again. */
export class StoreInterruptedError extends RapidSmsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "STORE_INTERRUPTED", options);
  }
}

/** A handler class is incomplete (no keyword, no pattern): fix the handler's definition. */
export class HandlerError extends RapidSmsError {
  constructor(message: string) {
    super(message, "HANDLER_INVALID");
  }
}
