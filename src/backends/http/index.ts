import { z } from "zod";
import { camelCaseKeys } from "../../config/keys.ts";
import { MessageSendingError } from "../../errors.ts";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import type { BackendView } from "../view.ts";
import { answerIdReader } from "./answer-id.ts";
import { createHttpSender } from "./outbound.ts";
import { HttpStatusView } from "./status.ts";
import { withToken } from "../inbound-token.ts";
import { GenericHttpBackendView } from "./view.ts";

const methodName = z
  .string()
  .transform((m) => m.toLowerCase())
  .pipe(z.enum(["get", "post", "put", "patch", "delete"], { error: "expected one of get, post, put, patch, delete" }));

const isViewClass = (value: unknown): value is typeof GenericHttpBackendView =>
  typeof value === "function" && value.prototype instanceof GenericHttpBackendView;

export const httpOptionsSchema = z
  .object({
    params: z
      .preprocess(
        camelCaseKeys,
        z
          .object({
            identityName: z.string().min(1).optional(),
            textName: z.string().min(1).optional(),
            externalIdName: z.string().min(1).optional(),
          })
          .strict(),
      )
      .optional(),
    methods: z.array(methodName).nonempty().optional(),
    /** A GenericHttpBackendView subclass (from a .ts/.js config) to serve instead of the generic view. */
    view: z.custom<typeof GenericHttpBackendView>(isViewClass, "expected a subclass of GenericHttpBackendView").optional(),
    sendUrl: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    sendMethod: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(["GET", "POST"]))
      .default("POST"),
    sendParams: z.record(z.string(), z.coerce.string()).default({}),
    /** The gateway's names for the recipient, the text and the sender; by default the inbound ones (`params`), and `from`. */
    sendNames: z
      .preprocess(
        camelCaseKeys,
        z.object({ identityName: z.string().min(1).optional(), textName: z.string().min(1).optional(), senderName: z.string().min(1).optional() }).strict(),
      )
      .optional(),
    /** The sender sent as `sendNames.senderName` (a short code, a sender id). */
    sender: z.string().min(1).optional(),
    sendBody: z.enum(["form", "json"], { error: "expected form or json" }).default("form"),
    sendHeaders: z.record(z.string(), z.string()).default({}),
    messageIdPointer: z
      .string()
      .refine((p) => p === "" || p.startsWith("/"), 'expected a JSON pointer such as "/messages/0/id"')
      .optional(),
    messageIdPattern: z.string().refine(isPatternWithGroup, "expected a regular expression with one group around the id, such as ID:(\\w+)").optional(),
    status: z
      .preprocess(
        camelCaseKeys,
        z
          .object({
            idName: z.string().min(1),
            statusName: z.string().min(1),
            detailName: z.string().min(1).optional(),
            statuses: z.record(z.string(), z.enum(["D", "E", "S"], { error: "expected D (delivered), E (failed) or S (on its way)" })).default({}),
            methods: z.array(methodName).nonempty().default(["get", "post"]),
            answer: z.string().default(""),
          })
          .strict(),
      )
      .optional(),
    inboundToken: z.string().min(16, "an inbound token needs at least 16 characters").optional(),
    timeoutMs: z.number().int().positive().default(10_000),
  })
  .strict()
  .refine((o) => o.messageIdPointer === undefined || o.messageIdPattern === undefined, {
    message: "give messageIdPointer or messageIdPattern, not both",
  });

function isPatternWithGroup(pattern: string): boolean {
  try {
    return new RegExp(`${pattern}|`).exec("")!.length > 1;
  } catch {
    return false;
  }
}

export type HttpOptions = z.infer<typeof httpOptionsSchema>;

/**
 * The generic HTTP backend: inbound through `GenericHttpBackendView` (parameter names and methods
 * configurable), outbound by calling `sendUrl` once per identity when one is configured.
 */
export class HttpBackend extends BackendBase<HttpOptions> {
  static override engine = "http";
  static override optionsSchema = httpOptionsSchema;
  static override secretOptions = ["sendParams", "sendHeaders", "inboundToken"];
  private readonly client = this.port.gatewayClient({ timeoutMs: this.config.timeoutMs, credentialsHint: "the credentials in sendParams (or in sendUrl)" });
  private readonly sender = this.config.sendUrl
    ? createHttpSender(
        {
          sendUrl: this.config.sendUrl,
          sendMethod: this.config.sendMethod,
          sendParams: this.config.sendParams,
          identityName: this.config.sendNames?.identityName ?? this.config.params?.identityName ?? "identity",
          textName: this.config.sendNames?.textName ?? this.config.params?.textName ?? "text",
          senderName: this.config.sendNames?.senderName ?? "from",
          sender: this.config.sender,
          body: this.config.sendBody,
          headers: this.config.sendHeaders,
          readId: answerIdReader({ pointer: this.config.messageIdPointer, pattern: this.config.messageIdPattern }),
          timeoutMs: this.config.timeoutMs,
        },
        this.client,
      )
    : undefined;

  override configure(options: HttpOptions): void {
    if (options.status && !options.inboundToken)
      this.port.logger.warn(
        { backend: this.name },
        `backend "${this.name}" takes delivery reports at /backend/${this.name}/status/ without an inboundToken: anyone who reaches it can mark messages delivered or failed; set inboundToken and give the gateway the URL with ?token=`,
      );
  }

  override async send(request: SendRequest): Promise<SendResult> {
    if (!this.sender) {
      throw new MessageSendingError(`backend "${this.name}" (engine http) has no sendUrl: set one in its options to send through it`, {
        retryable: false,
        code: "BACKEND_CANNOT_SEND",
      });
    }
    return this.sender(request);
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  override views(): BackendView[] {
    const View = this.config.view ?? GenericHttpBackendView;
    const views: BackendView[] = [new View({ port: this.port, params: this.config.params, methods: this.config.methods })];
    if (this.config.status) views.push(new HttpStatusView(this.port, this.config.status));
    const token = this.config.inboundToken;
    return token ? views.map((view) => withToken(view, token)) : views;
  }
}
