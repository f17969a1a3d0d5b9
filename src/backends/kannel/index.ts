import { z } from "zod";
import { camelCaseKeys } from "../../config/keys.ts";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import type { BackendView } from "../view.ts";
import { OUTBOUND_CHARSETS, outboundCharset } from "./charset.ts";
import { KannelBackendView } from "./inbound.ts";
import { createKannelSender } from "./outbound.ts";
import { KannelDeliveryReportView } from "./status.ts";

export const kannelOptionsSchema = z
  .object({
    sendsmsUrl: z
      .url({ protocol: /^https?$/, error: "expected an http(s) URL such as http://127.0.0.1:13013/cgi-bin/sendsms" })
      .default("http://127.0.0.1:13013/cgi-bin/sendsms"),
    sendsmsParams: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
    charset: z
      .string()
      .transform((name, ctx) => {
        const charset = outboundCharset(name);
        if (charset) return charset;
        ctx.addIssue({ code: "custom", message: `expected one of ${OUTBOUND_CHARSETS.join(", ")}` });
        return z.NEVER;
      })
      .default("UTF-8"),
    coding: z.union([z.literal("auto"), z.literal(0), z.literal(1), z.literal(2)], { error: 'expected "auto", 0, 1 or 2' }).default("auto"),
    encodeErrors: z.enum(["ignore", "replace", "strict"]).default("ignore"),
    deliveryReportUrl: z
      .url({ protocol: /^https?$/, error: "expected this server's base URL, such as http://127.0.0.1:8000" })
      .nullable()
      .default(null),
    dlrMask: z.number().int().min(0).max(31).default(31),
    timeoutMs: z.number().int().positive().default(10_000),
    maxConcurrency: z.number().int().positive().default(16),
    params: z
      .preprocess(
        camelCaseKeys,
        z
          .object({ identityName: z.string().min(1), textName: z.string().min(1), rawName: z.string().min(1), externalIdName: z.string().min(1) })
          .partial()
          .strict(),
      )
      .optional(),
  })
  .strict();

export type KannelOptions = z.infer<typeof kannelOptionsSchema>;

/**
 * Kannel: inbound from the sms-service get-url (GET `/backend/<name>/`), outbound through sendsms,
 * delivery reports at `/backend/<name>/status/`.
 */
export class KannelBackend extends BackendBase<KannelOptions> {
  static override engine = "kannel";
  static override aliases = ["rapidsms.backends.kannel.KannelBackend", "rapidsms.backends.kannel.outgoing.KannelBackend"];
  static override optionsSchema = kannelOptionsSchema;
  static override secretOptions = ["sendsmsParams"];
  // sendsms takes several recipients in `to`, separated by spaces.
  static override identityPattern = /^[^\s\p{Cc}]+$/u;
  static override identityRule = "a number or address without spaces (Kannel's sendsms separates recipients with spaces)";
  private readonly client = this.port.gatewayClient({
    timeoutMs: this.config.timeoutMs,
    connections: this.config.maxConcurrency,
    credentialsHint: "username and password in sendsmsParams",
  });
  private readonly sender = createKannelSender({ backendName: this.name, ...this.config }, this.client);

  override send(request: SendRequest): Promise<SendResult> {
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    return [new KannelBackendView({ port: this.port, kannelParams: this.config.params }), new KannelDeliveryReportView(this.port)];
  }
}
