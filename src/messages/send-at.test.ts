import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidInputError } from "../errors.ts";
import { MAX_SCHEDULE_MS, scheduledTime, unfitSendAt } from "./send-at.ts";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);

test("scheduledTime reads ISO 8601 with Z or an offset, a Date and epoch ms alike", () => {
  const at = Date.UTC(2026, 11, 24, 5, 0, 0);
  for (const sendAt of ["2026-12-24T08:00:00+03:00", "2026-12-24T05:00:00Z", "2026-12-24T05:00Z", "2026-12-24T00:00:00.000-0500", new Date(at), at]) {
    assert.equal(scheduledTime(sendAt, NOW), at, String(sendAt));
  }
});

test("scheduledTime: no sendAt, the past and now mean send now (undefined)", () => {
  for (const sendAt of [undefined, "2020-01-01T00:00:00Z", new Date(NOW), NOW]) assert.equal(scheduledTime(sendAt, NOW), undefined, String(sendAt));
});

test("scheduledTime: up to a year ahead is taken; past it, refused naming sendAt", () => {
  assert.equal(scheduledTime(NOW + MAX_SCHEDULE_MS, NOW), NOW + MAX_SCHEDULE_MS);
  assert.throws(
    () => scheduledTime(NOW + MAX_SCHEDULE_MS + 1, NOW),
    (error: unknown) => error instanceof InvalidInputError && error.field === "sendAt" && /more than a year ahead/.test(error.message),
  );
});

test("unfitSendAt refuses a time without a zone, a date alone, words, and days that do not exist", () => {
  for (const value of [
    "2026-12-24T08:00:00",
    "2026-12-24",
    "tomorrow",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-12-24T24:30:00Z",
    "",
    "2026-12-24T08:00:00+03:00 ",
  ]) {
    assert.ok(unfitSendAt(value), `${JSON.stringify(value)} refused`);
    assert.throws(() => scheduledTime(value, NOW), InvalidInputError);
  }
  assert.equal(unfitSendAt("2026-12-24T08:00:00+03:00"), undefined);
});

test("scheduledTime refuses an invalid Date and a number that is not finite", () => {
  for (const sendAt of [new Date(Number.NaN), Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => scheduledTime(sendAt, NOW), InvalidInputError);
});
