import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../../config/resolve.ts";
import type { RapidSmsConfig } from "../../config/config.ts";
import { createSystem, type System } from "../../system.ts";
import { createServer } from "../../server/server.ts";

async function start(extra: RapidSmsConfig = {}) {
  const config = await resolveConfig({
    installedBackends: { httptester: { engine: "httptester" } },
    apps: ["echo", "default"],
    database: "sqlite::memory:",
    pipeline: { pollMs: 10 },
    tester: true,
    ...extra,
  });
  const system = await createSystem(config);
  return { system, app: await createServer(system) };
}

describe("message tester routes", () => {
  let system: System;
  let app: FastifyInstance;
  before(async () => ({ system, app } = await start()));
  after(async () => {
    await app.close();
    await system.close();
  });
  const post = (url: string, payload: object) => app.inject({ method: "POST", url, payload });

  test("/tester/ redirects to a random 6-digit number, by a relative URL that holds under any prefix the host mounts it at", async () => {
    const response = await app.inject({ url: "/tester/" });
    assert.equal(response.statusCode, 302);
    assert.match(String(response.headers.location), /^[1-9]\d{5}\/$/);
    const bare = await app.inject({ url: "/tester" });
    assert.match(String(bare.headers.location), /^tester\/[1-9]\d{5}\/$/);
    for (const [from, location] of [
      ["/tester/", String(response.headers.location)],
      ["/tester", String(bare.headers.location)],
    ])
      assert.match(new URL(location, `https://host.example/sms${from}`).pathname, /^\/sms\/tester\/[1-9]\d{5}\/$/);
  });

  test("the page for a number is served with its script and style; a non-numeric one redirects", async () => {
    const page = await app.inject({ url: "/tester/1112223333/" });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers["content-type"] as string, /text\/html/);
    assert.match(page.body, /<title>Message tester/);
    assert.doesNotMatch(page.body, /https?:\/\//, "no external resources");
    assert.equal((await app.inject({ url: "/tester/static/tester.js" })).statusCode, 200);
    assert.equal((await app.inject({ url: "/tester/static/tester.css" })).statusCode, 200);
    assert.equal((await app.inject({ url: "/tester/12ab/" })).headers.location, "../");
    assert.equal((await app.inject({ url: "/tester/12ab" })).headers.location, "./");
    assert.equal((await app.inject({ url: "/tester/1112223333" })).headers.location, "1112223333/", "the page is only served at its URL ending in /");
    assert.match(page.body, /href="\.\.\/static\/tester\.css"/);
  });

  test("sending records the message and the echo reply, newest first", async () => {
    assert.deepEqual((await post("/tester/api/send", { identity: "555", text: "echo hi" })).json(), { flash: "Sent message" });
    await system.pipeline.idle();
    const data = (await app.inject({ url: "/tester/api/messages" })).json();
    assert.deepEqual(
      data.messages.slice(0, 2).map((m: { direction: string; identity: string; text: string }) => [m.direction, m.identity, m.text]),
      [
        ["O", "555", "hi"],
        ["I", "555", "echo hi"],
      ],
    );
  });

  const invalid: [string, object, string][] = [
    ["a phone number with letters", { identity: "12ab", text: "x" }, "Phone number must be all numeric"],
    ["no phone number", { identity: " ", text: "x" }, "Phone number is required"],
  ];
  for (const [name, payload, error] of invalid) {
    test(`sending with ${name} is refused with a clear error`, async () => {
      const response = await post("/tester/api/send", payload);
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json(), { error });
    });
  }

  test("an empty message is sent, as from a phone", async () => {
    assert.equal((await post("/tester/api/send", { identity: "556", text: "" })).statusCode, 200);
    await system.pipeline.idle();
    const data = (await app.inject({ url: "/tester/api/messages" })).json();
    assert.ok(data.messages.some((m: { identity: string; direction: string; text: string }) => m.identity === "556" && m.direction === "I" && m.text === ""));
  });

  test("bulk sends one message per line, in order", async () => {
    assert.deepEqual((await post("/tester/api/bulk", { identity: "777", lines: ["echo one", "echo two", "echo three"] })).json(), {
      flash: "Sent 3 bulk messages",
    });
    await system.pipeline.idle();
    const inbound = await system.store.listBackendMessages({ name: "httptester", identity: "777", direction: "I" });
    assert.deepEqual(inbound.map((m) => m.text).reverse(), ["echo one", "echo two", "echo three"]);
  });

  test("clear removes one number's messages; clear all removes every one", async () => {
    assert.deepEqual((await post("/tester/api/clear", { identity: "777" })).json(), { flash: "Cleared 777 messages" });
    assert.equal(await system.store.countBackendMessages({ name: "httptester", identity: "777" }), 0);
    assert.ok((await system.store.countBackendMessages({ name: "httptester" })) > 0);
    assert.deepEqual((await post("/tester/api/clear", {})).json(), { flash: "Cleared all messages" });
    assert.equal(await system.store.countBackendMessages({ name: "httptester" }), 0);
  });

  test("the conversation is paged, 20 a page", async () => {
    await post("/tester/api/bulk", { identity: "888", lines: Array.from({ length: 25 }, (_, i) => `note ${i}`) });
    await system.pipeline.idle();
    const first = (await app.inject({ url: "/tester/api/messages" })).json();
    const last = (await app.inject({ url: "/tester/api/messages?page=99" })).json();
    assert.equal(first.total, 50, "25 sent and 25 default replies");
    assert.deepEqual([first.messages.length, first.page, first.pages], [20, 1, 3]);
    assert.deepEqual([last.messages.length, last.page], [10, 3]);
  });

  test("the event stream announces a change when a reply arrives", async () => {
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const response = await fetch(`${address}/tester/api/events`);
    const reader = response.body!.getReader();
    const read = async () => new TextDecoder().decode((await reader.read()).value);
    assert.match(await read(), /^data: \d+:\d+\n\n$/);
    await post("/tester/api/send", { identity: "999", text: "echo ping" });
    assert.match(await read(), /^data: \d+:\d+\n\n$/);
    await reader.cancel();
  });
});

describe("message tester access", () => {
  test("the tester is off unless the config turns it on (or it is the embedded default)", async () => {
    const { system, app } = await start({ tester: undefined });
    assert.equal((await app.inject({ url: "/tester/" })).statusCode, 404);
    await app.close();
    await system.close();
  });

  test("with an API token the tester asks for it, and takes it as a Basic password", async () => {
    const token = "a-long-enough-api-token";
    const { system, app } = await start({ apiToken: token });
    const refused = await app.inject({ url: "/tester/1/" });
    assert.equal(refused.statusCode, 401);
    assert.match(String(refused.headers["www-authenticate"]), /Basic realm="RapidSMS message tester"/);
    const basic = `Basic ${Buffer.from(`tester:${token}`).toString("base64")}`;
    assert.equal((await app.inject({ url: "/tester/1/", headers: { authorization: basic } })).statusCode, 200);
    await app.close();
    await system.close();
  });

  test("turning the tester on without an httptester backend fails at start-up with what to add", async () => {
    await assert.rejects(resolveConfig({ installedBackends: {}, tester: true }), /add "httptester": \{ "engine": "httptester" \}/);
  });
});
