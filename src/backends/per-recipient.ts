import type { ErrorCode } from "../error-codes.ts";
import { errorText, MessageSendingError } from "../errors.ts";
import type { SendResult } from "./backend.ts";

/** What came of one recipient's request, for gateways that take one recipient per request. */
export type RecipientOutcome =
  /** `partIds`: every part's id, when the gateway sent the message in parts whose receipts come one per part. */
  | { sent: true; externalId: string; segments: number; answer?: string; partIds?: readonly string[] }
  /** `retry`: sending again may work; `permanent`: it never will; `opted-out`: the recipient asked for no messages. */
  | { sent: false; kind: "retry" | "permanent" | "opted-out"; reason: string; code?: ErrorCode; answer?: string };

/** The attempt log's answer for several recipients: each one's, cut short. */
const LOGGED_ANSWERS_CHARS = 2_000;

/**
 * Sends to every identity of a message through a gateway that takes one recipient per request
 * (Twilio, Telerivet, Vonage), at most `concurrency` requests at once, none begun that could not
 * end (within `callTimeoutMs`) before the send's `deadline`, and makes one result of
 * the outcomes: each recipient's gateway id and segments, or a MessageSendingError that fails
 * the failed recipients one by one with their own reasons (tried again, never, or opted out) and
 * keeps what the others got.
 */
export async function sendToEach(
  provider: string,
  identities: readonly string[],
  options: { concurrency: number; callTimeoutMs: number; deadline?: number; signal?: AbortSignal },
  sendOne: (identity: string) => Promise<RecipientOutcome>,
): Promise<SendResult> {
  const { concurrency, callTimeoutMs, deadline, signal } = options;
  const outcomes = await eachAtMost(concurrency, identities, async (identity): Promise<RecipientOutcome> => {
    // A call that could not finish before the pipeline stops waiting is not begun: the result of the others must reach it.
    if (signal?.aborted || (deadline !== undefined && Date.now() + callTimeoutMs > deadline))
      return { sent: false, kind: "retry", reason: "not tried: the send's deadline was too near; will retry", code: "SEND_TIMEOUT" };
    try {
      return await sendOne(identity);
    } catch (error) {
      // Not the gateway's answer (a bug, say): this recipient is tried again; the others keep what they got.
      return { sent: false, kind: "retry", reason: `failed unexpectedly: ${errorText(error)}; will retry`, code: "SEND_FAILED" };
    }
  });
  const externalIds: Record<string, string> = {};
  const segments: Record<string, number> = {};
  const partIds: Record<string, readonly string[]> = {};
  const failed: { identity: string; outcome: Extract<RecipientOutcome, { sent: false }> }[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.sent) {
      externalIds[identities[i]] = outcome.externalId;
      segments[identities[i]] = outcome.segments;
      if (outcome.partIds && outcome.partIds.length > 1) partIds[identities[i]] = outcome.partIds;
    } else failed.push({ identity: identities[i], outcome });
  }
  const answers = outcomes.flatMap((outcome, i) => (outcome.answer ? [identities.length === 1 ? outcome.answer : `${identities[i]}: ${outcome.answer}`] : []));
  const answer = answers.join("\n");
  const logged = answer.length > LOGGED_ANSWERS_CHARS ? `${answer.slice(0, LOGGED_ANSWERS_CHARS)}… (${answers.length} answers, cut)` : answer;
  const parted = Object.keys(partIds).length > 0 ? { partIds } : {};
  if (failed.length === 0) return { externalIds, segments, ...parted, ...(logged && { answer: logged }) };
  const message =
    identities.length === 1
      ? `${provider} did not send the message: ${failed[0].outcome.reason}`
      : `${provider} did not send to ${failed.length} of ${identities.length} recipients: ${failed.map((f) => f.identity).join(", ")}`;
  const codes = new Set(failed.map((f) => f.outcome.code));
  throw new MessageSendingError(message, {
    failedIdentities: failed.map((f) => f.identity),
    externalIds,
    segments,
    partIds,
    identityErrors: Object.fromEntries(failed.map((f) => [f.identity, f.outcome.reason])),
    optedOutIdentities: failed.filter((f) => f.outcome.kind === "opted-out").map((f) => f.identity),
    permanentIdentities: failed.filter((f) => f.outcome.kind === "permanent").map((f) => f.identity),
    retryable: failed.some((f) => f.outcome.kind === "retry"),
    code: codes.size === 1 ? failed[0].outcome.code : undefined,
  });
}

/** `work` over every item, at most `limit` at once, the results in the items' order. */
async function eachAtMost<T, R>(limit: number, items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await work(items[at]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** A JSON object read from a gateway's answer, or undefined when the answer is no JSON object. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
