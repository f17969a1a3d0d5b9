import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../logger.ts";
import { WorkLoop, type Job } from "./work-loop.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A loop whose claims hand out what `backlog` holds, counting the claims. */
function loop(backlog: Job[], concurrency = 2) {
  const counts = { claims: 0 };
  const work = new WorkLoop({
    name: "test",
    concurrency,
    pollMs: 60_000,
    logger: silentLogger,
    claim: async (free) => {
      counts.claims++;
      return backlog.splice(0, free);
    },
  });
  return { work, counts };
}

test("jobs handed in while the store has nothing to claim do not set off a claim each as they finish", async () => {
  const { work, counts } = loop([]);
  work.start();
  await tick();
  assert.equal(counts.claims, 1, "the first claim, which finds nothing");
  for (let i = 0; i < 10; i++) {
    const place = work.reserve();
    assert.ok(place);
    place.run(async () => {});
    await tick();
  }
  assert.equal(counts.claims, 1);
  work.wake();
  await tick();
  assert.equal(counts.claims, 2, "new work: a claim");
  await work.stop();
});

test("while claims find work, each finished job makes room for the next claim", async () => {
  let done = 0;
  const job: Job = async () => {
    await tick();
    done++;
  };
  const { work, counts } = loop(Array.from({ length: 6 }, () => job));
  work.start();
  while (done < 6) await tick();
  await tick();
  assert.ok(counts.claims >= 4, `6 jobs two at a time, then one that finds nothing: ${counts.claims} claims`);
  const before = counts.claims;
  await tick();
  assert.equal(counts.claims, before, "and then it sleeps");
  await work.stop();
});
