import { z } from "zod";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import { viewUrl } from "../public-url.ts";
import type { BackendView } from "../view.ts";
import { TelerivetInboundView } from "./inbound.ts";
import { createTelerivetSender } from "./outbound.ts";
import { TelerivetStatusView } from "./status.ts";
import { derivedStatusSecret, secretCheck } from "./webhook.ts";

const secret = z.string().min(1, "expected a non-empty value");
/** Telerivet ids (projects PJ…, routes and phones PN…/RT…) are letters and digits; they go into the API's path. */
const telerivetId = (what: string) => z.string().regex(/^[A-Za-z0-9_-]+$/, `expected ${what}: letters and digits, as Telerivet's API page shows it`);

export const telerivetOptionsSchema = z
  .object({
    apiKey: secret,
    projectId: telerivetId("the project ID, such as PJ2ad2bd7e2c1a9b8f"),
    /** The phone or route to send from; Telerivet's default route of the project when unset. */
    routeId: telerivetId("the route (or phone) ID, such as PNe3e2f4b8c0d1a2b3").nullable().default(null),
    /** The Secret of the Telerivet "Webhook API" service that posts to /backend/<name>/. */
    webhookSecret: secret.nullable().default(null),
    /** The `status_secret` sent with each message; derived from apiKey when unset (see derivedStatusSecret). */
    statusSecret: secret.nullable().default(null),
    apiUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL of Telerivet's API, such as https://api.telerivet.com" })
      .refine((url) => !/\/v1\/*$/.test(url), "give the base URL without /v1 (the backend adds /v1/projects/…), such as https://api.telerivet.com")
      .default("https://api.telerivet.com"),
    publicUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL Telerivet reaches this server at, such as https://sms.example.org" })
      .nullable()
      .default(null),
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
  })
  .strict();

export type TelerivetOptions = z.infer<typeof telerivetOptionsSchema>;

/**
 * Telerivet (REST API v1): incoming messages from a "Webhook API" service at `/backend/<name>/`,
 * status callbacks at `/backend/<name>/status/` (both form POSTs carrying a shared `secret`),
 * outbound through `messages/send`, one message per recipient.
 */
export class TelerivetBackend extends BackendBase<TelerivetOptions> {
  static override engine = "telerivet";
  static override optionsSchema = telerivetOptionsSchema;
  static override secretOptions = ["apiKey", "webhookSecret", "statusSecret"];
  private readonly statusSecret = this.config.statusSecret ?? derivedStatusSecret(this.config.apiKey, this.name);
  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    // A derived status secret is no option, so the client learns it here.
    secrets: [this.statusSecret],
    credentialsHint: "apiKey (an API key of the Telerivet account that owns projectId)",
  });
  private readonly sender = createTelerivetSender({ ...this.config, statusUrl: viewUrl(this.port, "status/"), statusSecret: this.statusSecret }, this.client);

  override configure(options: TelerivetOptions): void {
    if (!options.webhookSecret)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" (telerivet) has no webhookSecret: anyone who reaches /backend/${this.name}/ can post messages as any number; set webhookSecret to the Secret of the project's Webhook API service in Telerivet`,
      );
    if (!this.port.publicUrl)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" (telerivet) has no publicUrl: Telerivet is given no status_url, so its messages stay S; set publicUrl (or the config's) to the base URL Telerivet reaches this server at`,
      );
  }

  override send(request: SendRequest): Promise<SendResult> {
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    const webhookSecrets = this.config.webhookSecret ? [this.config.webhookSecret] : [];
    const statusCheck = secretCheck(
      [this.statusSecret, ...webhookSecrets],
      "Telerivet posts back the status_secret this backend sends with each message (statusSecret, else one derived from apiKey), or a webhook service's secret (webhookSecret)",
    );
    const webhookCheck = secretCheck(webhookSecrets, "set the Secret of the Telerivet Webhook API service and the backend's webhookSecret to the same value");
    return [new TelerivetInboundView({ port: this.port, webhookCheck, statusCheck }), new TelerivetStatusView(this.port, statusCheck)];
  }
}
