import { z } from "zod";
import { MessageSendingError } from "../../errors.ts";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import { withToken } from "../inbound-token.ts";
import type { BackendView } from "../view.ts";
import { AfricasTalkingInboundView } from "./inbound.ts";
import { createAfricasTalkingSender } from "./outbound.ts";
import { AfricasTalkingStatusView } from "./status.ts";
import { AfricasTalkingUssdView } from "./ussd.ts";

const LIVE_API = "https://api.africastalking.com";
const SANDBOX_API = "https://api.sandbox.africastalking.com";

export const africasTalkingOptionsSchema = z
  .object({
    username: z.string().min(1, "expected your Africa's Talking app's username (sandbox for the sandbox)"),
    apiKey: z.string().min(1, "expected the API key of the app, from Africa's Talking's dashboard"),
    from: z.string().min(1).nullable().default(null),
    /** The API's base; by default the live one, or the sandbox's for username `sandbox`. */
    apiUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL of Africa's Talking's API, such as https://api.africastalking.com" })
      .nullable()
      .default(null),
    inboundToken: z.string().min(16, "an inbound token needs at least 16 characters").nullable().default(null),
    /** Ask Africa's Talking to queue a large send instead of refusing it. */
    enqueue: z.boolean().default(false),
    /** How long one USSD step may take the apps; Africa's Talking stops waiting after a few seconds. */
    ussdDeadlineMs: z.number().int().positive().max(30_000).default(4_000),
    ussdTimeoutText: z.string().min(1).default("Sorry, we could not answer in time. Please try again."),
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
  })
  .strict();
export type AfricasTalkingOptions = z.infer<typeof africasTalkingOptionsSchema>;

/**
 * Africa's Talking: SMS in at `/backend/<name>/`, delivery reports at `/backend/<name>/status/`,
 * USSD sessions at `/backend/<name>/ussd/`, all guarded by `inboundToken` (Africa's Talking signs
 * nothing); SMS out through the bulk messaging API, one call for every recipient.
 */
export class AfricasTalkingBackend extends BackendBase<AfricasTalkingOptions> {
  static override engine = "africastalking";
  static override optionsSchema = africasTalkingOptionsSchema;
  static override secretOptions = ["apiKey", "inboundToken"];
  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    credentialsHint: "username and apiKey",
  });
  private readonly sender = createAfricasTalkingSender(
    { ...this.config, apiUrl: this.config.apiUrl ?? (this.config.username === "sandbox" ? SANDBOX_API : LIVE_API) },
    this.client,
  );

  override configure(options: AfricasTalkingOptions): void {
    if (!options.inboundToken)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" (africastalking) has no inboundToken: anyone who finds /backend/${this.name}/ can post messages, USSD steps and delivery reports as Africa's Talking (it signs nothing); set inboundToken and give Africa's Talking the URLs with ?token=`,
      );
  }

  override async send(request: SendRequest): Promise<SendResult> {
    if (request.context.session) {
      throw new MessageSendingError(
        `a USSD reply can only be the answer to its step's request, and that request was over (the apps took longer than ussdDeadlineMs, or the step was processed again after a failure): not sent`,
        { retryable: false },
      );
    }
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    const views: BackendView[] = [
      new AfricasTalkingInboundView({ port: this.port }),
      new AfricasTalkingStatusView(this.port),
      new AfricasTalkingUssdView(this.port, { deadlineMs: this.config.ussdDeadlineMs, timeoutText: this.config.ussdTimeoutText }),
    ];
    const token = this.config.inboundToken;
    return token ? views.map((view) => withToken(view, token)) : views;
  }
}
