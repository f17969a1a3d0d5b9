import { unfitMessageText } from "../messages/limits.ts";

/** Replies a receiver's answer may carry at most. */
export const MAX_WEBHOOK_REPLIES = 10;

/**
 * The reply texts in a receiver's 2xx answer: `{ "replies": [{ "text": "…" }] }`, or the list as
 * strings. An answer that is empty or not JSON carries none. Anything else is a mistake of the
 * receiver's, reported as `refused` (the forward counts as done: it was received) rather than
 * guessed at.
 */
export function repliesOf(body: string): { texts: string[] } | { refused: string } {
  const text = body.trim();
  if (text === "") return { texts: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { texts: [] };
  }
  if (Array.isArray(parsed)) return repliesOf(JSON.stringify({ replies: parsed }));
  if (typeof parsed !== "object" || parsed === null || !("replies" in parsed)) return { texts: [] };
  const replies = (parsed as { replies: unknown }).replies;
  if (!Array.isArray(replies)) return { refused: "replies must be a list of texts or of { text } objects" };
  if (replies.length > MAX_WEBHOOK_REPLIES) return { refused: `${replies.length} replies; ${MAX_WEBHOOK_REPLIES} at most` };
  const texts: string[] = [];
  for (const [i, reply] of replies.entries()) {
    const value = typeof reply === "string" ? reply : typeof reply === "object" && reply !== null ? (reply as { text?: unknown }).text : undefined;
    if (typeof value !== "string") return { refused: `replies.${i}: expected a text or { "text": "…" }` };
    const unfit = unfitMessageText(value);
    if (unfit) return { refused: `replies.${i}: ${unfit}` };
    if (value.trim() === "") return { refused: `replies.${i}: an empty text` };
    texts.push(value);
  }
  return { texts };
}
