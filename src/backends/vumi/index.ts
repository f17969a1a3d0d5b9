import { z } from "zod";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import type { BackendView } from "../view.ts";
import { inboundGuard } from "./auth.ts";
import { VumiEventView } from "./events.ts";
import { VumiBackendView } from "./inbound.ts";
import { createVumiSender } from "./outbound.ts";

const secret = z.string().min(1, "expected a non-empty value").nullable().default(null);

/** Two options that only make sense together: an issue on the missing one when just one is set. */
function together(first: string, second: string) {
  return (options: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const missing = options[first] === null ? first : options[second] === null ? second : undefined;
    if (missing && (options[first] !== null || options[second] !== null)) {
      ctx.addIssue({ code: "custom", path: [missing], message: `set ${first} and ${second} together, or neither` });
    }
  };
}

export const vumiOptionsSchema = z
  .object({
    sendsmsUrl: z.url({ protocol: /^https?$/, error: "expected the http(s) URL Vumi takes messages at, such as http://127.0.0.1:8080/send" }),
    sendsmsParams: z.record(z.string(), z.unknown()).default({}),
    sendsmsUser: secret,
    sendsmsPass: secret,
    inboundUser: secret,
    inboundPass: secret,
    inboundToken: secret,
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
  })
  .strict()
  .superRefine(together("sendsmsUser", "sendsmsPass"))
  .superRefine(together("inboundUser", "inboundPass"));

export type VumiOptions = z.infer<typeof vumiOptionsSchema>;

/**
 * Vumi: inbound messages POSTed as JSON to `/backend/<name>/`, outbound as JSON to `sendsmsUrl`,
 * events (ack, nack, delivery reports) at `/backend/<name>/events/`.
 */
export class VumiBackend extends BackendBase<VumiOptions> {
  static override engine = "vumi";
  static override aliases = ["rapidsms.backends.vumi.VumiBackend", "rapidsms.backends.vumi.outgoing.VumiBackend"];
  static override optionsSchema = vumiOptionsSchema;
  static override secretOptions = ["sendsmsPass", "inboundPass", "inboundToken"];
  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    credentialsHint: "sendsmsUser and sendsmsPass",
  });
  private readonly sender = createVumiSender(this.config, this.client);

  override send(request: SendRequest): Promise<SendResult> {
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    const guard = inboundGuard(this.config);
    return [new VumiBackendView({ port: this.port, guard }), new VumiEventView({ port: this.port, guard })];
  }
}
