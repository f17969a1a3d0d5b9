import { z } from "zod";
import { fieldErrors, NON_FIELD_ERRORS, type FieldErrors } from "../http/form.ts";
import type { ViewRequest } from "../view.ts";

/**
 * Results read from one webhook call at most. Infobip sends delivery reports 100 to a request by
 * default (its "maxBucketSize" can be changed) and lets its own report and inbox pulls take 1,000
 * at most: a larger batch is no Infobip request, and is refused before anything is stored.
 */
export const MAX_RESULTS = 1_000;

export type Results = { ok: true; results: Record<string, unknown>[] } | { ok: false; errors: FieldErrors };

const envelope = z.looseObject({
  results: z
    .array(z.unknown(), { error: (issue) => (issue.input === undefined ? "This field is required." : "expected a list of results") })
    .min(1, "expected at least one result")
    .max(MAX_RESULTS, `more than ${MAX_RESULTS} results in one request`),
});

/**
 * The `results` list of a JSON body Infobip POSTed (`{ "results": [ … ] }`). The server parses
 * `application/json`; a body left unparsed (another content type) is parsed here. XML (a
 * subscription set to `application/xml`) is refused with what to change.
 */
export function readResults(request: ViewRequest): Results {
  let body = request.body;
  if (Buffer.isBuffer(body)) body = body.toString("utf8");
  if (typeof body === "string") {
    if (body.trim().startsWith("<")) return refused("the body is XML: have Infobip send JSON (content type application/json)");
    if (body.trim() === "") return refused('the body is empty: expected Infobip\'s JSON { "results": [ … ] }');
    try {
      body = JSON.parse(body);
    } catch (error) {
      return refused(`the body is not valid JSON (${(error as Error).message})`);
    }
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return refused('expected Infobip\'s JSON object { "results": [ … ] }');
  const parsed = envelope.safeParse(body);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error.issues) };
  const results = parsed.data.results;
  const notObjects = results.flatMap((result, i) => (result !== null && typeof result === "object" && !Array.isArray(result) ? [] : [i]));
  if (notObjects.length > 0) return { ok: false, errors: Object.fromEntries(notObjects.map((i) => [`results[${i}]`, ["expected an object"]])) };
  return { ok: true, results: results as Record<string, unknown>[] };
}

function refused(reason: string): Results {
  return { ok: false, errors: { [NON_FIELD_ERRORS]: [reason] } };
}

/** A result's field errors under `results[<i>].<field>`, for the 400 of the whole request. */
export function resultErrors(index: number, errors: FieldErrors): FieldErrors {
  return Object.fromEntries(
    Object.entries(errors).map(([field, messages]) => [field === NON_FIELD_ERRORS ? `results[${index}]` : `results[${index}].${field}`, messages]),
  );
}
