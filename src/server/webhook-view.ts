import { shownUrl } from "../pipeline/webhook-url.ts";
import type { WebhookRecord } from "../store/store.ts";

/** A webhook POST as the API shows it: the URL without its query or later path segments (where receivers put tokens; see shownUrl). */
export function shownForward(f: WebhookRecord) {
  return {
    id: f.id,
    kind: f.kind,
    transmissionId: f.transmissionId,
    url: shownUrl(f.url),
    status: f.status,
    attempts: f.attempts,
    nextAttemptAt: f.nextAttemptAt === null ? null : new Date(f.nextAttemptAt).toISOString(),
    error: f.error,
    answerStatus: f.answerStatus,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}
