import { z } from "zod";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import type { BackendView } from "../view.ts";
import { AndroidSmsGatewayWebhookView } from "./inbound.ts";
import { createAndroidSmsGatewaySender } from "./outbound.ts";

/** The app's cloud relay; the phone's own server is `http://<phone-ip>:8080`. */
export const CLOUD_URL = "https://api.sms-gate.app/3rdparty/v1";

const secret = (what: string) => z.string({ error: `expected ${what}` }).min(1, `expected ${what}`);

export const androidSmsGatewayOptionsSchema = z
  .object({
    baseUrl: z
      .url({
        protocol: /^https?$/,
        error: `expected the http(s) base URL of the app's API: ${CLOUD_URL} (its cloud), your private server's …/3rdparty/v1, or http://<phone-ip>:8080 (the phone's local server)`,
      })
      .transform((url) => url.replace(/\/+$/, ""))
      .default(CLOUD_URL),
    username: secret("the username the app shows (Home tab, under Local server or Cloud server)"),
    password: secret("the password the app shows beside the username"),
    /** The app's key for signing webhooks (Settings → Webhooks → Signing Key). */
    webhookSigningKey: secret("the signing key the app shows").nullable().default(null),
    /** How far a webhook's X-Timestamp may be from this server's clock, either way; the app's docs suggest 5 minutes. */
    freshnessSeconds: z.number().int().positive().max(86_400).default(300),
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
  })
  .strict();

export type AndroidSmsGatewayOptions = z.infer<typeof androidSmsGatewayOptionsSchema>;

/**
 * SMS Gateway for Android (capcom6/android-sms-gateway): a phone with a SIM as the gateway.
 * Outbound through its API (the cloud relay, a private server, or the phone's local server),
 * many recipients a request; inbound SMS and delivery reports come as its webhooks, at
 * `/backend/<name>/` and `/backend/<name>/status/` alike, checked against its signature.
 */
export class AndroidSmsGatewayBackend extends BackendBase<AndroidSmsGatewayOptions> {
  static override engine = "android-sms-gateway";
  static override optionsSchema = androidSmsGatewayOptionsSchema;
  static override secretOptions = ["password", "webhookSigningKey"];
  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    credentialsHint: "username and password (the app's Home tab shows them)",
  });
  private readonly sender = createAndroidSmsGatewaySender(this.config, this.client);

  override configure(options: AndroidSmsGatewayOptions): void {
    if (options.webhookSigningKey === null)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" (android-sms-gateway) has no webhookSigningKey: its webhooks at /backend/${this.name}/ and /backend/${this.name}/status/ are taken unsigned, so anyone who reaches them can inject messages and mark messages delivered or failed; set webhookSigningKey to the key in the app's Settings → Webhooks → Signing Key`,
      );
  }

  override send(request: SendRequest): Promise<SendResult> {
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    const options = { port: this.port, signingKey: this.config.webhookSigningKey, freshnessSeconds: this.config.freshnessSeconds };
    return [new AndroidSmsGatewayWebhookView({ ...options, path: "" }), new AndroidSmsGatewayWebhookView({ ...options, path: "status/" })];
  }
}
