import { z } from "zod";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import { withToken } from "../inbound-token.ts";
import { viewUrl } from "../public-url.ts";
import type { BackendView } from "../view.ts";
import { InfobipInboundView } from "./inbound.ts";
import { createInfobipSender } from "./outbound.ts";
import { InfobipStatusView } from "./status.ts";

/**
 * The account's base URL as Infobip's web interface shows it (`xxxx.api.infobip.com`, often
 * without a scheme, which then is https, as Infobip's SDK does too), without a trailing slash.
 */
const baseUrl = z
  .string({ error: "expected your account's base URL, such as https://xxxx.api.infobip.com (Infobip's web interface shows it)" })
  .trim()
  .transform((url) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`).replace(/\/+$/, ""))
  .pipe(z.url({ protocol: /^https?$/, error: "expected your account's base URL, such as https://xxxx.api.infobip.com (Infobip's web interface shows it)" }));

export const infobipOptionsSchema = z
  .object({
    baseUrl,
    apiKey: z.string({ error: "expected the API key Infobip's web interface gives (sent as Authorization: App <key>)" }).min(1, "expected a non-empty API key"),
    /** The sender (`sender`): a number or an alphanumeric sender id; Infobip's default sender when unset. */
    from: z.string().min(1, "expected a sender number or sender id, or leave from out").optional(),
    inboundToken: z.string().min(16, "an inbound token needs at least 16 characters").optional(),
    /** This backend's own public base URL (the config's publicUrl otherwise): where delivery reports are asked for. */
    publicUrl: z.url({ protocol: /^https?$/, error: "expected the http(s) URL this server is reached at" }).optional(),
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
  })
  .strict();

export type InfobipOptions = z.infer<typeof infobipOptionsSchema>;

/**
 * Infobip's SMS API v3: one request per message for all its recipients (`POST {baseUrl}/sms/3/messages`),
 * inbound SMS forwarded as JSON to `/backend/<name>/`, delivery reports to `/backend/<name>/status/`.
 * Infobip does not sign these webhooks: both take the backend's `inboundToken` (as `?token=`).
 */
export class InfobipBackend extends BackendBase<InfobipOptions> {
  static override engine = "infobip";
  static override optionsSchema = infobipOptionsSchema;
  static override secretOptions = ["apiKey", "inboundToken"];
  // Infobip's `to` takes at most 64 characters (its OpenAPI `Destination.to`).
  static override identityPattern = /^[^\p{Cc}]{1,64}$/u;
  static override identityRule = "at most 64 characters without control characters (Infobip's limit for a destination)";
  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    credentialsHint: "apiKey and baseUrl (the key belongs to that account)",
  });
  private readonly sender = createInfobipSender(this.config, this.client, () => this.deliveryUrl());

  override configure(options: InfobipOptions): void {
    if (!options.inboundToken)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" (engine infobip) has no inboundToken: Infobip does not sign its webhooks, so anyone who reaches /backend/${this.name}/ and /backend/${this.name}/status/ can inject messages and mark messages delivered or failed; set inboundToken and give Infobip the URLs with ?token=`,
      );
  }

  override send(request: SendRequest): Promise<SendResult> {
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    const views: BackendView[] = [new InfobipInboundView(this.port), new InfobipStatusView(this.port)];
    const token = this.config.inboundToken;
    return token ? views.map((view) => withToken(view, token)) : views;
  }

  /** Where Infobip is asked to send this message's delivery reports: the status view, with the token; none without a public URL. */
  private deliveryUrl(): string | undefined {
    return viewUrl(this.port, "status/", { token: this.config.inboundToken });
  }
}
