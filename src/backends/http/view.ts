import { InvalidInputError } from "../../errors.ts";
import { parseUrlencoded, UndecodableError } from "../../http/urlencoded.ts";
import type { BackendPort, DeliveryOutcome } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse } from "../view.ts";
import {
  GenericHttpForm,
  NON_FIELD_ERRORS,
  type BaseHttpForm,
  type FieldErrors,
  type FormContext,
  type FormData,
  type GenericHttpParams,
  type IncomingData,
} from "./form.ts";

/** A form class; the view builds it with `formContext()` (the backend name, its port, and what the form needs). */
// biome-ignore lint/suspicious/noExplicitAny: each form class takes the context its view builds for it (see formContext)
export type FormClass = new (context: any) => BaseHttpForm;

export interface HttpViewOptions {
  /** The backend's port: where valid messages go (and its name). */
  port: BackendPort;
  /** Parameter names for the generic form (`identityName`, `textName`). */
  params?: GenericHttpParams;
  /** Allowed HTTP methods, lower case. */
  methods?: readonly string[];
}

/**
 * The inbound view of a backend: checks the method, validates the request's parameters with the
 * form, and hands the message to the backend's port. 200 means accepted (stored), not replied.
 */
export class BaseHttpBackendView implements BackendView {
  readonly path: string = "";
  readonly backendName: string;
  readonly port: BackendPort;
  /** Lower-case HTTP methods this view accepts; any other gets 405. */
  httpMethodNames: readonly string[] = [];
  formClass: FormClass = GenericHttpForm;

  constructor(options: HttpViewOptions) {
    this.backendName = options.port.name;
    this.port = options.port;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const allowed = this.allowedMethods();
    if (!allowed.includes(request.method.toLowerCase())) {
      return {
        ...textResponse(
          405,
          `method ${request.method} not allowed: use ${allowed.map((m) => m.toUpperCase()).join(" or ") || "nothing, this view accepts no method"}`,
        ),
        headers: { allow: allowed.map((m) => m.toUpperCase()).join(", ") },
      };
    }
    const form = this.form();
    let data: FormData;
    try {
      data = this.formData(request);
    } catch (error) {
      // Bytes that are not text in their charset: refused with the field, never stored half-decoded.
      if (error instanceof UndecodableError) return this.formInvalid({ [error.field]: [error.message] });
      throw error;
    }
    const result = form.validate(data);
    if (!result.success) return this.formInvalid(result.errors);
    try {
      await this.accept(await form.getIncomingData(result.data), request);
    } catch (error) {
      // Input that passed the form but that the system cannot take (a form that names no roles).
      if (error instanceof InvalidInputError) return this.formInvalid({ [error.field]: [error.reason] });
      throw error;
    }
    return this.formValid();
  }

  protected allowedMethods(): readonly string[] {
    return this.httpMethodNames;
  }

  private cachedForm: BaseHttpForm | undefined;

  /** The view's form, built on first use: a form holds no request state, and building its schema is costly. */
  protected form(): BaseHttpForm {
    return (this.cachedForm ??= new this.formClass(this.formContext()));
  }

  protected formContext(): FormContext {
    return { backendName: this.backendName, port: this.port };
  }

  /** The parameters to validate: by default the body, as RapidSMS does for POST. */
  protected formData(request: ViewRequest): FormData {
    return bodyData(request);
  }

  /** Hands a valid message on; it is stored before this resolves. */
  protected async accept(incoming: IncomingData, _request: ViewRequest): Promise<void> {
    await this.port.receive(incoming.text, incoming.connection, { fields: incoming.fields, session: incoming.session });
  }

  protected formValid(): ViewResponse {
    return textResponse(200, "OK");
  }

  protected formInvalid(errors: FieldErrors): ViewResponse {
    return textResponse(400, formatFormErrors(errors));
  }
}

/**
 * GET reads the query string, POST reads the body only (form-encoded or JSON). `params` and
 * `httpMethodNames` set in a subclass are defaults; a backend's `params` and `methods` options win.
 */
export class GenericHttpBackendView extends BaseHttpBackendView {
  params: GenericHttpParams = {};
  override httpMethodNames: readonly string[] = ["get", "post"];
  private readonly configured: Pick<HttpViewOptions, "params" | "methods">;

  constructor(options: HttpViewOptions) {
    super(options);
    this.configured = { params: options.params, methods: options.methods?.map((m) => m.toLowerCase()) };
  }

  protected override allowedMethods(): readonly string[] {
    return this.configured.methods ?? this.httpMethodNames;
  }

  protected override formContext(): FormContext & GenericHttpParams {
    return { ...super.formContext(), ...this.params, ...this.configured.params };
  }

  /**
   * GET: the query, decoded strictly as UTF-8 from the URL as received (or, when the URL carries
   * none, the `query` the host parsed); POST: the body.
   */
  protected override formData(request: ViewRequest): FormData {
    if (request.method.toUpperCase() !== "GET") return bodyData(request);
    const at = request.url.indexOf("?");
    return at === -1 ? lastValues(request.query) : lastValues(parseUrlencoded(request.url.slice(at + 1)));
  }
}

/** The 400 body: `form failed to validate`, then one `field: reason` line per error. */
export function formatFormErrors(errors: FieldErrors): string {
  const lines = Object.entries(errors).flatMap(([field, messages]) =>
    messages.map((message) => (field === NON_FIELD_ERRORS ? message : `${field}: ${message}`)),
  );
  return ["form failed to validate", ...lines].join("\n");
}

function bodyData(request: ViewRequest): FormData {
  const body = request.body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) return {};
  const contentType = String(request.headers?.["content-type"] ?? "");
  return contentType.includes("json") ? (body as FormData) : lastValues(body as FormData);
}

/** Repeated parameters count once, the last one winning (as Django's QueryDict does). */
export function lastValues(data: Record<string, unknown>): FormData {
  const result: FormData = {};
  for (const [key, value] of Object.entries(data)) {
    result[key] = Array.isArray(value) ? value.at(-1) : value;
  }
  return result;
}

/** The fields of a POSTed body (form or JSON object), a repeated one by its last value; {} for any other body. */
export function bodyFields(request: ViewRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) return {};
  return lastValues(body as Record<string, unknown>);
}

/**
 * A delivery-report view's answer: 200 (with `body`) when the report was recorded, or kept for a
 * send whose answer has not come yet; else a 400 with the store's reason, or `unknown` when it
 * gave none.
 */
export function reportAnswer(outcome: DeliveryOutcome, unknown: string, body = ""): ViewResponse {
  if (outcome.matched > 0 || outcome.kept) return textResponse(200, body);
  return textResponse(400, formatFormErrors({ [NON_FIELD_ERRORS]: [outcome.reason ?? unknown] }));
}
