import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageSendingError } from "../errors.ts";
import { sendToEach, type RecipientOutcome } from "./per-recipient.ts";

const sent = (identity: string): RecipientOutcome => ({ sent: true, externalId: `id-${identity}`, segments: 1, answer: `ok ${identity}` });

test("every recipient sent: their ids and segments, and each one's answer", async () => {
  const result = await sendToEach("Gw", ["1", "2"], { concurrency: 2, callTimeoutMs: 1_000 }, async (identity) => sent(identity));
  assert.deepEqual(result, { externalIds: { 1: "id-1", 2: "id-2" }, segments: { 1: 1, 2: 1 }, answer: "1: ok 1\n2: ok 2" });
});

test("failures one by one: each with its own reason and kind; the sent ones keep their ids and segments", async () => {
  const outcomes: Record<string, RecipientOutcome> = {
    a: sent("a"),
    b: { sent: false, kind: "opted-out", reason: "texted STOP", code: "RECIPIENT_OPTED_OUT" },
    c: { sent: false, kind: "permanent", reason: "no such number", code: "GATEWAY_REJECTED" },
    d: { sent: false, kind: "retry", reason: "busy", code: "GATEWAY_UNAVAILABLE" },
  };
  await assert.rejects(
    sendToEach("Gw", ["a", "b", "c", "d"], { concurrency: 4, callTimeoutMs: 1_000 }, async (identity) => outcomes[identity]),
    (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.equal(error.message, "Gw did not send to 3 of 4 recipients: b, c, d");
      assert.deepEqual(error.failedIdentities, ["b", "c", "d"]);
      assert.deepEqual(error.optedOutIdentities, ["b"]);
      assert.deepEqual(error.permanentIdentities, ["c"]);
      assert.equal(error.retryable, true);
      assert.deepEqual(error.externalIds, { a: "id-a" });
      assert.deepEqual(error.segments, { a: 1 });
      assert.deepEqual(error.identityErrors, { b: "texted STOP", c: "no such number", d: "busy" });
      return true;
    },
  );
});

test("no call is begun that could not end before the send's deadline: those recipients are tried again, the others keep what they got", async () => {
  const begun: string[] = [];
  // The first call begins unless the machine stalls for 500 ms; the second cannot end in time.
  const deadline = Date.now() + 1_500;
  await assert.rejects(
    sendToEach("Gw", ["1", "2", "3", "4"], { concurrency: 1, callTimeoutMs: 1_000, deadline }, async (identity) => {
      begun.push(identity);
      await new Promise((resolve) => setTimeout(resolve, 800));
      return sent(identity);
    }),
    (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.ok(begun.length >= 1 && begun.length < 4, `begun: ${begun.join(", ")}`);
      assert.deepEqual(Object.keys(error.externalIds), begun);
      assert.deepEqual(
        error.failedIdentities,
        ["1", "2", "3", "4"].filter((i) => !begun.includes(i)),
      );
      assert.equal(error.retryable, true);
      assert.match(Object.values(error.identityErrors)[0], /deadline was too near; will retry/);
      return true;
    },
  );
});

test("a recipient whose call throws (not a gateway answer) is tried again alone; the others are not sent twice", async () => {
  await assert.rejects(
    sendToEach("Gw", ["1", "2", "3"], { concurrency: 3, callTimeoutMs: 1_000 }, async (identity) => {
      if (identity === "2") throw new TypeError("a bug");
      return sent(identity);
    }),
    (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.deepEqual(error.failedIdentities, ["2"]);
      assert.deepEqual(error.externalIds, { 1: "id-1", 3: "id-3" });
      assert.match(error.identityErrors["2"], /failed unexpectedly: a bug; will retry/);
      return true;
    },
  );
});

test("a partial failure keeps each part's gateway id of the recipients that were sent", async () => {
  await assert.rejects(
    sendToEach("Gw", ["1", "2"], { concurrency: 2, callTimeoutMs: 1_000 }, async (identity) =>
      identity === "1" ? { sent: true, externalId: "1-a", segments: 2, partIds: ["1-a", "1-b"] } : { sent: false, kind: "permanent", reason: "no" },
    ),
    (error: unknown) => {
      assert.ok(error instanceof MessageSendingError);
      assert.deepEqual(error.partIds, { 1: ["1-a", "1-b"] });
      return true;
    },
  );
});
