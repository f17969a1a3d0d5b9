import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { unlessInCi } from "../../../test/support/components.ts";
import { type NetSmppSmsc, netSmppMissing, startNetSmppSmsc } from "../../../test/support/smpp-smsc.ts";
import { openStore } from "../../store/open.ts";
import { createTestRouter } from "../../testing/harness.ts";
import { SmppBackend } from "./index.ts";

// The "done when": 10,000 messages through one bind, the SMSC throttling for 5 s and
// dropping the connection once, on the way. Every transmission ends S or D, and only those whose
// submit_sm_resp was lost reach the SMSC twice (and are counted).
const skip = unlessInCi(netSmppMissing());
const RECIPIENTS = 10_000;

let smsc: NetSmppSmsc;
let dir: string;
before(async () => {
  if (skip) return;
  smsc = await startNetSmppSmsc();
  dir = mkdtempSync(join(tmpdir(), "rapidsms-smpp-bulk-"));
});
after(async () => {
  await smsc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("10,000 messages through a bind that throttles for 5 s and drops once: all S or D, resent only what was unconfirmed", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const router = await createTestRouter({
    store: openStore(`sqlite:${join(dir, "bulk.db")}`),
    pipeline: { baseDelayMs: 200, maxDelayMs: 2_000 },
    backends: {
      smsc: {
        engine: SmppBackend,
        options: {
          host: "127.0.0.1",
          port: smsc.port,
          systemId: "rapidsms",
          password: "secret",
          sourceAddr: "CLINIC",
          window: 10,
          reconnectMs: 100,
          maxReconnectMs: 400,
        },
      },
    },
  });
  try {
    const backend = router.backends.get("smsc") as SmppBackend;
    const identities = Array.from({ length: RECIPIENTS }, (_, i) => `+2557${String(i).padStart(8, "0")}`);
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < RECIPIENTS; i += 1_000) {
      const connections = await router.connections(identities.slice(i, i + 1_000), "smsc");
      ids.push((await router.router.send(`bulk reminder ${i / 1_000}`, connections)).id);
    }
    const counts = () => backend.health().counts;
    while (counts().submitted < 3_000) await sleep(20);
    await smsc.throttle(5_000);
    while (counts().throttled === 0) await sleep(20);
    await sleep(5_000);
    while (counts().submitted < 6_000) await sleep(20);
    await smsc.dropAfter(1);
    await router.idle();
    const elapsed = Date.now() - started;

    const transmissions = (await Promise.all(ids.map((id) => router.store.getMessage(id)))).flatMap((m) => m?.transmissions ?? []);
    assert.equal(transmissions.length, RECIPIENTS);
    const byStatus = Object.groupBy(transmissions, (x) => x.status);
    assert.deepEqual(
      Object.keys(byStatus).sort(),
      Object.keys(byStatus)
        .filter((s) => s === "S" || s === "D")
        .sort(),
      `statuses: ${Object.keys(byStatus)}`,
    );

    // What reached the SMSC and was (or may have been) taken: answered 0, or never answered.
    const taken = (await smsc.submits()).filter((s) => s.status === 0 || s.status === null);
    const perDestination = new Map<string, number>();
    for (const s of taken) perDestination.set(s.destinationAddr, (perDestination.get(s.destinationAddr) ?? 0) + 1);
    assert.equal(perDestination.size, RECIPIENTS, "every recipient reached the SMSC");
    const twice = [...perDestination.values()].filter((n) => n > 1).length;
    const { resentUnconfirmed, abandoned, throttled } = counts();
    t.diagnostic(
      `${RECIPIENTS} in ${elapsed} ms; ${throttled} throttled answers; ${resentUnconfirmed} resent unconfirmed, ${abandoned} abandoned; ${twice} recipients reached the SMSC twice; D ${byStatus.D?.length ?? 0}, S ${byStatus.S?.length ?? 0}`,
    );
    assert.ok(throttled > 0, "the throttle was met");
    assert.ok(resentUnconfirmed > 0, "the drop cost the answers in flight");
    assert.ok(twice <= resentUnconfirmed + abandoned, `${twice} sent twice, ${resentUnconfirmed + abandoned} counted`);
    const retried = transmissions.filter((x) => x.attempts > 1);
    t.diagnostic(`${retried.length} retried: ${JSON.stringify(retried.slice(0, 3))}`);
    assert.ok(
      transmissions.every((x) => x.attempts === 1),
      "neither the throttle nor the drop was a failed attempt",
    );
  } finally {
    await router.close();
  }
});
