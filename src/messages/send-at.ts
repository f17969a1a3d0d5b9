import { InvalidInputError } from "../errors.ts";

/** How far ahead a message may be scheduled. */
export const MAX_SCHEDULE_MS = 366 * 24 * 60 * 60_000;

/**
 * ISO 8601 date and time with a time zone (`Z` or `±hh:mm`): a time without one would be read in
 * whatever zone the server runs in, which is rarely what the sender meant.
 */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Why `value` is not a time to send at (an ISO 8601 string with a zone), or undefined. */
export function unfitSendAt(value: string): string | undefined {
  if (value.length > 40 || !ISO_WITH_ZONE.test(value))
    return 'expected an ISO 8601 date and time with a time zone, as in "2026-12-24T08:00:00+03:00" or "2026-12-24T05:00:00Z"';
  // Date.parse rolls 30 February over into March: check the calendar itself.
  const [year, month, day, hour, minute] = value.split(/[-T:]/, 5).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || Number.isNaN(Date.parse(value)))
    return `"${value}" is not a date and time that exists`;
  return undefined;
}

/**
 * The epoch ms a message given `sendAt` is to go at, or undefined to send now (no `sendAt`, or a
 * time that has come). Throws InvalidInputError (field `sendAt`) for a string that is not ISO 8601
 * with a zone, an invalid Date or number, or a time more than MAX_SCHEDULE_MS ahead.
 */
export function scheduledTime(sendAt: Date | string | number | undefined, now = Date.now()): number | undefined {
  if (sendAt === undefined) return undefined;
  let at: number;
  if (typeof sendAt === "string") {
    const unfit = unfitSendAt(sendAt);
    if (unfit) throw new InvalidInputError("sendAt", unfit);
    at = Date.parse(sendAt);
  } else {
    at = sendAt instanceof Date ? sendAt.getTime() : sendAt;
    if (!Number.isFinite(at)) throw new InvalidInputError("sendAt", "expected a valid Date, epoch milliseconds or ISO 8601 string");
  }
  if (at - now > MAX_SCHEDULE_MS)
    throw new InvalidInputError("sendAt", `${new Date(at).toISOString()} is more than a year ahead; schedule it closer (at most 366 days from now)`);
  return at > now ? Math.ceil(at) : undefined;
}
