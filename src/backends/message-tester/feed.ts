import type { ServerResponse } from "node:http";

export interface ChangeFeedOptions {
  /** A short text that changes whenever the watched data changes. */
  version: () => Promise<string>;
  /** Streams open at once at most. */
  maxStreams: number;
  /**
   * How often the version is read while a stream is open, for changes made by other processes;
   * this process's own changes are announced at once through `changed()`.
   */
  pollMs: number;
  /** How often an idle stream gets a comment line, so that proxies keep it open. */
  heartbeatMs: number;
}

/**
 * Server-sent events for any number of open pages from one source: one read of the version per
 * change (or per poll, while any page is open), written to every stream. Pages cost a socket
 * each, never a query each.
 */
export class ChangeFeed {
  private readonly options: ChangeFeedOptions;
  private readonly streams = new Set<ServerResponse>();
  private last: string | undefined;
  private reading = false;
  private readAgain = false;
  private poll: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ChangeFeedOptions) {
    this.options = options;
  }

  /** True once `end()` was called: no stream opens any more. */
  get ended(): boolean {
    return this.closed;
  }

  get size(): number {
    return this.streams.size;
  }

  /** Starts streaming to `stream`; false (and nothing written) when the feed is full or has ended. */
  open(stream: ServerResponse): boolean {
    if (this.closed || this.streams.size >= this.options.maxStreams) return false;
    // Connection: close, so that a stream that ends takes its socket with it: a browser would
    // otherwise keep the socket for its next request, and a server that is closing waits for it.
    stream.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "close" });
    this.streams.add(stream);
    stream.on("close", () => this.close(stream));
    if (this.last !== undefined) stream.write(event(this.last));
    if (this.streams.size === 1) {
      this.poll = setInterval(() => this.changed(), this.options.pollMs).unref();
      this.heartbeat = setInterval(() => this.broadcast(": still here\n\n"), this.options.heartbeatMs).unref();
    }
    this.changed();
    return true;
  }

  /** The data may have changed: read the version once and tell every stream if it did. */
  changed(): void {
    if (this.streams.size === 0) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.read();
  }

  /** Ends every stream and opens no more (the server is closing). */
  end(): void {
    this.closed = true;
    for (const stream of this.streams) stream.end();
  }

  private async read(): Promise<void> {
    do {
      this.readAgain = false;
      try {
        const version = await this.options.version();
        if (version !== this.last) {
          this.last = version;
          this.broadcast(event(version));
        }
      } catch {
        // The store is busy or closing: the next change or poll reads again.
      }
    } while (this.readAgain && this.streams.size > 0);
    this.reading = false;
  }

  private broadcast(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }

  private close(stream: ServerResponse): void {
    this.streams.delete(stream);
    if (this.streams.size === 0) {
      clearInterval(this.poll);
      clearInterval(this.heartbeat);
    }
  }
}

function event(data: string): string {
  return `data: ${data}\n\n`;
}
