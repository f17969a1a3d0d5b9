import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../logger.ts";
import { WorkLoop, type Job } from "./work-loop.ts";

// The loop's claims and jobs chain on promises only (its poll, 60 s here, never comes within a
// test): once the microtasks have run out, the loop has done all it will do until the next event.
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** A job that finishes when the test says so. */
function gatedJob(onDone: () => void) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const job: Job = async () => {
    await gate;
    onDone();
  };
  return { job, finish: () => open() };
}

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
  await settled();
  assert.equal(counts.claims, 1, "the first claim, which finds nothing");
  for (let i = 0; i < 10; i++) {
    const place = work.reserve();
    assert.ok(place);
    place.run(async () => {});
    await settled();
  }
  assert.equal(counts.claims, 1);
  work.wake();
  await settled();
  assert.equal(counts.claims, 2, "new work: a claim");
  await work.stop();
});

test("while claims find work, each finished job makes room for the next claim", async () => {
  let done = 0;
  const gated = Array.from({ length: 6 }, () => gatedJob(() => done++));
  const { work, counts } = loop(gated.map((g) => g.job));
  work.start();
  await settled();
  assert.equal(counts.claims, 1, "the first claim takes two jobs, as many as the loop runs at once");
  for (const [i, { finish }] of gated.entries()) {
    finish();
    await settled();
    assert.equal(done, i + 1);
    // Jobs 1-4 each make room for one of the four left; the fifth's room finds nothing.
    assert.equal(counts.claims, Math.min(i + 2, 6), `after job ${i + 1}`);
  }
  await settled();
  assert.equal(counts.claims, 6, "the last claim found nothing: the loop sleeps, and the sixth job's end claims nothing more");
  await work.stop();
});

test("a place is not handed out while a claim that may fill it is under way: never more jobs than concurrency", async () => {
  let answer!: (jobs: Job[]) => void;
  const work = new WorkLoop({
    name: "test",
    concurrency: 2,
    pollMs: 60_000,
    logger: silentLogger,
    claim: () => new Promise<Job[]>((resolve) => (answer = resolve)),
  });
  let running = 0;
  let most = 0;
  const gates: (() => void)[] = [];
  const job: Job = async () => {
    most = Math.max(most, ++running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
  };
  work.start();
  await settled();
  assert.equal(work.reserve(), undefined, "the claim under way asked for both places");
  answer([job, job]);
  await settled();
  assert.equal(running, 2);
  assert.equal(work.reserve(), undefined, "both places are taken");
  for (const open of gates) open();
  await settled();
  assert.equal(most, 2);
  const stopped = work.stop();
  answer([]);
  await stopped;
});

test("stop waits for a job handed in through a place reserved before it, and ends once that job does", async () => {
  const { work } = loop([]);
  work.start();
  await settled();
  const place = work.reserve();
  assert.ok(place);
  let stopped = false;
  const stopping = work.stop({ timeoutMs: 60_000 }).then((finished) => {
    stopped = true;
    return finished;
  });
  await settled();
  assert.equal(stopped, false, "a place is still reserved: its job may yet come");
  assert.equal(work.reserve(), undefined, "a stopping loop reserves no more places");
  let done = false;
  const gated = gatedJob(() => (done = true));
  place.run(gated.job);
  await settled();
  assert.equal(stopped, false, "the job handed in after stop was called is running");
  gated.finish();
  assert.equal(await stopping, true);
  assert.equal(done, true, "stop resolved only after the job had finished");
});

test("stop does not wait for a reserved place that is given up", async () => {
  const { work } = loop([]);
  work.start();
  await settled();
  const place = work.reserve();
  assert.ok(place);
  const stopping = work.stop({ timeoutMs: 60_000 });
  place.cancel();
  assert.equal(await stopping, true);
});

test("stop gives up at its deadline on a place that is never used", async () => {
  const { work } = loop([]);
  work.start();
  await settled();
  assert.ok(work.reserve());
  let deadlineRan = false;
  assert.equal(await work.stop({ timeoutMs: 20, onDeadline: async () => void (deadlineRan = true) }), false);
  assert.equal(deadlineRan, true);
});
