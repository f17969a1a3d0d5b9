import { z } from "zod";
import { camelCaseKeys } from "../../config/keys.ts";
import { MessageSendingError } from "../../errors.ts";
import { BackendBase, type SendRequest, type SendResult } from "../backend.ts";
import type { BackendView } from "../view.ts";
import { createHttpSender } from "./outbound.ts";
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
    timeoutMs: z.number().int().positive().default(10_000),
  })
  .strict();

export type HttpOptions = z.infer<typeof httpOptionsSchema>;

/**
 * The generic HTTP backend: inbound through `GenericHttpBackendView` (parameter names and methods
 * configurable), outbound by calling `sendUrl` once per identity when one is configured.
 */
export class HttpBackend extends BackendBase<HttpOptions> {
  static override engine = "http";
  static override optionsSchema = httpOptionsSchema;
  static override secretOptions = ["sendParams"];
  private readonly client = this.port.gatewayClient({ timeoutMs: this.config.timeoutMs, credentialsHint: "the credentials in sendParams (or in sendUrl)" });
  private readonly sender = this.config.sendUrl
    ? createHttpSender(
        {
          sendUrl: this.config.sendUrl,
          sendMethod: this.config.sendMethod,
          sendParams: this.config.sendParams,
          identityName: this.config.params?.identityName ?? "identity",
          textName: this.config.params?.textName ?? "text",
          timeoutMs: this.config.timeoutMs,
        },
        this.client,
      )
    : undefined;

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
    return [new View({ port: this.port, params: this.config.params, methods: this.config.methods })];
  }
}
