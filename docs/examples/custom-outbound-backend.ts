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

  override async send({ id, text, identities, context }: SendRequest): Promise<void> {
    const response = await fetch(this.config.url, {
      method: "POST",
      headers: { authorization: `Bearer ${this.config.token}`, "content-type": "application/json" },
      body: JSON.stringify({ reference: id, inReplyTo: context.inResponseTo ?? null, to: identities, text }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) {
      // An overloaded gateway may take the message later; one that refused the request never will.
      const retryable = response.status >= 500 || response.status === 429;
      throw new MessageSendingError(`gateway answered HTTP ${response.status}`, { retryable });
    }
    const { rejected = [] } = (await response.json()) as { rejected?: string[] };
    if (rejected.length > 0) {
      throw new MessageSendingError(`gateway rejected ${rejected.join(", ")}`, { failedIdentities: rejected, retryable: false });
    }
  }
}
