import { z } from "zod";
import { LIMITS } from "../../messages/limits.ts";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import { withToken } from "../inbound-token.ts";
import { viewUrl } from "../public-url.ts";
import type { BackendView } from "../view.ts";
import { DurableConcat, type AssembledMessage } from "../durable-concat.ts";
import { VonageInboundView } from "./inbound.ts";
import { createVonageSender } from "./outbound.ts";
import { SIGNATURE_METHODS } from "./signature.ts";
import { VonageStatusView } from "./status.ts";
import type { WebhookAuth } from "./webhook.ts";

const required = (what: string) => z.string({ error: `expected ${what}` }).min(1, `expected ${what}`);

export const vonageOptionsSchema = z
  .object({
    apiKey: required("the API key from the Vonage dashboard"),
    apiSecret: required("the API secret from the Vonage dashboard"),
    /** The dashboard's signature secret: every webhook must then carry a valid `sig`. */
    signatureSecret: z.string().min(1, "expected the signature secret from the Vonage dashboard").nullable().default(null),
    signatureMethod: z.enum(SIGNATURE_METHODS, { error: `expected one of ${SIGNATURE_METHODS.join(", ")}` }).default("md5hash"),
    from: required("the number (digits, no +) or sender id messages are sent from"),
    apiUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL of the SMS API, such as https://rest.nexmo.com" })
      .default("https://rest.nexmo.com"),
    publicUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL Vonage reaches this server at, such as https://sms.example.org" })
      .nullable()
      .default(null),
    /** For accounts whose webhooks are not signed: a token Vonage's URLs carry as `?token=`. */
    inboundToken: z.string().min(16, "an inbound token needs at least 16 characters").nullable().default(null),
    /** How far a signed webhook's `timestamp` may be from this server's clock. */
    signatureMaxAgeMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /** How long the first part of a long inbound SMS waits for the others. */
    concatTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000),
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
  })
  .strict();

export type VonageOptions = z.infer<typeof vonageOptionsSchema>;

/**
 * Vonage's SMS API (the legacy one, `rest.nexmo.com`): inbound SMS at `/backend/<name>/`,
 * delivery receipts at `/backend/<name>/status/`, both signed when the account signs webhooks;
 * outbound through `POST {apiUrl}/sms/json`, one request per recipient.
 */
export class VonageBackend extends BackendBase<VonageOptions> {
  static override engine = "vonage";
  static override optionsSchema = vonageOptionsSchema;
  static override secretOptions = ["apiSecret", "signatureSecret", "inboundToken"];
  /** The API's `to`: 7 to 15 digits; a leading `+` is dropped when sending. */
  static override identityPattern = /^\+?[0-9]{7,15}$/;
  static override identityRule = "a phone number of 7 to 15 digits, with or without a leading +";

  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    credentialsHint: "apiKey and apiSecret",
  });
  private readonly sender = createVonageSender(this.config, this.client, () => viewUrl(this.port, "status/", { token: this.config.inboundToken }));
  private readonly concat = new DurableConcat(
    this.port.parts,
    { timeoutMs: this.config.concatTimeoutMs },
    (message) => this.receiveAssembled(message),
    this.port.logger,
  );

  override configure(options: VonageOptions): void {
    if (options.signatureSecret === null && options.inboundToken === null)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" (vonage) has neither signatureSecret nor inboundToken: anyone who reaches /backend/${this.name}/ can write in as any number, and /status/ can mark messages delivered or failed; set signatureSecret (webhook signing, from Vonage support) or inboundToken (and give Vonage the URLs with ?token=)`,
      );
  }

  override send(request: SendRequest): Promise<SendResult> {
    return this.sender(request);
  }

  override async close(): Promise<void> {
    await this.concat.close();
    await this.client.close();
  }

  override views(): BackendView[] {
    const auth: WebhookAuth = {
      signatureSecret: this.config.signatureSecret,
      signatureMethod: this.config.signatureMethod,
      signatureMaxAgeMs: this.config.signatureMaxAgeMs,
    };
    const views: BackendView[] = [new VonageInboundView({ port: this.port, auth, concat: this.concat }), new VonageStatusView({ port: this.port, auth })];
    const token = this.config.inboundToken;
    return token ? views.map((view) => withToken(view, token)) : views;
  }

  private async receiveAssembled(message: AssembledMessage): Promise<void> {
    const [connection] = await this.port.lookupConnections([message.sender]);
    // 255 parts can hold more than a stored message: the rest is cut rather than the whole refused (and resent by Vonage for a day).
    const cut = message.text.length > LIMITS.text;
    // Cut between characters: half an emoji is text no store takes, and the message would never be received.
    const text = cut ? message.text.slice(0, LIMITS.text).replace(/[\uD800-\uDBFF]$/, "") : message.text;
    await this.port.receive(text, connection, { fields: cut ? { ...message.fields, text, "concat-cut": true } : message.fields });
    if (message.missing.length > 0)
      this.port.logger.warn(
        { backend: this.name, missing: message.missing },
        `a concatenated SMS from ${message.sender} was received without part(s) ${message.missing.join(", ")}, which had not come (concatTimeoutMs passed, too many parts were held, or the server stopped)`,
      );
  }
}
