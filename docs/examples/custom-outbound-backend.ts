import { z } from "zod";
import { BackendBase, MessageSendingError, type SendRequest } from "../../src/index.ts";

const jsonGatewayOptions = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    token: z.string().min(1),
  })
  .strict();

type JsonGatewayOptions = z.infer<typeof jsonGatewayOptions>;

/**
 * Sends through a gateway that takes one JSON request per message, `{ reference, to, text }`,
 * and answers `{ "rejected": [...] }` with the numbers it refused.
 */
export class JsonGatewayBackend extends BackendBase<JsonGatewayOptions> {
  static override engine = "json-gateway";
  static override optionsSchema = jsonGatewayOptions;
  static override secretOptions = ["token"];

  // Keep-alive connections, a 10 s deadline, answers read to 64 KiB, the token kept out of errors.
  private readonly client = this.port.gatewayClient({ timeoutMs: 10_000, credentialsHint: "the token option" });

  override async send({ id, text, identities, context, signal }: SendRequest): Promise<void> {
    // A 429 or 5xx answer throws a retryable GatewayError, a 401 or 403 a permanent one that says what to check.
    const answer = await this.client.call({
      method: "POST",
      url: this.config.url,
      headers: { authorization: `Bearer ${this.config.token}`, "content-type": "application/json" },
      body: JSON.stringify({ reference: id, inReplyTo: context.inResponseTo ?? null, to: identities, text }),
      signal,
    });
    const { rejected = [] } = JSON.parse(answer.body) as { rejected?: string[] };
    if (rejected.length > 0) {
      throw new MessageSendingError(`gateway rejected ${rejected.join(", ")}`, { failedIdentities: rejected, retryable: false });
    }
  }

  override close(): Promise<void> {
    return this.client.close();
  }
}
