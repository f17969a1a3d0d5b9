import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_PIPELINE_OPTIONS, pipelineOptionsSchema, retryDelay } from "./policy.ts";

const policy = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

test("retry delays double from the base, between half and all of the exponential step", () => {
  const low = () => 0;
  const high = () => 1;
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryDelay(n, policy, low)),
    [500, 1_000, 2_000, 4_000],
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryDelay(n, policy, high)),
    [1_000, 2_000, 4_000, 8_000],
  );
});

test("retry delays are capped at maxDelayMs", () => {
  assert.equal(
    retryDelay(30, policy, () => 1),
    60_000,
  );
  assert.equal(
    retryDelay(30, policy, () => 0),
    30_000,
  );
});

test("jitter spreads retries of the same attempt", () => {
  const delays = new Set(Array.from({ length: 50 }, () => retryDelay(5, policy)));
  assert.ok(delays.size > 10);
  for (const delay of delays) assert.ok(delay >= 8_000 && delay <= 16_000, String(delay));
});

test("pipeline defaults: batches of 200, 10 attempts, a 24 h dedupe window", () => {
  assert.equal(DEFAULT_PIPELINE_OPTIONS.batchSize, 200);
  assert.equal(DEFAULT_PIPELINE_OPTIONS.maxAttempts, 10);
  assert.equal(DEFAULT_PIPELINE_OPTIONS.dedupeWindowMs, 86_400_000);
  assert.throws(() => pipelineOptionsSchema.parse({ batchSize: 0 }));
  assert.throws(() => pipelineOptionsSchema.parse({ bogus: 1 }));
});
