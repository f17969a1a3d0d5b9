// What a hostile client or an odd gateway sends, through the real server, on both production
// stores: each input gets a clear 4xx (never a 5xx), and delivery reports land where they belong.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../src/config/resolve.ts";
import { createServer } from "../src/server/server.ts";
import { createSystem, type System } from "../src/system.ts";
import { FakeGateway } from "./support/fake-gateway.ts";
import { productionStores } from "./support/production-stores.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const JSON_TYPE = { "content-type": "application/json" };
const LONG = "7".repeat(3_000);

function vumiMessage(fields: Record<string, unknown>) {
  return { message_id: "m-1", from_addr: "255700000001", to_addr: "15555", content: "hi", transport_name: "sms_transport", transport_type: "sms", ...fields };
}

const stores = productionStores("hostile");

for (const store of stores) {
  describe(`hostile input on ${store.name}`, { skip: store.skip }, () => {
    const kannel = new FakeGateway();
    const vumi = new FakeGateway();
    let system: System;
    let app: FastifyInstance;

    before(async () => {
      await Promise.all([kannel.listen(), vumi.listen()]);
      const sendsms = { sendsmsUrl: `${kannel.url}/cgi-bin/sendsms`, deliveryReportUrl: "http://127.0.0.1:8000" };
      const config = await resolveConfig({
        installedBackends: {
          "kannel-a": { engine: "kannel", ...sendsms },
          "kannel-b": { engine: "kannel", ...sendsms },
          vumi: { engine: "vumi", sendsmsUrl: `${vumi.url}/send` },
          http: { engine: "http" },
        },
        apps: [],
        database: await store.database(),
        pipeline: { pollMs: 20, baseDelayMs: 10, maxDelayMs: 20 },
      });
      system = await createSystem(config);
      app = await createServer(system);
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await system?.close();
      await Promise.all([kannel.close(), vumi.close()]);
    });

    /** Sends `text` through the API and waits until every transmission is out. */
    async function sent(backend: string, identities: string[], text = "hello") {
      const response = await app.inject({ method: "POST", url: "/api/messages", payload: { backend, identities, text } });
      assert.equal(response.statusCode, 202, response.body);
      const { id } = response.json() as { id: string };
      await system.pipeline.idle();
      const message = await system.store.getMessage(id);
      assert.ok(message);
      return message;
    }

    const refused: [string, () => Promise<{ statusCode: number; body: string }>, RegExp][] = [
      [
        "a NUL in a Kannel text",
        () => app.inject({ url: "/backend/kannel-a/?id=255700000001&text=a%00b" }),
        /^form failed to validate\ntext: Null characters are not allowed/,
      ],
      [
        "a NUL in an API text",
        () => app.inject({ method: "POST", url: "/api/messages", payload: { backend: "http", identities: ["1"], text: "a\u0000b" } }),
        /text: Null characters are not allowed/,
      ],
      [
        "a 3,000-character identity to Kannel",
        () => app.inject({ url: `/backend/kannel-a/?id=${LONG}&text=hi` }),
        /form failed to validate\nid: .*100 characters/,
      ],
      [
        "a 3,000-character identity to the API",
        () => app.inject({ method: "POST", url: "/api/messages", payload: { backend: "http", identities: [LONG], text: "hi" } }),
        /identities.*100 characters/,
      ],
      [
        "a 3,000-character Vumi message_id",
        () => app.inject({ method: "POST", url: "/backend/vumi/", headers: JSON_TYPE, payload: vumiMessage({ message_id: LONG }) }),
        /form failed to validate\nmessage_id: .*255 characters/,
      ],
      [
        "an identity with a control character to Kannel",
        () => app.inject({ url: "/backend/kannel-a/?id=2557%0A0001&text=hi" }),
        /form failed to validate\nid: /,
      ],
      [
        "an identity with a space to the API, for Kannel",
        () => app.inject({ method: "POST", url: "/api/messages", payload: { backend: "kannel-a", identities: ["2557 0001"], text: "hi" } }),
        /identities\.0: Not an identity this backend can send to: expected a number or address without spaces/,
      ],
      ["caf%E9 declared UTF-8, by GET", () => app.inject({ url: "/backend/http/?identity=1&text=caf%E9&charset=UTF-8" }), /form failed to validate\n.*UTF-8/],
      [
        "caf%E9 declared UTF-8, by POST",
        () =>
          app.inject({
            method: "POST",
            url: "/backend/http/",
            headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
            payload: "identity=1&text=caf%E9",
          }),
        /form failed to validate\n.*UTF-8/,
      ],
      ["caf%E9 declared UTF-8, to Kannel", () => app.inject({ url: "/backend/kannel-a/?id=1&text=caf%E9&charset=UTF-8" }), /form failed to validate\n/],
      [
        "a Vumi body that is not JSON",
        () => app.inject({ method: "POST", url: "/backend/vumi/", headers: JSON_TYPE, payload: '{"message_id": "m-2",' }),
        /^form failed to validate\n/,
      ],
    ];
    for (const [name, request, reason] of refused) {
      test(`400 with the reason, stored nowhere: ${name}`, async () => {
        const before = (await system.store.listMessages({ direction: "I" })).length;
        const response = await request();
        assert.equal(response.statusCode, 400, response.body);
        assert.match(response.body, reason);
        assert.equal((await system.store.listMessages({ direction: "I" })).length, before);
      });
    }

    test("a sender id with a space (MY BANK) writes in through Kannel; a send to it is refused by the API and ends E as a reply, never reaching sendsms", async () => {
      const inbound = await app.inject({ url: "/backend/kannel-a/?id=MY+BANK&text=your+balance" });
      assert.equal(inbound.statusCode, 200, inbound.body);
      const [stored] = await system.store.listMessages({ direction: "I", identity: "MY BANK" });
      assert.equal(stored?.text, "your balance");
      const requests = kannel.requests.length;
      const reply = await system.router.send("thanks", await system.router.lookupConnections("kannel-a", ["MY BANK"]));
      await system.pipeline.idle();
      const [transmission] = (await system.store.getMessage(reply.id))!.transmissions;
      assert.equal(transmission.status, "E");
      assert.match(
        transmission.error ?? "",
        /kannel-a cannot send to "MY BANK": Not an identity this backend can send to: expected a number or address without spaces/,
      );
      assert.equal(kannel.requests.length, requests, "sendsms never saw it");
    });

    test("a report on kannel-a's status URL for a message sent through kannel-b is refused and changes nothing", async () => {
      const message = await sent("kannel-b", ["255700000101"]);
      const response = await app.inject({ url: `/backend/kannel-a/status/?message_id=${message.id}&identity=255700000101&status=2` });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /through this backend/);
      assert.equal((await system.store.getMessage(message.id))?.transmissions[0].status, "S");
      const own = await app.inject({ url: `/backend/kannel-b/status/?message_id=${message.id}&identity=255700000101&status=1` });
      assert.equal(own.statusCode, 200);
      assert.equal((await system.store.getMessage(message.id))?.transmissions[0].status, "D");
    });

    test("the same Kannel report twice is answered 200 twice and recorded once", async () => {
      const message = await sent("kannel-a", ["255700000102"]);
      const url = `/backend/kannel-a/status/?message_id=${message.id}&identity=255700000102&status=8&status_text=ACK`;
      for (let i = 0; i < 2; i++) assert.equal((await app.inject({ url })).statusCode, 200);
      const detail = await system.store.getTransmission(message.transmissions[0].id);
      assert.equal(detail?.deliveryReports.length, 1);
    });

    test("a report's odd text is recorded mended (a NUL in Kannel's status_text), and an id no store can hold is a 400", async () => {
      const message = await sent("kannel-a", ["255700000108"]);
      const odd = await app.inject({ url: `/backend/kannel-a/status/?message_id=${message.id}&identity=255700000108&status=2&status_text=bad%00news` });
      assert.equal(odd.statusCode, 200, odd.body);
      assert.match((await system.store.getMessage(message.id))?.transmissions[0].error ?? "", /bad\ufffdnews/);
      const long = await app.inject({
        method: "POST",
        url: "/backend/vumi/events/",
        headers: JSON_TYPE,
        payload: { event_type: "ack", user_message_id: LONG, message_id: "e-2" },
      });
      assert.equal(long.statusCode, 400, long.body);
      assert.match(long.body, /^form failed to validate\n.*255 characters/);
    });

    test("a malformed escape is kept as written, as the WHATWG form rules say (never half decoded)", async () => {
      const response = await app.inject({ method: "POST", url: "/backend/http/", headers: FORM, payload: "identity=255700000106&text=100%25+sure%ZZ" });
      assert.equal(response.statusCode, 200);
      const [stored] = await system.store.listMessages({ direction: "I", identity: "255700000106" });
      assert.equal(stored.text, "100% sure%ZZ");
    });

    test("a Vumi event that comes before its send's answer is kept, and the send ends D", async () => {
      const event = { event_type: "delivery_report", user_message_id: "gw-overtaken", delivery_status: "delivered", message_id: "e-1" };
      const early = await app.inject({ method: "POST", url: "/backend/vumi/events/", headers: JSON_TYPE, payload: event });
      assert.equal(early.statusCode, 200, early.body);
      vumi.answer = JSON.stringify({ message_id: "gw-overtaken" });
      const message = await sent("vumi", ["255700000103"]);
      const [transmission] = (await system.store.getMessage(message.id))!.transmissions;
      assert.deepEqual([transmission.status, transmission.externalId], ["D", "gw-overtaken"]);
      assert.ok(transmission.sentAt, "the send's time is recorded");
    });

    test("a Kannel report that overtakes the send's answer: D stays, and the answer's sent time and segments are recorded", async () => {
      const identity = "255700000107";
      let reported: Promise<number> | undefined;
      kannel.hold = async (request) => {
        const id = new URL(request.url, "http://x").searchParams.get("dlr-url")?.match(/message_id=([^&]+)/)?.[1];
        reported = app.inject({ url: `/backend/kannel-a/status/?message_id=${id}&identity=${identity}&status=1` }).then((r) => r.statusCode);
        await reported;
      };
      try {
        const message = await sent("kannel-a", [identity], "x".repeat(200));
        assert.equal(await reported, 200, "the report came while the gateway held its answer");
        const [transmission] = (await system.store.getMessage(message.id))!.transmissions;
        assert.equal(transmission.status, "D");
        assert.ok(transmission.sentAt, "the send's time is recorded");
        assert.equal(transmission.segments, 2);
      } finally {
        kannel.hold = undefined;
      }
    });

    test("one gateway id for two recipients: a report that names neither applies to both", async () => {
      vumi.answer = JSON.stringify({ result: { message_id: "gw-shared" } });
      const message = await sent("vumi", ["255700000104", "255700000105"]);
      const event = { event_type: "delivery_failed", message_id: "gw-shared", event_details: { reason: "absent subscriber" } };
      const response = await app.inject({ method: "POST", url: "/backend/vumi/events/", headers: JSON_TYPE, payload: event });
      assert.equal(response.statusCode, 200, response.body);
      const transmissions = (await system.store.getMessage(message.id))!.transmissions;
      assert.deepEqual(
        transmissions.map((t) => [t.identity, t.status, t.error]),
        [
          ["255700000104", "E", "delivery_failed: absent subscriber"],
          ["255700000105", "E", "delivery_failed: absent subscriber"],
        ],
      );
    });
  });
}
