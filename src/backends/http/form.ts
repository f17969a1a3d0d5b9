import { z } from "zod";
import type { Connection } from "../../messages/connection.ts";
import type { Fields } from "../../messages/messages.ts";
import type { BackendPort } from "../port.ts";

/** What a form hands on to be received. */
export interface IncomingData {
  connection: Connection;
  text: string;
  fields?: Fields;
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

const ILL_FORMED = "Not valid text: it holds a lone UTF-16 surrogate, which no SMS can carry.";

/**
 * The fields of cleaned form data whose text is not well-formed Unicode (a lone surrogate, from
 * `\ud800` in JSON or from UTF-16 bytes): refused for every backend, since no store or gateway
 * can keep such a string as it is.
 */
function illFormedFields(data: FormData): string[] {
  return Object.entries(data)
    .filter(([, value]) => holdsIllFormed(value, 0))
    .map(([field]) => field);
}

function holdsIllFormed(value: unknown, depth: number): boolean {
  if (typeof value === "string") return !value.isWellFormed();
  if (value === null || typeof value !== "object" || depth > 8) return false;
  return Object.entries(value).some(([key, item]) => !key.isWellFormed() || holdsIllFormed(item, depth + 1));
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
    const malformed = illFormedFields(result.data);
    if (malformed.length > 0) return { success: false, errors: Object.fromEntries(malformed.map((field) => [field, [ILL_FORMED]])) };
    return { success: true, data: result.data };
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

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data[this.identityName])]);
    const externalId = this.externalIdName ? data[this.externalIdName] : undefined;
    return { connection, text: String(data[this.textName]), ...(externalId ? { fields: { externalId: String(externalId) } } : {}) };
  }
}
