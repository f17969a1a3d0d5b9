import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../../config/resolve.ts";
import type { RapidSmsConfig } from "../../config/config.ts";
import { createSystem, type System } from "../../system.ts";
import { createServer } from "../server.ts";

async function start(extra: RapidSmsConfig = {}) {
  const config = await resolveConfig({ installedBackends: { db: { engine: "database" } }, apps: ["echo"], database: "sqlite::memory:", ...extra });
  const system = await createSystem(config);
  return { system, app: await createServer(system) };
}

describe("the message log's page", () => {
  let system: System;
  let app: FastifyInstance;
  before(async () => ({ system, app } = await start()));
  after(async () => {
    await app.close();
    await system.close();
  });

  test("/messages/ serves the page, its script and style, with a CSP that allows nothing from elsewhere and no inline code", async () => {
    const page = await app.inject({ url: "/messages/" });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(page.body, /<title>Message log/);
    assert.doesNotMatch(page.body, /https?:\/\//, "nothing loaded from outside");
    assert.doesNotMatch(page.body, /<script>|<style>|\sstyle=|\son\w+=/, "no inline script, style or handler");
    const csp = String(page.headers["content-security-policy"]);
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"])
      assert.ok(csp.includes(directive), csp);
    assert.equal(page.headers["x-frame-options"], "DENY");
    for (const [path, type] of [
      ["/messages/static/log.js", /^text\/javascript/],
      ["/messages/static/log.css", /^text\/css/],
    ] as const) {
      const asset = await app.inject({ url: path });
      assert.equal(asset.statusCode, 200);
      assert.match(String(asset.headers["content-type"]), type);
    }
    assert.doesNotMatch(
      (await app.inject({ url: "/messages/static/log.js" })).body,
      /innerHTML|insertAdjacentHTML|outerHTML|document\.write/,
      "texts go in as text",
    );
  });

  test("/messages redirects to /messages/ by a relative URL that keeps the search, under any prefix", async () => {
    const bare = await app.inject({ url: "/messages?identity=1" });
    assert.equal(bare.statusCode, 302);
    assert.equal(bare.headers.location, "messages/?identity=1");
    assert.equal(new URL(String(bare.headers.location), "https://host.example/sms/messages?identity=1").pathname, "/sms/messages/");
  });

  test("without a token the page is served to this machine only, like /api", async () => {
    const remote = await app.inject({ url: "/messages/", remoteAddress: "192.0.2.10" });
    assert.equal(remote.statusCode, 403);
    assert.match(remote.body, /only clients on this machine are served until an API token is configured/);
  });
});

describe("the message log's page with an API token", () => {
  test("asks for the token in the API's own realm (so the browser sends it to /api too), and takes it as Bearer or Basic password", async () => {
    const token = "a-long-enough-api-token";
    const { system, app } = await start({ apiToken: token });
    try {
      const refused = await app.inject({ url: "/messages/" });
      assert.equal(refused.statusCode, 401);
      assert.deepEqual(refused.headers["www-authenticate"], ['Bearer realm="RapidSMS API"', 'Basic realm="RapidSMS API", charset="UTF-8"']);
      assert.equal((await app.inject({ url: "/messages/", headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
      const basic = `Basic ${Buffer.from(`me:${token}`).toString("base64")}`;
      assert.equal((await app.inject({ url: "/messages/static/log.js", headers: { authorization: basic } })).statusCode, 200);
      assert.equal((await app.inject({ url: "/api/messages/stats", headers: { authorization: basic } })).statusCode, 200);
    } finally {
      await app.close();
      await system.close();
    }
  });

  test("is not served when the API is off", async () => {
    const { system, app } = await start({ api: false });
    try {
      assert.equal((await app.inject({ url: "/messages/" })).statusCode, 404);
    } finally {
      await app.close();
      await system.close();
    }
  });
});
