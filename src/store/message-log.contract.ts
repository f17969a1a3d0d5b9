import assert from "node:assert/strict";
import { test } from "node:test";
import type { Connection } from "../messages/connection.ts";
import { LISTED_TRANSMISSIONS, type Store } from "./store.ts";
import { withFreshStore } from "./fresh-store.contract.ts";

/** What the message log (`/messages/`, `GET /api/messages` filters and stats) needs of every Store. */
export function messageLogContract(name: string, open: () => Promise<Store>): void {
  const withStore = withFreshStore(open);
  const DAY = 24 * 60 * 60 * 1000;
  let claims = 0;
  const claim = () => ({ token: `log#${++claims}`, until: Date.now() + 60_000 });
  const accept = (store: Store, id: string, connection: Connection, text: string, now?: number) =>
    store.acceptIncoming({ message: { id, text, fields: {}, connection }, dedupeWindowMs: DAY, now });
  const send = (store: Store, id: string, connections: Connection[], text = `text of ${id}`) =>
    store.enqueueOutgoing({ message: { id, text, fields: {}, context: {}, inResponseTo: null, connections } });
  const ids = (records: { id: string }[]) => records.map((r) => r.id);

  test(`${name}: listMessages finds a text case-insensitively, and % _ \\ in it are plain characters`, () =>
    withStore(async (store) => {
      const [phone] = await store.lookupConnections({ backend: "http", identities: ["111"] });
      const texts = { a: "Hello World", b: "hello there", c: "100% sure", d: "1000 sure", e: "a_b", f: "axb", g: "back\\slash", h: "goodbye" };
      let at = Date.parse("2026-01-01T00:00:00.000Z");
      for (const [id, text] of Object.entries(texts)) await accept(store, id, phone, text, (at += 1_000));
      assert.deepEqual(ids(await store.listMessages({ text: "HELLO" })), ["b", "a"], "newest first, either case");
      assert.deepEqual(ids(await store.listMessages({ text: "0%" })), ["c"]);
      assert.deepEqual(ids(await store.listMessages({ text: "a_b" })), ["e"]);
      assert.deepEqual(ids(await store.listMessages({ text: "k\\s" })), ["g"]);
      assert.deepEqual(ids(await store.listMessages({ text: "nowhere" })), []);
      assert.deepEqual(ids(await store.listMessages({ text: "sure", limit: 1 })), ["d"], "bounded by limit");
    }));

  test(`${name}: searchMessages looks for a text in scanLimit messages at most, and says where to go on from`, () =>
    withStore(async (store) => {
      const [phone] = await store.lookupConnections({ backend: "http", identities: ["211"] });
      const start = Date.parse("2026-02-01T00:00:00.000Z");
      for (let i = 0; i < 6; i++) await accept(store, `s${i}`, phone, i === 0 || i === 4 ? "needle" : "hay", start + i * 1_000);
      const first = await store.searchMessages({ text: "needle", limit: 10, scanLimit: 3 });
      assert.deepEqual([ids(first.messages), first.scannedTo], [["s4"], "s3"], "s5, s4, s3 looked through");
      const second = await store.searchMessages({ text: "needle", limit: 10, scanLimit: 3, before: first.scannedTo! });
      assert.deepEqual([ids(second.messages), second.scannedTo], [["s0"], "s0"]);
      const last = await store.searchMessages({ text: "needle", limit: 10, scanLimit: 3, before: second.scannedTo! });
      assert.deepEqual([ids(last.messages), last.scannedTo], [[], null], "nothing older: the search is over");
      const full = await store.searchMessages({ text: "a", limit: 2, scanLimit: 3 });
      assert.deepEqual([ids(full.messages), full.scannedTo], [["s5", "s3"], null], "a page that fills up goes on from its last message");
      const all = await store.searchMessages({ text: "needle", limit: 10, scanLimit: 100 });
      assert.deepEqual([ids(all.messages), all.scannedTo], [["s4", "s0"], null], "fewer messages than the limit: all looked through");
      const plain = await store.searchMessages({ limit: 10, scanLimit: 3 });
      assert.deepEqual([plain.messages.length, plain.scannedTo], [6, null], "without a text nothing is scanned");
      const ranged = await store.searchMessages({ text: "needle", limit: 10, scanLimit: 2, until: new Date(start + 4_500).toISOString() });
      assert.deepEqual([ids(ranged.messages), ranged.scannedTo], [["s4"], "s3"], "the scan starts at the end of the range");
    }));

  test(`${name}: listMessages takes a time range on createdAt (since inclusive, until exclusive), with keyset paging`, () =>
    withStore(async (store) => {
      const [phone] = await store.lookupConnections({ backend: "http", identities: ["222"] });
      const start = Date.parse("2026-03-01T10:00:00.000Z");
      for (let i = 0; i < 6; i++) await accept(store, `m${i}`, phone, `message ${i}`, start + i * 60_000);
      const since = new Date(start + 60_000).toISOString();
      const until = new Date(start + 5 * 60_000).toISOString();
      assert.deepEqual(ids(await store.listMessages({ since, until })), ["m4", "m3", "m2", "m1"]);
      const first = await store.listMessages({ since, until, limit: 2 });
      assert.deepEqual(ids(first), ["m4", "m3"]);
      assert.deepEqual(ids(await store.listMessages({ since, until, limit: 2, before: first[1].id })), ["m2", "m1"]);
      assert.deepEqual(ids(await store.listMessages({ since: new Date(start + 10 * 60_000).toISOString() })), []);
    }));

  test(`${name}: listMessages finds a phone number with or without its +, on every backend or on one`, () =>
    withStore(async (store) => {
      const [plus] = await store.lookupConnections({ backend: "http", identities: ["+255700000001"] });
      const [bare] = await store.lookupConnections({ backend: "kannel", identities: ["255700000001"] });
      const [other] = await store.lookupConnections({ backend: "http", identities: ["255700000002"] });
      const start = Date.parse("2026-04-01T00:00:00.000Z");
      await accept(store, "plus", plus, "a", start);
      await accept(store, "bare", bare, "b", start + 1);
      await accept(store, "other", other, "c", start + 2);
      await send(store, "reply", [bare, other]);
      assert.deepEqual(ids(await store.listMessages({ identity: "255700000001" })), ["reply", "bare", "plus"]);
      assert.deepEqual(ids(await store.listMessages({ identity: "+255700000001" })), ["reply", "bare", "plus"]);
      assert.deepEqual(ids(await store.listMessages({ identity: "255700000001", backend: "http" })), ["plus"]);
      assert.deepEqual(ids(await store.listMessages({ identity: "25570000000" })), [], "a number is matched whole");
      assert.deepEqual(ids(await store.listMessages({ backend: "kannel", direction: "O" })), ["reply"]);
      assert.deepEqual(ids(await store.listMessages({ identity: "255700000002", direction: "I", status: "Q" })), ["other"]);
    }));

  test(`${name}: completeIncoming records which app handled the message and when it was processed`, () =>
    withStore(async (store) => {
      const [phone] = await store.lookupConnections({ backend: "http", identities: ["333"] });
      await accept(store, "handled", phone, "ping");
      await accept(store, "unhandled", phone, "??");
      const [first, second] = await store.claimIncoming({ claim: claim(), limit: 10, maxAttempts: 5 });
      const before = new Date().toISOString();
      await store.completeIncoming({ id: first.id, token: first.token, replies: [], handledBy: "ping" });
      await store.completeIncoming({ id: second.id, token: second.token, replies: [] });
      const handled = await store.getMessage("handled");
      assert.equal(handled?.handledBy, "ping");
      assert.ok(handled?.processedAt && handled.processedAt >= before, `processedAt ${handled?.processedAt} is the completion's time`);
      const unhandled = await store.getMessage("unhandled");
      assert.equal(unhandled?.handledBy, null);
      assert.ok(unhandled?.processedAt);
      await accept(store, "waiting", phone, "later");
      assert.deepEqual([(await store.getMessage("waiting"))?.handledBy, (await store.getMessage("waiting"))?.processedAt], [null, null]);
    }));

  test(`${name}: messageStats counts messages per hour by direction, and outbound transmissions per backend by outcome`, () =>
    withStore(async (store) => {
      const [a, b] = await store.lookupConnections({ backend: "http", identities: ["401", "402"] });
      const [k] = await store.lookupConnections({ backend: "kannel", identities: ["403"] });
      const now = Date.now();
      const hourOf = (ms: number) => `${new Date(ms).toISOString().slice(0, 13)}:00:00.000Z`;
      await accept(store, "old", a, "two hours ago", now - 2 * 60 * 60_000);
      await accept(store, "in1", a, "x", now - 1_000);
      await accept(store, "in2", b, "y", now - 500);
      await accept(store, "ancient", a, "out of the window", now - 3 * DAY);
      await send(store, "out1", [a, b, k]);
      await send(store, "out2", [a]);
      const held = await store.claimTransmissions({ claim: claim(), limit: 10, maxAttempts: 5 });
      const outcome = (backend: string, identity: string, messageId: string) =>
        held.find((t) => t.backend === backend && t.identity === identity && t.messageId === messageId)!;
      const sentA = outcome("http", "401", "out1");
      const failedB = outcome("http", "402", "out1");
      const sentK = outcome("kannel", "403", "out1");
      const pending = outcome("http", "401", "out2");
      await store.recordAttempts({
        outcomes: [
          { transmissionId: sentA.id, token: sentA.token, attempt: 1, status: "S", durationMs: 5 },
          { transmissionId: failedB.id, token: failedB.token, attempt: 1, status: "E", error: "refused", durationMs: 5 },
          { transmissionId: sentK.id, token: sentK.token, attempt: 1, status: "S", durationMs: 5 },
          { transmissionId: pending.id, token: pending.token, attempt: 1, status: "Q", nextAttemptAt: now + 60_000, durationMs: 5 },
        ],
      });
      await store.reportDelivery({ ref: { transmissionId: sentA.id }, report: { status: "D" } });
      const until = new Date(now + 60_000).toISOString();
      const stats = await store.messageStats({ since: new Date(now - DAY).toISOString(), until });
      const expectedHours = new Map<string, { in: number; out: number }>();
      const add = (ms: number, direction: "in" | "out") => {
        const counts = expectedHours.get(hourOf(ms)) ?? { in: 0, out: 0 };
        counts[direction] += 1;
        expectedHours.set(hourOf(ms), counts);
      };
      add(now - 2 * 60 * 60_000, "in");
      add(now - 1_000, "in");
      add(now - 500, "in");
      const outHour = hourOf(Date.parse((await store.getMessage("out1"))!.createdAt));
      add(Date.parse(`${outHour.slice(0, 13)}:30:00.000Z`), "out");
      add(Date.parse(`${hourOf(Date.parse((await store.getMessage("out2"))!.createdAt)).slice(0, 13)}:30:00.000Z`), "out");
      assert.deepEqual(
        stats.hourly,
        [...expectedHours].map(([hour, counts]) => ({ hour, ...counts })).sort((x, y) => x.hour.localeCompare(y.hour)),
      );
      assert.deepEqual(stats.backends, [
        { backend: "http", delivered: 1, failed: 1, sent: 0, pending: 1 },
        { backend: "kannel", delivered: 0, failed: 0, sent: 1, pending: 0 },
      ]);
      const empty = await store.messageStats({ since: new Date(now + DAY).toISOString(), until: new Date(now + 2 * DAY).toISOString() });
      assert.deepEqual([empty.hourly, empty.backends], [[], []]);
    }));

  test(`${name}: a listed bulk message carries its first ${LISTED_TRANSMISSIONS} recipients and counts them all; its detail pages them`, () =>
    withStore(async (store) => {
      const identities = Array.from({ length: 300 }, (_, i) => `2556${String(i).padStart(8, "0")}`);
      const phones = await store.lookupConnections({ backend: "kannel", identities });
      const [other] = await store.lookupConnections({ backend: "http", identities: ["999"] });
      await send(store, "bulk", [...phones, other]);
      await send(store, "small", phones.slice(0, 2));
      const claimed = (await store.claimTransmissions({ claim: claim(), limit: 500, maxAttempts: 5 })).filter((t) => t.messageId === "bulk");
      const failed = claimed.filter((t) => t.identity.endsWith("7"));
      await store.recordAttempts({
        outcomes: claimed.map((t) => ({
          transmissionId: t.id,
          token: t.token,
          attempt: 1,
          durationMs: 3,
          ...(t.identity.endsWith("7") ? { status: "E" as const, error: "refused" } : { status: "S" as const }),
        })),
      });
      const all = (await store.getMessage("bulk"))!.transmissions;
      assert.equal(all.length, 301, "getMessage still reads every recipient");
      const { messages } = await store.searchMessages({ limit: 10, scanLimit: 100 });
      const [bulk, small] = [messages.find((m) => m.id === "bulk")!, messages.find((m) => m.id === "small")!];
      assert.deepEqual(
        bulk.transmissions.map((t) => t.id),
        all.slice(0, LISTED_TRANSMISSIONS).map((t) => t.id),
        "the first by id",
      );
      assert.deepEqual(bulk.recipients, { total: 301, Q: 0, R: 0, P: 0, S: 301 - failed.length, D: 0, E: failed.length });
      assert.deepEqual([small.transmissions.length, small.recipients.total, small.recipients.P], [2, 2, 2], "a small message lists every recipient");
      assert.equal((await store.listMessages({ limit: 10 })).find((m) => m.id === "bulk")!.transmissions.length, LISTED_TRANSMISSIONS);

      const seen: number[] = [];
      let after: number | undefined;
      let pages = 0;
      for (;;) {
        const detail = (await store.getMessageDetail({ id: "bulk", recipientsAfter: after, recipientsLimit: 20 }))!;
        assert.equal(detail.recipients.total, 301);
        assert.ok(detail.transmissions.length <= 20);
        for (const t of detail.transmissions) {
          assert.deepEqual(
            t.attemptLog.map((a) => [a.attempt, a.outcome, a.error]),
            [[1, t.identity.endsWith("7") ? "E" : "S", t.identity.endsWith("7") ? "refused" : null]],
          );
          seen.push(t.id);
        }
        pages++;
        if (detail.nextRecipients === null) break;
        assert.equal(detail.nextRecipients, detail.transmissions.at(-1)!.id);
        after = detail.nextRecipients;
      }
      assert.deepEqual([seen, pages], [all.map((t) => t.id), 16], "every recipient once, in id order, 20 a page");
      assert.equal(await store.getMessageDetail({ id: "nowhere", recipientsLimit: 20 }), undefined);

      const slice = await store.messageRecipients({ messageId: "bulk", after: all[9].id, limit: 5 });
      assert.deepEqual(
        slice.map((t) => t.id),
        all.slice(10, 15).map((t) => t.id),
      );
      assert.deepEqual(
        (await store.messageRecipients({ messageId: "bulk", limit: 500, backend: "http" })).map((t) => t.identity),
        ["999"],
      );
      assert.deepEqual(
        (await store.messageRecipients({ messageId: "bulk", limit: 500, identity: `+${identities[42]}` })).map((t) => t.identity),
        [identities[42]],
      );
    }));

  test(`${name}: searchMessages bounds a status without a direction, and a backend, to scanLimit messages; a direction (and its status) is not bounded`, () =>
    withStore(async (store) => {
      const [phone] = await store.lookupConnections({ backend: "http", identities: ["611"] });
      const [rare] = await store.lookupConnections({ backend: "rare", identities: ["612"] });
      const start = Date.parse("2026-05-01T00:00:00.000Z");
      // b0 oldest .. b5 newest, inbound (Q); r1 and r4 through the rare backend.
      for (let i = 0; i < 6; i++) await accept(store, `b${i}`, i === 1 || i === 4 ? rare : phone, `text ${i}`, start + i * 1_000);
      const page = (query: Parameters<Store["searchMessages"]>[0]) => store.searchMessages(query).then((r) => [ids(r.messages), r.scannedTo]);
      assert.deepEqual(await page({ backend: "rare", limit: 10, scanLimit: 3 }), [["b4"], "b3"], "b5, b4, b3 looked through");
      assert.deepEqual(await page({ backend: "rare", limit: 10, scanLimit: 3, before: "b3" }), [["b1"], "b0"]);
      assert.deepEqual(await page({ backend: "rare", limit: 10, scanLimit: 3, before: "b0" }), [[], null], "nothing older: the search is over");
      assert.deepEqual(await page({ backend: "rare", limit: 1, scanLimit: 3 }), [["b4"], null], "a page that fills up goes on from its last message");
      assert.deepEqual(await page({ status: "Q", limit: 10, scanLimit: 4 }), [["b5", "b4", "b3", "b2"], "b2"]);
      assert.deepEqual(await page({ status: "Q", backend: "rare", limit: 10, scanLimit: 2 }), [["b4"], "b4"]);
      assert.deepEqual(await page({ direction: "I", limit: 10, scanLimit: 2 }), [["b5", "b4", "b3", "b2", "b1", "b0"], null], "a direction is served in order");
      assert.deepEqual(
        await page({ direction: "I", status: "Q", limit: 10, scanLimit: 2 }),
        [["b5", "b4", "b3", "b2", "b1", "b0"], null],
        "so is a direction with a status",
      );
      assert.deepEqual(await page({ direction: "I", backend: "rare", limit: 10, scanLimit: 3 }), [["b4"], "b3"], "the scan walks the direction");
      assert.deepEqual(await page({ backend: "rare", identity: "612", limit: 10, scanLimit: 1 }), [["b4", "b1"], null], "a number narrows it first");
      await send(store, "o1", [phone]);
      assert.deepEqual(await page({ direction: "O", backend: "http", limit: 10, scanLimit: 2 }), [["o1"], null], "one outbound message: all looked through");
    }));
}
