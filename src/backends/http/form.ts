import { z } from "zod";
import type { Connection } from "../../messages/connection.ts";
import { unfitExternalId, unfitMessageText, unfitText } from "../../messages/limits.ts";
import type { Fields } from "../../messages/messages.ts";
import type { SessionMark } from "../../messages/session.ts";
import type { BackendPort } from "../port.ts";

/** What a form hands on to be received. */
export interface IncomingData {
  connection: Connection;
  text: string;
  fields?: Fields;
  /** The session the gateway says the message is in (Vumi's session_event), for `msg.session`. */
  session?: SessionMark;
}

/** Field name → messages; errors that belong to no single field are under `__all__`. */
export type FieldErrors = Record<string, string[]>;

export type FormData = Record<string, unknown>;

export type ValidationResult = { success: true; data: FormData } | { success: false; errors: FieldErrors };

export interface FormContext {
  backendName: string;
  port: BackendPort;
}

export const NON_FIELD_ERRORS = "__all__";

/**
 * Fields of cleaned form data holding text that no store or gateway can keep (a lone surrogate,
 * from `\ud800` in JSON or from UTF-16 bytes; a NUL), with the reason: refused for every backend.
 */
function unfitFields(data: FormData): FieldErrors {
  const errors: FieldErrors = {};
  for (const [field, value] of Object.entries(data)) {
    const unfit = unfitIn(value, 0);
    if (unfit) errors[field] = [unfit];
  }
  return errors;
}

/** How deep a field's JSON value may nest: deeper is refused (storing it would overflow the stack). */
const MAX_FIELD_DEPTH = 32;

function unfitIn(value: unknown, depth: number): string | undefined {
  if (typeof value === "string") return unfitText(value);
  if (value === null || typeof value !== "object") return undefined;
  if (depth >= MAX_FIELD_DEPTH) return `nested more than ${MAX_FIELD_DEPTH} levels deep: send flatter data`;
  for (const [key, item] of Object.entries(value)) {
    const unfit = unfitText(key) ?? unfitIn(item, depth + 1);
    if (unfit) return unfit;
  }
  return undefined;
}

/** Which of a form's fields hold the sender's identity, the text and the gateway's id. */
export interface FieldRoles {
  identity?: string;
  text?: string;
  externalId?: string;
}

/** zod's issues by the field they are about (their first path key). */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : NON_FIELD_ERRORS;
    (errors[field] ??= []).push(issue.message);
  }
  return errors;
}

/**
 * A required text field as an SMS gateway sends it: surrounding whitespace trimmed, empty counts
 * as missing, NUL characters refused; numbers (from JSON bodies) are taken as their digits.
 */
export function textField() {
  return z.preprocess(
    (value) => (typeof value === "number" || typeof value === "bigint" ? String(value) : value),
    z
      .string({ error: (issue) => (issue.input === undefined ? "This field is required." : "Expected text.") })
      .trim()
      .min(1, "This field is required.")
      .refine((value) => !value.includes("\0"), "Null characters are not allowed."),
  );
}

/**
 * The form of an inbound view: a zod schema over the request's parameters, plus
 * `getIncomingData()` to turn the cleaned data into a connection and a text. Add custom
 * validation by refining the schema in a subclass.
 */
export abstract class BaseHttpForm {
  readonly backendName: string;
  readonly port: BackendPort;

  constructor(context: FormContext) {
    this.backendName = context.backendName;
    this.port = context.port;
  }

  abstract schema(): z.ZodType<FormData>;

  abstract getIncomingData(data: FormData): Promise<IncomingData>;

  private cachedSchema: z.ZodType<FormData> | undefined;

  /** Validates request parameters; the schema is built once per form (zod compiles it on first use). */
  validate(data: FormData): ValidationResult {
    const result = (this.cachedSchema ??= this.schema()).safeParse(data);
    if (!result.success) return { success: false, errors: fieldErrors(result.error.issues) };
    const errors = { ...unfitFields(result.data), ...this.roleErrors(result.data) };
    if (Object.keys(errors).length > 0) return { success: false, errors };
    return { success: true, data: result.data };
  }

  /**
   * Which fields hold the identity, the text and the gateway's id, so that their limits (and the
   * backend's rule for identities) are checked by field name; a form that names none is still
   * checked, when its message is received.
   */
  protected roles(): FieldRoles {
    return {};
  }

  private roleErrors(data: FormData): FieldErrors {
    const { identity, text, externalId } = this.roles();
    const checks: [string | undefined, (value: string) => string | undefined][] = [
      [identity, (value) => this.port.checkIdentity(value)],
      [text, unfitMessageText],
      [externalId, unfitExternalId],
    ];
    const errors: FieldErrors = {};
    for (const [field, check] of checks) {
      const value = field === undefined ? undefined : data[field];
      const unfit = typeof value === "string" ? check(value) : undefined;
      if (field && unfit) errors[field] = [unfit];
    }
    return errors;
  }

  lookupConnections(identities: readonly string[]): Promise<Connection[]> {
    return this.port.lookupConnections(identities);
  }
}

export interface GenericHttpParams {
  /** The request parameter holding the sender's identity (default `identity`). */
  identityName?: string;
  /** The request parameter holding the message text (default `text`). */
  textName?: string;
  /**
   * The optional request parameter holding the gateway's own message id (none by default). When
   * given it becomes `fields.externalId`, so a redelivery of the same id is answered 200 and not
   * processed again.
   */
  externalIdName?: string;
}

/** Two required fields, the identity and the text, under configurable names; optionally the gateway's id. */
export class GenericHttpForm extends BaseHttpForm {
  readonly identityName: string;
  readonly textName: string;
  readonly externalIdName: string | undefined;

  constructor(context: FormContext & GenericHttpParams) {
    super(context);
    this.identityName = context.identityName ?? "identity";
    this.textName = context.textName ?? "text";
    this.externalIdName = context.externalIdName;
  }

  override schema(): z.ZodObject {
    const shape: Record<string, z.ZodType> = { [this.identityName]: textField(), [this.textName]: textField() };
    if (this.externalIdName) shape[this.externalIdName] = textField().optional();
    return z.object(shape);
  }

  protected override roles(): FieldRoles {
    return { identity: this.identityName, text: this.textName, externalId: this.externalIdName };
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data[this.identityName])]);
    const externalId = this.externalIdName ? data[this.externalIdName] : undefined;
    return { connection, text: String(data[this.textName]), ...(externalId ? { fields: { externalId: String(externalId) } } : {}) };
  }
}
