import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parse } from "csv-parse/sync";
import { KANNEL_PASSWORD, messageLogFixture, type MessageLogFixture } from "../../test/support/message-log-fixture.ts";

describe("the message log's API: filters, timeline, stats, CSV", () => {
  let f: MessageLogFixture;
  before(async () => {
    f = await messageLogFixture();
  });
  after(() => f?.close());
  const get = (path: string) => f.app.inject({ url: path });
  const ids = (body: { messages: { id: string }[] }) => body.messages.map((m) => m.id);

  test("GET /api/messages finds a text in any case, a number with or without +, a status, a direction", async () => {
    assert.deepEqual(ids((await get("/api/messages?text=PING")).json()), [f.ids.ping]);
    assert.deepEqual(ids((await get("/api/messages?identity=255700000001&direction=I")).json()), [f.ids.unhandled, f.ids.ping]);
    assert.deepEqual(ids((await get(`/api/messages?identity=${encodeURIComponent("+255700000002")}`)).json()), [f.ids.failed, f.ids.failing]);
    assert.deepEqual(ids((await get("/api/messages?status=E")).json()), [f.ids.failed]);
    assert.deepEqual(ids((await get("/api/messages?status=D&backend=kannel")).json()), [f.ids.pong]);
  });

  test("GET /api/messages takes a time range, and pages within it", async () => {
    const all = (await get("/api/messages")).json().messages as { id: string; createdAt: string }[];
    const oldest = all.at(-1)!;
    const newest = all[0];
    const since = encodeURIComponent(oldest.createdAt);
    assert.deepEqual(
      ids((await get(`/api/messages?since=${since}&until=${encodeURIComponent(newest.createdAt)}`)).json()).includes(newest.id),
      false,
      "until is exclusive",
    );
    const first = (await get(`/api/messages?since=${since}&limit=3`)).json();
    assert.equal(first.messages.length, 3);
    const rest = (await get(`/api/messages?since=${since}&limit=50&before=${first.next}`)).json();
    assert.deepEqual(
      [...ids(first), ...ids(rest)],
      all.map((m) => m.id),
    );
    assert.deepEqual(ids((await get("/api/messages?since=2099-01-01")).json()), []);
  });

  const refusals: [string, string, RegExp][] = [
    ["a time without its offset", "since=2026-12-01T08:00:00", /since: give since as an ISO 8601 date or time with its offset/],
    ["a time that is not one", "until=yesterday", /until: give until as an ISO 8601/],
    ["until before since", "since=2026-12-02&until=2026-12-01", /until: must be later than since/],
    ["a text search too long", `text=${"x".repeat(201)}`, /text: Too big/i],
    ["an unknown filter", "phone=1", /Unrecognized key/i],
    ["a NUL in the text (PostgreSQL cannot compare it)", "text=a%00b", /text: .*NUL/i],
  ];
  for (const [what, query, error] of refusals) {
    test(`GET /api/messages refuses ${what} with 400 and the field`, async () => {
      const response = await get(`/api/messages?${query}`);
      assert.equal(response.statusCode, 400);
      assert.match(response.json().error, error);
    });
  }

  test("GET /api/messages/<id> of an inbound message says when it was processed, which app handled it, and its replies", async () => {
    const ping = (await get(`/api/messages/${f.ids.ping}`)).json();
    assert.equal(ping.handledBy, "ping");
    assert.ok(ping.processedAt >= ping.createdAt);
    assert.deepEqual(
      ping.replies.map((r: { id: string; text: string; status: string }) => [r.id, r.text, r.status]),
      [[f.ids.pong, "pong", "D"]],
    );
    const unhandled = (await get(`/api/messages/${f.ids.unhandled}`)).json();
    assert.equal(unhandled.handledBy, null, "no app's handle took it");
    assert.equal(unhandled.replies.length, 1, "the default response answered it");
  });

  test("GET /api/messages/<id> of a reply has each attempt with its outcome and the gateway's answer, redacted, and the delivery report", async () => {
    const pong = (await get(`/api/messages/${f.ids.pong}`)).json();
    const [t] = pong.transmissions;
    assert.deepEqual([t.attemptLog.length, t.attemptLog[0].outcome], [1, "S"]);
    assert.match(t.attemptLog[0].answer, /^0: Accepted for delivery/);
    assert.doesNotMatch(JSON.stringify(pong), new RegExp(KANNEL_PASSWORD), "the password Kannel's answer echoed is redacted");
    assert.equal(f.gateway.params().filter((p) => p.get("password") === KANNEL_PASSWORD).length > 0, true, "it was sent, and echoed back");
    assert.deepEqual(
      t.deliveryReports.map((r: { status: string; detail: string }) => [r.status, r.detail]),
      [["D", "1 delivery success: DELIVRD"]],
    );
    const failed = (await get(`/api/messages/${f.ids.failed}`)).json();
    assert.deepEqual([failed.status, failed.transmissions[0].attemptLog[0].outcome], ["E", "E"]);
    assert.equal(failed.replies.length, 0, "an outbound message has no replies of its own");
  });

  test("GET /api/messages/stats counts the day's messages per hour and each backend's outcomes", async () => {
    const stats = (await get("/api/messages/stats")).json();
    const total = stats.hourly.reduce((n: { in: number; out: number }, h: { in: number; out: number }) => ({ in: n.in + h.in, out: n.out + h.out }), {
      in: 0,
      out: 0,
    });
    assert.deepEqual(total, { in: 4, out: 4 });
    assert.deepEqual(stats.backends, [{ backend: "kannel", delivered: 1, failed: 1, sent: 2, pending: 0 }]);
    assert.equal(Date.parse(stats.until) - Date.parse(stats.since), 24 * 60 * 60 * 1000);
    const again = (await get("/api/messages/stats")).json();
    assert.equal(again.until, stats.until, "counted once a minute at most, however many pages ask");
    const wide = await get("/api/messages/stats?since=2026-01-01&until=2026-02-01");
    assert.equal(wide.statusCode, 400);
    assert.match(wide.json().error, /since: the window is at most 7 days/);
  });

  test("GET /api/messages.csv exports the search, with a BOM, RFC 4180 quoting, and formulas defused", async () => {
    const response = await get("/api/messages.csv?identity=255700000003");
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/csv; charset=utf-8/);
    assert.match(String(response.headers["content-disposition"]), /^attachment; filename="messages-[\d-T]+\.csv"$/);
    assert.ok(response.body.startsWith("\uFEFFid,createdAt,direction,status,backend,identity,transmissionStatus,text,"));
    assert.match(response.body, /\r\n$/);
    const rows: Record<string, string>[] = parse(response.body, { bom: true, columns: true });
    assert.deepEqual(
      rows.map((r) => [r.id, r.direction, r.identity, r.text]),
      [
        [f.ids.formulaReply, "O", "255700000003", `'=HYPERLINK("http://evil.example","click"), "quoted"`],
        [f.ids.formula, "I", "255700000003", `echo =HYPERLINK("http://evil.example","click"), "quoted"`],
      ],
    );
    assert.equal(rows[1].handledBy, "echo");
    const all: Record<string, string>[] = parse((await get("/api/messages.csv")).body, { bom: true, columns: true });
    assert.equal(all.length, 8);
    assert.deepEqual(all.find((r) => r.id === f.ids.pong)!.identity, "'+255700000001", "a leading + is defused too: the number stays text");
    assert.equal((await get("/api/messages.csv?limit=100001")).statusCode, 400);
    assert.equal(parse((await get("/api/messages.csv?limit=2")).body, { bom: true, columns: true }).length, 2);
  });
});

