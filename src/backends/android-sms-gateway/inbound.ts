import { readJsonBody } from "../json-body.ts";
import { createHash } from "node:crypto";
import { z } from "zod";
import { InvalidInputError } from "../../errors.ts";
import { BaseHttpForm, NON_FIELD_ERRORS, textField, type FieldErrors, type FieldRoles, type FormData, type IncomingData } from "../http/form.ts";
import { formatFormErrors } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";
import { signatureRefusal } from "./signature.ts";
import { payloadErrors, recordReport, REPORT_EVENTS } from "./status.ts";

/** The envelope's own keys; everything else in a message's fields is the payload's. */
const ENVELOPE_KEYS = ["deviceId", "event", "id", "webhookId"] as const;

const nullableText = z.string({ error: "Expected text." }).nullish();

/**
 * An sms:received payload with the envelope's keys beside it. `sender` is the number that wrote
 * (older apps send only the deprecated `phoneNumber`, the same number); `recipient` is the
 * phone's own number when it knows it. Keys the app adds later are kept as they come.
 */
const receivedSms = z
  .looseObject({
    messageId: textField(),
    message: z.string({ error: (issue) => (issue.input === undefined ? "This field is required." : "Expected text.") }),
    sender: nullableText,
    phoneNumber: nullableText,
    recipient: nullableText,
    simNumber: z.number({ error: "Expected a number." }).int().nullish(),
    receivedAt: nullableText,
    deviceId: nullableText,
    event: z.string(),
    id: nullableText,
    webhookId: nullableText,
  })
  .transform((data, ctx) => {
    const sender = data.sender?.trim() || data.phoneNumber?.trim();
    if (!sender) {
      ctx.addIssue({ code: "custom", path: ["sender"], message: "This field is required." });
      return z.NEVER;
    }
    return { ...data, sender, externalId: receivedSmsId({ ...data, sender }) };
  });

/**
 * The id an SMS is deduplicated by. The app's `messageId` of a received SMS is no id a
 * gateway keeps: it is the 32-bit hash of the sender, the time, the SIM and the text
 * (`InboxMessage.hashCode()` in hex), computed on the phone, so two phones (or one phone
 * reinstalled) can give two different SMS the same one. With the device, the sender, the time
 * and the text beside it, the id names one SMS on one phone; the app's retries (10 s, then
 * doubling, for up to two days) post the same payload, so a retry has the same id and is not
 * stored twice. The envelope's own `id` is no better: it is drawn afresh for each registered
 * webhook, so one SMS sent to two webhooks on this URL would be stored twice.
 */
export function receivedSmsId(sms: { deviceId?: string | null; messageId: string; sender: string; receivedAt?: string | null; message: string }): string {
  return createHash("sha256")
    .update(JSON.stringify([sms.deviceId ?? "", sms.messageId, sms.sender, sms.receivedAt ?? "", sms.message]), "utf8")
    .digest("hex");
}

/** Validates an sms:received webhook; `fields` carries every field of the payload and the envelope, plus `externalId` for dedupe. */
export class ReceivedSmsForm extends BaseHttpForm {
  protected override roles(): FieldRoles {
    return { identity: "sender", text: "message", externalId: "externalId" };
  }

  override schema(): z.ZodType<FormData> {
    return receivedSms;
  }

  override async getIncomingData(data: FormData): Promise<IncomingData> {
    const [connection] = await this.lookupConnections([String(data.sender)]);
    return { connection, text: String(data.message), fields: data };
  }
}

export interface WebhookViewOptions {
  port: BackendPort;
  /** "" (inbound) or "status/" (reports): both take every event, as the app may post them all to one URL. */
  path: string;
  /** The app's signing key; null takes webhooks unsigned (the backend warns at start). */
  signingKey: string | null;
  freshnessSeconds: number;
  /** This server's clock, in ms (tests fix it). */
  now?: () => number;
}

/**
 * The app's webhooks: POST, JSON `{ deviceId, event, id, payload, webhookId }`, signed with
 * X-Signature over the body and X-Timestamp. The app registers one URL per event, and the
 * same URL may serve them all, so both views take every event and go by `event`: sms:received
 * is a message, sms:sent/delivered/failed/cancelled a report, anything else (system:ping,
 * app:started, MMS and data SMS, events to come) is answered 200 and ignored, since the app
 * retries every answer that is not 2xx. Refusals are 4xx with the reason: the app retries those
 * too, for up to two days, so a request refused for a wrong key is taken once the key is fixed.
 */
export class AndroidSmsGatewayWebhookView implements BackendView {
  readonly path: string;
  private readonly port: BackendPort;
  private readonly signingKey: string | null;
  private readonly freshnessSeconds: number;
  private readonly now: () => number;
  private readonly form: ReceivedSmsForm;

  constructor(options: WebhookViewOptions) {
    this.path = options.path;
    this.port = options.port;
    this.signingKey = options.signingKey;
    this.freshnessSeconds = options.freshnessSeconds;
    this.now = options.now ?? Date.now;
    this.form = new ReceivedSmsForm({ backendName: options.port.name, port: options.port });
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    if (this.signingKey !== null) {
      const refusal = signatureRefusal({ key: this.signingKey, freshnessSeconds: this.freshnessSeconds, now: this.now() }, request);
      if (refusal) return textResponse(403, refusal);
    }
    // Read from the body as received: the text the signature is over, so what is read is what was signed.
    const body = readJsonBody(request, { expected: "the app POSTs each event as a JSON object", raw: true });
    if (!body.ok) return invalid({ [NON_FIELD_ERRORS]: [body.reason] });
    const { event, payload } = body.value;
    if (typeof event !== "string" || event.trim() === "") return invalid({ event: ["This field is required."] });
    const isSmsEvent = event === "sms:received" || event in REPORT_EVENTS;
    if (isSmsEvent && (payload === null || typeof payload !== "object" || Array.isArray(payload))) {
      return invalid({ payload: [payload === undefined ? "This field is required." : "Expected a JSON object."] });
    }
    if (event === "sms:received") return this.receive(body.value, payload as Record<string, unknown>);
    if (event in REPORT_EVENTS) return recordReport(this.port, event, payload);
    this.port.logger.debug({ backend: this.port.name, event }, "android-sms-gateway: event ignored");
    return textResponse(200, "");
  }

  private async receive(envelope: Record<string, unknown>, payload: Record<string, unknown>): Promise<ViewResponse> {
    const own = Object.fromEntries(ENVELOPE_KEYS.filter((key) => envelope[key] !== undefined).map((key) => [key, envelope[key]]));
    const result = this.form.validate({ ...payload, ...own });
    if (!result.success) return invalid(namedErrors(result.errors));
    try {
      const incoming = await this.form.getIncomingData(result.data);
      await this.port.receive(incoming.text, incoming.connection, { fields: incoming.fields });
    } catch (error) {
      if (error instanceof InvalidInputError) return invalid(namedErrors({ [error.field]: [error.reason] }));
      throw error;
    }
    return textResponse(200, "");
  }
}

function invalid(errors: FieldErrors): ViewResponse {
  return textResponse(400, formatFormErrors(errors));
}

/** The envelope's keys as they are, the payload's as `payload.<key>`. */
function namedErrors(errors: FieldErrors): FieldErrors {
  const envelope = Object.fromEntries(Object.entries(errors).filter(([field]) => (ENVELOPE_KEYS as readonly string[]).includes(field)));
  const payload = Object.fromEntries(Object.entries(errors).filter(([field]) => !(ENVELOPE_KEYS as readonly string[]).includes(field)));
  return { ...envelope, ...payloadErrors(payload) };
}
