import { z } from "zod";
import type { DeliveryReport } from "../../messages/status.ts";
import { fieldErrors, NON_FIELD_ERRORS, textField, type FieldErrors } from "../http/form.ts";
import { formatFormErrors } from "../http/view.ts";
import type { BackendPort } from "../port.ts";
import { textResponse, type BackendView, type ViewRequest, type ViewResponse, wrongMethod } from "../view.ts";
import { readResults, resultErrors } from "./json-body.ts";

/**
 * Infobip's status groups and what they mean here. DELIVERED holds DELIVERED_TO_HANDSET and, where
 * the network gives no handset receipt, the final DELIVERED_TO_OPERATOR: both D (the name stays in
 * the detail). PENDING (and ACCEPTED) is on its way; UNDELIVERABLE, REJECTED and EXPIRED failed.
 */
export const STATUS_GROUPS: Readonly<Record<string, DeliveryReport["status"]>> = {
  PENDING: "S",
  ACCEPTED: "S",
  DELIVERED: "D",
  UNDELIVERABLE: "E",
  REJECTED: "E",
  EXPIRED: "E",
};

const optionalText = z.preprocess((value) => (typeof value === "number" ? String(value) : value), z.string().nullish());

const reportSchema = z.looseObject({
  messageId: textField(),
  status: z.looseObject(
    {
      groupName: z
        .string({ error: (issue) => (issue.input === undefined ? "This field is required." : "Expected text.") })
        .transform((name) => name.trim().toUpperCase())
        .refine((name) => name in STATUS_GROUPS, {
          error: (issue) => `unknown status group ${JSON.stringify(issue.input)}: expected one of ${Object.keys(STATUS_GROUPS).join(", ")}`,
        }),
      id: z.number().nullish(),
      name: optionalText,
      description: optionalText,
    },
    { error: (issue) => (issue.input === undefined ? "This field is required." : "expected Infobip's status object") },
  ),
  error: z
    .looseObject({ id: z.number().nullish(), name: optionalText, description: optionalText, groupName: optionalText, permanent: z.boolean().nullish() })
    .nullish(),
});

type InfobipReport = z.infer<typeof reportSchema>;

/**
 * `DELIVERED_TO_HANDSET (DELIVERED)`, with Infobip's error when it names one:
 * `UNDELIVERABLE_NOT_DELIVERED (UNDELIVERABLE); error 1 EC_UNKNOWN_SUBSCRIBER: Unknown subscriber (permanent)`.
 */
export function reportDetail({ status, error }: InfobipReport): string {
  const word = status.name ? `${status.name} (${status.groupName})` : status.groupName;
  if (!error || error.id === 0 || error.name === "NO_ERROR" || (!error.name && error.id == null)) return word;
  const code = [error.id, error.name].filter((part) => part !== null && part !== undefined && part !== "").join(" ");
  const permanence = error.permanent === true ? " (permanent)" : error.permanent === false ? " (temporary)" : "";
  return `${word}; error ${code}${error.description ? `: ${error.description}` : ""}${permanence}`;
}

/**
 * `/backend/<name>/status/`: Infobip's delivery reports, `{ "results": [ … ] }`, each matched by the
 * `messageId` we gave the destination (the transmission's external id). Every report is checked
 * before any is recorded; one that names an id no send has brought yet is kept (it may have
 * overtaken the send's answer). If a report matches nothing and cannot be kept, the request gets a
 * 400 naming it; Infobip sends it again, and the reports already recorded change nothing the
 * second time.
 */
export class InfobipStatusView implements BackendView {
  readonly path = "status/";
  private readonly port: BackendPort;

  constructor(port: BackendPort) {
    this.port = port;
  }

  async handle(request: ViewRequest): Promise<ViewResponse> {
    const refused = wrongMethod(request, ["POST"]);
    if (refused) return refused;
    const read = readResults(request);
    if (!read.ok) return textResponse(400, formatFormErrors(read.errors));
    const reports: InfobipReport[] = [];
    let errors: FieldErrors = {};
    read.results.forEach((result, i) => {
      const parsed = reportSchema.safeParse(result);
      if (parsed.success) reports.push(parsed.data);
      else errors = { ...errors, ...resultErrors(i, nestedFieldErrors(parsed.error.issues)) };
    });
    if (Object.keys(errors).length > 0) return textResponse(400, formatFormErrors(errors));
    const unmatched: string[] = [];
    for (const report of reports) {
      const outcome = await this.port.reportDelivery(
        { externalId: report.messageId },
        { status: STATUS_GROUPS[report.status.groupName], detail: reportDetail(report) },
      );
      if (outcome.matched === 0 && !outcome.kept) unmatched.push(outcome.reason ?? `no message ${report.messageId} was sent through this backend`);
    }
    if (unmatched.length > 0) return textResponse(400, formatFormErrors({ [NON_FIELD_ERRORS]: unmatched }));
    return textResponse(200, "");
  }
}

/** Issues under their whole path (`status.groupName`), not just the first key. */
function nestedFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldErrors {
  return fieldErrors(issues.map((issue) => (issue.path.length > 1 ? { ...issue, path: [issue.path.join(".")] } : issue)));
}