describe("the message log's API with a bulk message (300 recipients)", () => {
  let f: MessageLogFixture;
  let bulk: string;
  const identities = Array.from({ length: 300 }, (_, i) => `2557${String(i).padStart(8, "0")}`);
  before(async () => {
    f = await messageLogFixture();
    const sent = await f.app.inject({ method: "POST", url: "/api/messages", payload: { backend: "kannel", identities, text: "news for all" } });
    assert.equal(sent.statusCode, 202);
    bulk = sent.json().id;
    await f.system.pipeline.idle();
  });
  after(() => f?.close());
  const get = (path: string) => f.app.inject({ url: path });

  test("GET /api/messages lists its first 20 recipients and counts all 300; a small message lists all of its own", async () => {
    const { messages } = (await get("/api/messages?limit=20")).json();
    const listed = messages.find((m: { id: string }) => m.id === bulk);
    assert.deepEqual(
      listed.transmissions.map((t: { identity: string }) => t.identity),
      identities.slice(0, 20),
    );
    assert.deepEqual(listed.recipients, { total: 300, Q: 0, R: 0, P: 0, S: 300, D: 0, E: 0 });
    const pong = messages.find((m: { id: string }) => m.id === f.ids.pong);
    assert.deepEqual([pong.transmissions.length, pong.recipients.total, pong.recipients.D], [1, 1, 1]);
  });

  test("GET /api/messages/<id> pages its recipients, each with its attempts, recipientsLimit at a time", async () => {
    const first = (await get(`/api/messages/${bulk}?recipientsLimit=20`)).json();
    assert.equal(first.recipients.total, 300);
    assert.deepEqual([first.transmissions.length, first.transmissions[0].attemptLog[0].outcome], [20, "S"]);
    const seen: string[] = first.transmissions.map((t: { identity: string }) => t.identity);
    let next = first.nextRecipients;
    while (next !== null) {
      const page = (await get(`/api/messages/${bulk}?recipientsLimit=20&recipientsAfter=${next}`)).json();
      seen.push(...page.transmissions.map((t: { identity: string }) => t.identity));
      next = page.nextRecipients;
    }
    assert.deepEqual(seen, identities);
    assert.equal((await get(`/api/messages/${bulk}`)).json().transmissions.length, 100, "100 by default");
    assert.equal((await get(`/api/messages/${f.ids.pong}`)).json().nextRecipients, null);
  });

  const refusals: [string, RegExp][] = [
    ["recipientsLimit=501", /recipientsLimit: Too big/i],
    ["recipientsLimit=0", /recipientsLimit: Too small/i],
    ["recipientsAfter=first", /recipientsAfter: .*number/i],
    ["recipientsAfter=99999999999", /recipientsAfter: Too big/i],
    ["page=2", /Unrecognized key/i],
  ];
  for (const [query, error] of refusals) {
    test(`GET /api/messages/<id>?${query} is refused with 400 and the field`, async () => {
      const response = await get(`/api/messages/${bulk}?${query}`);
      assert.equal(response.statusCode, 400);
      assert.match(response.json().error, error);
    });
  }

  test("GET /api/messages.csv has a row for each of its 300 recipients, or for the one a search names", async () => {
    const rows: Record<string, string>[] = parse((await get("/api/messages.csv?direction=O&text=news")).body, { bom: true, columns: true });
    assert.deepEqual(
      rows.map((r) => [r.id, r.identity, r.transmissionStatus]),
      identities.map((identity) => [bulk, identity, "S"]),
    );
    const one: Record<string, string>[] = parse((await get(`/api/messages.csv?identity=%2B${identities[250]}`)).body, { bom: true, columns: true });
    assert.deepEqual(
      one.map((r) => [r.id, r.identity]),
      [[bulk, identities[250]]],
    );
  });

  test("GET /api/messages/stats counts a window once for the minute it is in, and a count under way once however many windows are kept", async () => {
    const store = f.system.store;
    const counted = store.messageStats.bind(store);
    let counts = 0;
    store.messageStats = (args) => {
      counts++;
      return counted(args);
    };
    try {
      const base = Date.parse("2026-11-30T10:00:00.000Z");
      const window = (seconds: number) =>
        `since=${new Date(base + seconds * 1_000).toISOString()}&until=${new Date(base + 3_600_000 + seconds * 1_000).toISOString()}`;
      const first = (await get(`/api/messages/stats?${window(5)}`)).json();
      const again = (await get(`/api/messages/stats?${window(40)}`)).json();
      assert.deepEqual([counts, again], [1, first], "the same minute: counted once");
      assert.deepEqual([first.since, first.until], ["2026-11-30T10:00:00.000Z", "2026-11-30T11:01:00.000Z"], "to the whole minute, widened");
      for (let i = 1; i <= 16; i++)
        await get(`/api/messages/stats?since=2026-11-${String(i).padStart(2, "0")}&until=2026-11-${String(i + 1).padStart(2, "0")}`);
      counts = 0;
      const both = await Promise.all([0, 1].map(() => get("/api/messages/stats?since=2026-10-01&until=2026-10-02")));
      assert.deepEqual([counts, both.map((r) => r.statusCode)], [1, [200, 200]], "asked twice at once, counted once");
    } finally {
      store.messageStats = counted;
    }
  });
});
