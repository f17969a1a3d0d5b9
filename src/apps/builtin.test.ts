import assert from "node:assert/strict";
import { test } from "node:test";
import { createTestRouter } from "../testing/harness.ts";
import { builtinApps } from "./builtin.ts";
import { EchoHandler, PingHandler } from "./echo.ts";

test("echo answers the text after the keyword, and its help for a bare keyword", async () => {
  assert.deepEqual(await EchoHandler.test("echo hello world"), ["hello world"]);
  assert.deepEqual(await EchoHandler.test("ECHO"), ["To echo some text, send: ECHO <ANYTHING>"]);
});

test("ping answers pong only to exactly 'ping'", async () => {
  assert.deepEqual(await PingHandler.test("ping"), ["pong"]);
  for (const text of ["PING", "ping ", "ping me", " ping"]) assert.equal(await PingHandler.test(text), false, text);
});

async function replies(text: string, settings = {}) {
  const t = await createTestRouter({ apps: [builtinApps.echo, builtinApps.ping, builtinApps.default], settings });
  const [connection] = await t.connections(["1112223333"]);
  await t.router.receive(text, connection);
  await t.idle();
  const texts = t.sent().map((s) => s.text);
  await t.close();
  return texts;
}

test("the echo, ping and default apps answer through the router", async () => {
  assert.deepEqual(await replies("echo hi"), ["hi"]);
  assert.deepEqual(await replies("ping"), ["pong"]);
});

test("the default app answers unhandled messages with the default response, project name interpolated", async () => {
  assert.deepEqual(await replies("what?"), ["Sorry, RapidSMS could not understand your message."]);
  assert.deepEqual(await replies("what?", { projectName: "Clinic" }), ["Sorry, Clinic could not understand your message."]);
});

test("the default app stays silent when defaultResponse is null, and does not answer handled messages", async () => {
  assert.deepEqual(await replies("what?", { defaultResponse: null }), []);
  assert.deepEqual(await replies("echo x"), ["x"]);
});
