/**
 * Every error code the framework gives, with what the one who meets it should do next. This is
 * the table docs/errors.md shows; a test keeps the two the same.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: "The configuration is wrong; the message names the file, backend and option, and what was expected. Fix it and start again.",
  STORE_UNAVAILABLE:
    "The database could not be opened or brought up to date at start-up, or the store gave up (its thread kept dying). Check that it runs and that `database` (or `DATABASE_URL`) names it; restart the process.",
  STORE_INTERRUPTED:
    "The store stopped while answering (its thread died and is being restarted): whether the call took effect is unknown. Try again (the server answers 503, which gateways retry); an inbound message sent again with its gateway id is stored once, one without may be stored twice.",
  INPUT_INVALID:
    "A message, identity or gateway id cannot be taken as it is (too long, not valid text, not an identity its backend can send to). The message names the field; fix the request. A gateway gets a 400.",
  HANDLER_INVALID: "A handler class is incomplete (a KeywordHandler without `keyword`, a PatternHandler without `pattern`). Fix the handler.",
  SEND_FAILED: "A backend could not send (a `MessageSendingError` of its own). Tried again with backoff, unless it said `retryable: false`.",
  BACKEND_NOT_CONFIGURED: "A message went to a backend name that is not in `installedBackends`. Install it, or send through one that is. Not retried.",
  BACKEND_CANNOT_SEND: "The backend takes messages in but has nothing to send through (an `http` backend without `sendUrl`). Configure it. Not retried.",
  TEXT_UNENCODABLE: 'The text cannot be written in the backend\'s charset. Use `coding: "auto"` or another charset. Not retried.',
  SEND_TIMEOUT: "The send did not finish within `pipeline.sendTimeoutMs` (or the backend's `pipeline.sendTimeouts`). Tried again with backoff.",
  SEND_CANCELLED: "The send was cut short because its worker was shutting down. Another worker sends it; it is not counted as an attempt.",
  GATEWAY_UNREACHABLE: "No connection to the gateway (refused, reset, DNS). Tried again with backoff; check that the gateway runs if it lasts.",
  GATEWAY_TIMEOUT: "The gateway gave no complete answer within the backend's `timeoutMs`. Tried again with backoff.",
  GATEWAY_CALL_CANCELLED: "The gateway call was cancelled by its caller (the send's deadline, or shutdown). Tried again.",
  GATEWAY_RATE_LIMITED:
    "The gateway answered 429: too many requests. Tried again with backoff; set `pipeline.rateLimits` for the backend to stay under its limit.",
  GATEWAY_UNAVAILABLE: "The gateway answered 5xx or 408. Tried again with backoff.",
  GATEWAY_AUTH_FAILED: "The gateway answered 401 or 403: it refused our credentials. The message names the options to check. Not retried.",
  RECIPIENT_OPTED_OUT:
    "The gateway refused to send to a recipient who opted out of messages from this sender (texted STOP, or is on the operator's do-not-disturb list). Not retried; the recipient has to opt in again (texting START, on most gateways). RapidSMS records the opt-out too: later sends to them end E `opted out` without reaching the gateway.",
  GATEWAY_REJECTED:
    "The gateway refused the request (another 4xx, or a redirect). Check the backend's options and the message (a bad number, say). Not retried.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
