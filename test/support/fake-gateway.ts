import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface GatewayRequest {
  at: number;
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/**
 * A local stand-in for an SMS gateway's send endpoint: records every request, answers with
 * `status` (200 by default), and can stop listening to refuse connections.
 */
export class FakeGateway {
  readonly requests: GatewayRequest[] = [];
  status = 200;
  answer = "OK";
  /** When set, what each request is answered (its own message id, say), instead of `answer`. */
  answerFor: ((request: GatewayRequest) => string) | undefined;
  /** When set, the whole answer to each request (status, body, content type): a provider's own answers, request by request. */
  respond: ((request: GatewayRequest) => { status?: number; body: string; contentType?: string; headers?: Record<string, string> }) | undefined;
  /** When set, each request waits for it before it is answered (a slow gateway). */
  hold: ((request: GatewayRequest) => Promise<void>) | undefined;
  port = 0;
  private server: Server | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(port = this.port): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", async () => {
        const recorded = {
          at: Date.now(),
          method: request.method ?? "",
          url: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString(),
        };
        this.requests.push(recorded);
        await this.hold?.(recorded);
        const own = this.respond?.(recorded);
        if (own) {
          response.writeHead(own.status ?? 200, { "content-type": own.contentType ?? "application/json", ...own.headers }).end(own.body);
          return;
        }
        response.writeHead(this.status, { "content-type": "text/plain" }).end(this.answerFor?.(recorded) ?? this.answer);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections: clients get connection refused until `listen()`. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Form or query parameters of each recorded request. */
  params(): URLSearchParams[] {
    return this.requests.map((r) => (r.method === "GET" ? new URL(r.url, "http://x").searchParams : new URLSearchParams(r.body)));
  }
}
