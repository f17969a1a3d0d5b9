/** The bounds the HTTP server puts on every client: sizes, times, counts. */
export interface ServerLimits {
  /** The largest request body read; a larger one is a 413. */
  bodyBytes: number;
  /** A request's headers must arrive within this time, or the connection is closed (408). */
  headersTimeoutMs: number;
  /** A whole request, body included, must arrive within this time (408). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections open at once at most; more are refused at once. */
  maxConnections: number;
  /** Message tester pages open at once at most (each holds an event stream); more get a 503. */
  testerStreams: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  bodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 10_000,
  maxConnections: 10_000,
  testerStreams: 200,
};
