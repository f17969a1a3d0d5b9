import { z } from "zod";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import { viewUrl } from "../public-url.ts";
import type { BackendView } from "../view.ts";
import { TwilioInboundView } from "./inbound.ts";
import { createTwilioSender } from "./outbound.ts";
import { TwilioStatusView } from "./status.ts";

const secret = z.string().min(1, "expected a non-empty value");

export const twilioOptionsSchema = z
  .object({
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "expected the account SID from Twilio's console: AC and 32 hex digits"),
    authToken: secret,
    /** An API key (SK…) and its secret to call the API with instead of the auth token; webhooks are still signed with the auth token. */
    apiKey: z
      .string()
      .regex(/^SK[0-9a-fA-F]{32}$/, "expected an API key SID: SK and 32 hex digits")
      .nullable()
      .default(null),
    apiSecret: secret.nullable().default(null),
    /** A webhook SharedKey's secret, when the webhooks are signed with one (HMAC-SHA256) rather than the auth token. */
    signingKey: secret.nullable().default(null),
    from: z.string().min(1).nullable().default(null),
    messagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, "expected a Messaging Service SID: MG and 32 hex digits")
      .nullable()
      .default(null),
    apiUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL of Twilio's API, such as https://api.twilio.com" })
      .default("https://api.twilio.com"),
    publicUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL Twilio reaches this server at, such as https://sms.example.org" })
      .nullable()
      .default(null),
    /** Ask for status callbacks at /backend/<name>/status/ (needs a publicUrl). */
    statusCallback: z.boolean().default(true),
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (!options.from && !options.messagingServiceSid)
      ctx.addIssue({ code: "custom", path: ["from"], message: "set from (a Twilio number, +E.164) or messagingServiceSid: Twilio needs a sender" });
    if ((options.apiKey === null) !== (options.apiSecret === null))
      ctx.addIssue({ code: "custom", path: [options.apiKey === null ? "apiKey" : "apiSecret"], message: "set apiKey and apiSecret together, or neither" });
  });
export type TwilioOptions = z.infer<typeof twilioOptionsSchema>;

/**
 * Twilio Programmable Messaging: incoming SMS and MMS at `/backend/<name>/`, status callbacks at
 * `/backend/<name>/status/` (both checked against `X-Twilio-Signature`), outbound through the
 * Messages API, one message per recipient.
 */
export class TwilioBackend extends BackendBase<TwilioOptions> {
  static override engine = "twilio";
  static override optionsSchema = twilioOptionsSchema;
  static override secretOptions = ["authToken", "apiSecret", "signingKey"];
  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    credentialsHint: "accountSid and authToken (or apiKey and apiSecret)",
  });
  private readonly sender = createTwilioSender(
    { ...this.config, statusCallback: this.config.statusCallback ? viewUrl(this.port, "status/") : undefined },
    this.client,
  );

  override configure(options: TwilioOptions): void {
    if (options.statusCallback && !this.port.publicUrl)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" (twilio) has no publicUrl: Twilio is not asked for status callbacks, so its messages stay S; set publicUrl (or the config's) to the base URL Twilio reaches this server at`,
      );
  }

  override send(request: SendRequest): Promise<SendResult> {
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    const key = this.config.signingKey ?? this.config.authToken;
    return [new TwilioInboundView({ port: this.port, key }), new TwilioStatusView(this.port, key)];
  }
}
