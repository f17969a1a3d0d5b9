import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../messages/connection.ts";
import type { Claim, Store } from "./store.ts";
import { outgoing, sent, withFreshStore } from "./fresh-store.contract.ts";

/**
 * The webhook outbox every Store must keep (see WebhookStore): queue once, claim under leases
 * with fencing, retry, give up, replies queued with the S, and status events written by the
 * writes that change a message's transmissions.
 */
export function webhooksContract(name: string, open: () => Promise<Store>): void {
  const withStore = withFreshStore(open);

  const DAY = 24 * 60 * 60 * 1000;
  let claims = 0;
  const claim = (now = Date.now(), leaseMs = 1_000): Claim => ({ token: `hook#${++claims}`, until: now + leaseMs });
  const claimHooks = (store: Store, held: Claim, now?: number, limit = 10, maxAttempts = 5) => store.claimWebhooks({ claim: held, limit, maxAttempts, now });
  const inbound = async (store: Store, id: string): Promise<Connection> => {
    const [connection] = await store.lookupConnections({ backend: "http", identities: ["+15550001"] });
    await store.acceptIncoming({ message: { id, text: `text of ${id}`, fields: {}, connection }, dedupeWindowMs: DAY });
    return connection;
  };
  /** Every queued POST's body, by message, in the order a receiver gets them (each accepted at once). */
  const drain = async (store: Store) => {
    const seen = new Map<string, Record<string, unknown>[]>();
    for (;;) {
      const hooks = await claimHooks(store, claim());
      if (hooks.length === 0) return seen;
      for (const hook of hooks) {
        seen.set(hook.messageId, [...(seen.get(hook.messageId) ?? []), JSON.parse(hook.body)]);
        assert.equal((await store.completeWebhook({ id: hook.id, token: hook.token, status: "S", answerStatus: 200 })).applied, true);
      }
    }
  };
  const events = async (store: Store, messageId: string) => (await drain(store)).get(messageId) ?? [];

  test(`${name}: a forward is queued once per message and url, and claimed with its body`, () =>
    withStore(async (store) => {
      await inbound(store, "in-1");
      const first = await store.queueWebhook({ messageId: "in-1", url: "http://127.0.0.1:9/hook", body: '{"a":1}' });
      const again = await store.queueWebhook({ messageId: "in-1", url: "http://127.0.0.1:9/hook", body: '{"a":2}' });
      const other = await store.queueWebhook({ messageId: "in-1", url: "http://127.0.0.1:9/other", body: '{"a":3}' });
      assert.equal(first.duplicate, false);
      assert.deepEqual(again, { id: first.id, duplicate: true });
      assert.notEqual(other.id, first.id);
      const claimed = await claimHooks(store, claim());
      assert.deepEqual(
        claimed.map((h) => [h.id, h.kind, h.url, h.body, h.attempt]),
        [
          [first.id, "message", "http://127.0.0.1:9/hook", '{"a":1}', 1],
          [other.id, "message", "http://127.0.0.1:9/other", '{"a":3}', 1],
        ],
      );
      assert.deepEqual(await claimHooks(store, claim()), [], "claimed work is not handed out twice");
      const listed = await store.listWebhooks("in-1");
      assert.deepEqual(
        listed.map((h) => [h.kind, h.status, h.attempts]),
        [
          ["message", "P", 1],
          ["message", "P", 1],
        ],
      );
    }));

  test(`${name}: a retry waits for its time, a lost claim is fenced out, and a claim that ran out is taken again then given up`, () =>
    withStore(async (store) => {
      await inbound(store, "in-2");
      const { id } = await store.queueWebhook({ messageId: "in-2", url: "http://127.0.0.1:9/hook", body: "{}" });
      const now = Date.now();
      const [first] = await claimHooks(store, claim(now), now);
      const retryAt = now + 60_000;
      assert.equal(
        (await store.completeWebhook({ id, token: first.token, status: "Q", nextAttemptAt: retryAt, error: "HTTP 503", answerStatus: 503 })).applied,
        true,
      );
      assert.deepEqual(await claimHooks(store, claim(now), now + 1_000), [], "not before its retry time");
      const [listed] = await store.listWebhooks("in-2");
      assert.deepEqual([listed.status, listed.nextAttemptAt, listed.error, listed.answerStatus], ["Q", retryAt, "HTTP 503", 503]);
      const [second] = await claimHooks(store, claim(retryAt, 1_000), retryAt);
      assert.equal(second.attempt, 2);
      // Its worker hangs; the lease runs out and another takes it.
      const [third] = await claimHooks(store, claim(retryAt + 5_000), retryAt + 5_000);
      assert.equal(third.attempt, 3);
      assert.deepEqual(await store.completeWebhook({ id, token: second.token, status: "S" }), { applied: false, queued: [] });
      assert.equal((await store.listWebhooks("in-2"))[0].status, "P");
      // The last one hangs too, with every try spent: given up.
      assert.deepEqual(await claimHooks(store, claim(retryAt + 10_000), retryAt + 10_000, 10, 3), []);
      const [gaveUp] = await store.listWebhooks("in-2");
      assert.equal(gaveUp.status, "E");
      assert.match(gaveUp.error ?? "", /gave up after 3 attempts/);
    }));

  test(`${name}: renewing keeps a claim, releasing gives it back without counting the attempt`, () =>
    withStore(async (store) => {
      await inbound(store, "in-3");
      await store.queueWebhook({ messageId: "in-3", url: "http://127.0.0.1:9/hook", body: "{}" });
      const now = Date.now();
      const held = claim(now, 1_000);
      await claimHooks(store, held, now);
      await store.renewClaims({ tokens: [held.token], until: now + 60_000 });
      assert.deepEqual(await claimHooks(store, claim(now + 5_000), now + 5_000), [], "renewed: not taken over");
      await store.releaseClaims({ tokens: [held.token] });
      const [again] = await claimHooks(store, claim(now + 5_000), now + 5_000);
      assert.equal(again.attempt, 1);
    }));

  test(`${name}: replies answered by the receiver are queued with the S, and not when the claim was lost`, () =>
    withStore(async (store) => {
      const connection = await inbound(store, "in-4");
      const { id } = await store.queueWebhook({ messageId: "in-4", url: "http://127.0.0.1:9/hook", body: "{}" });
      const now = Date.now();
      const [stale] = await claimHooks(store, claim(now, 10), now);
      const [current] = await claimHooks(store, claim(now + 100), now + 100);
      const reply = outgoing("reply-4", [connection], { inResponseTo: "in-4", priority: 1 });
      const lost = await store.completeWebhook({ id, token: stale.token, status: "S", replies: [outgoing("reply-lost", [connection])] });
      assert.deepEqual(lost, { applied: false, queued: [] });
      assert.equal(await store.getMessage("reply-lost"), undefined);
      const done = await store.completeWebhook({ id, token: current.token, status: "S", answerStatus: 200, replies: [reply] });
      assert.deepEqual(done, { applied: true, queued: [{ messageId: "reply-4", backend: "http", priority: 1 }] });
      const stored = await store.getMessage("reply-4");
      assert.equal(stored?.inResponseTo, "in-4");
      assert.deepEqual(
        stored?.transmissions.map((t) => [t.identity, t.status]),
        [["+15550001", "Q"]],
      );
      assert.equal((await store.listWebhooks("in-4"))[0].status, "S");
    }));

  test(`${name}: a claim with a kind takes only POSTs of that kind, expired claims included`, () =>
    withStore(async (store) => {
      const now = Date.now();
      await inbound(store, "in-kind");
      const forward = await store.queueWebhook({ messageId: "in-kind", url: "http://127.0.0.1:9/hook", body: "{}", now });
      const [connection] = await store.lookupConnections({ backend: "http", identities: ["+15550002"] });
      await store.enqueueOutgoing({ message: outgoing("out-kind", [connection], { eventUrl: "https://r.example/e" }) });
      const statuses = await store.claimWebhooks({ claim: claim(now), limit: 10, maxAttempts: 5, kind: "status", now });
      assert.deepEqual(
        statuses.map((h) => [h.kind, h.messageId]),
        [["status", "out-kind"]],
      );
      assert.deepEqual(await store.claimWebhooks({ claim: claim(now), limit: 10, maxAttempts: 5, kind: "status", now }), []);
      const messages = await store.claimWebhooks({ claim: claim(now, 10), limit: 10, maxAttempts: 5, kind: "message", now });
      assert.deepEqual(
        messages.map((h) => [h.kind, h.id]),
        [["message", forward.id]],
      );
      const later = now + 1_000;
      assert.deepEqual(
        (await store.claimWebhooks({ claim: claim(later), limit: 10, maxAttempts: 5, kind: "message", now: later })).map((h) => [h.id, h.attempt]),
        [[forward.id, 2]],
        "the message forward whose claim ran out, not the status event's still held",
      );
    }));

  test(`${name}: a message with an eventUrl gets an event per status change, in order: queued, retry, sent, delivered`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      const url = "https://receiver.example/events";
      await store.enqueueOutgoing({ message: outgoing("out-1", connections, { eventUrl: url }) });
      const now = Date.now();
      const held = claim(now);
      const [a, b] = await store.claimTransmissions({ claim: held, limit: 10, maxAttempts: 5, now });
      const retryAt = now + 30_000;
      await store.recordAttempts({ outcomes: [sent(a, { externalId: "gw-a" }), sent(b, { status: "Q", nextAttemptAt: retryAt, error: "gateway down" })] });
      await store.reportDelivery({ ref: { backend: "kannel", externalId: "gw-a" }, report: { status: "D" } });
      // Recorded again (a report with the same content): no new event.
      await store.reportDelivery({ ref: { backend: "kannel", externalId: "gw-a" }, report: { status: "D" } });
      const seen = await events(store, "out-1");
      assert.deepEqual(
        seen.map((e) => [e.event, e.identity, e.status, e.error, e.retryAt ?? null, e.backend]),
        [
          ["status", "111", "queued", null, null, "kannel"],
          ["status", "222", "queued", null, null, "kannel"],
          ["status", "111", "sent", null, null, "kannel"],
          ["status", "222", "queued", "gateway down", new Date(retryAt).toISOString(), "kannel"],
          ["status", "111", "delivered", null, null, "kannel"],
        ],
      );
      assert.ok(seen.every((e) => e.messageId === "out-1" && typeof e.at === "string" && typeof e.transmissionId === "number"));
      assert.deepEqual(
        (await store.listWebhooks("out-1")).map((h) => [h.kind, h.url, h.status]),
        seen.map(() => ["status", url, "S"]),
      );
    }));

  test(`${name}: a send's answer after a delivery report that overtook it adds no second delivered event`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
      await store.enqueueOutgoing({ message: outgoing("out-6", connections, { eventUrl: "https://r.example/e" }) });
      const now = Date.now();
      const [t] = await store.claimTransmissions({ claim: claim(now), limit: 1, maxAttempts: 5, now });
      await store.reportDelivery({ ref: { backend: "kannel", messageId: "out-6", identity: "111" }, report: { status: "D" } });
      await store.recordAttempts({ outcomes: [sent(t, { externalId: "gw-6" })] });
      assert.deepEqual(
        (await events(store, "out-6")).map((e) => e.status),
        ["queued", "delivered"],
      );
    }));

  test(`${name}: a status event waits for its recipient's earlier ones, which other recipients' and messages' do not`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111", "222"] });
      await store.enqueueOutgoing({ message: outgoing("out-2", connections, { eventUrl: "https://r.example/e" }) });
      await store.enqueueOutgoing({ message: outgoing("out-3", connections.slice(0, 1), { eventUrl: "https://r.example/e" }) });
      const now = Date.now();
      const transmissions = await store.claimTransmissions({ claim: claim(now), limit: 10, maxAttempts: 5, now });
      await store.recordAttempts({ outcomes: transmissions.map((t) => sent(t, { status: "E", error: "refused" })) });
      const shown = (hooks: { messageId: string; body: string }[]) =>
        hooks.map((h) => [h.messageId, JSON.parse(h.body).identity, JSON.parse(h.body).status]).sort((a, b) => a.join().localeCompare(b.join()));
      const first = await claimHooks(store, claim(now), now);
      assert.deepEqual(shown(first), [
        ["out-2", "111", "queued"],
        ["out-2", "222", "queued"],
        ["out-3", "111", "queued"],
      ]);
      for (const hook of first) {
        const to111 = hook.messageId === "out-2" && JSON.parse(hook.body).identity === "111";
        await store.completeWebhook(
          to111
            ? { id: hook.id, token: hook.token, status: "Q", nextAttemptAt: now + 1_000, error: "HTTP 500" }
            : { id: hook.id, token: hook.token, status: "S" },
        );
      }
      assert.deepEqual(
        shown(await claimHooks(store, claim(now), now)),
        [
          ["out-2", "222", "failed"],
          ["out-3", "111", "failed"],
        ],
        "out-2's failed event to 111 waits for its queued event's retry",
      );
      assert.deepEqual(shown(await claimHooks(store, claim(now + 1_000), now + 1_000)), [["out-2", "111", "queued"]]);
    }));

  test(`${name}: a transmission given up at a claim's end and a failure report become failed events; messages without eventUrl get none`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["111"] });
      await store.enqueueOutgoing({ message: outgoing("out-4", connections, { eventUrl: "https://r.example/e" }) });
      await store.enqueueOutgoing({ message: outgoing("out-5", connections, { eventUrl: "https://r.example/e" }) });
      await store.enqueueOutgoing({ message: outgoing("plain", connections) });
      const now = Date.now();
      const [t4] = await store.claimTransmissions({ claim: claim(now, 10), limit: 1, maxAttempts: 1, now, only: { messageId: "out-4", backend: "kannel" } });
      assert.ok(t4);
      // Its worker died: the next claim gives it up.
      await store.claimTransmissions({ claim: claim(now + 100), limit: 1, maxAttempts: 1, now: now + 100, only: { messageId: "out-4", backend: "kannel" } });
      const [t5] = await store.claimTransmissions({ claim: claim(now), limit: 1, maxAttempts: 5, now, only: { messageId: "out-5", backend: "kannel" } });
      await store.recordAttempts({ outcomes: [sent(t5, { externalId: "gw-5" })] });
      await store.reportDelivery({ ref: { backend: "kannel", externalId: "gw-5" }, report: { status: "E", detail: "absent subscriber" } });
      const [plain] = await store.claimTransmissions({ claim: claim(now), limit: 1, maxAttempts: 5, now, only: { messageId: "plain", backend: "kannel" } });
      await store.recordAttempts({ outcomes: [sent(plain)] });
      const seen = await drain(store);
      assert.deepEqual(
        seen.get("out-4")?.map((e) => [e.status, e.error]),
        [
          ["queued", null],
          ["failed", "gave up after 1 attempts: the last claim ran out before its send was recorded (the worker died or hung)"],
        ],
      );
      assert.deepEqual(
        seen.get("out-5")?.map((e) => [e.status, e.error]),
        [
          ["queued", null],
          ["sent", null],
          ["failed", "absent subscriber"],
        ],
      );
      assert.equal(seen.has("plain"), false);
      assert.deepEqual(await store.listWebhooks("plain"), []);
    }));

  test(`${name}: cancelling a scheduled message with an eventUrl posts a failed event with error cancelled for each recipient still queued`, () =>
    withStore(async (store) => {
      const connections = await store.lookupConnections({ backend: "kannel", identities: ["333", "444"] });
      await store.enqueueOutgoing({
        message: outgoing("later", connections, { eventUrl: "https://receiver.example/events", notBefore: Date.now() + 3_600_000 }),
      });
      const result = await store.cancelOutgoing({ id: "later" });
      assert.equal(typeof result === "object" && result.cancelled, 2);
      const seen = await events(store, "later");
      assert.deepEqual(
        seen.map((e) => [e.identity, e.status, e.error]),
        [
          ["333", "queued", null],
          ["444", "queued", null],
          ["333", "failed", "cancelled"],
          ["444", "failed", "cancelled"],
        ],
      );
    }));
}
