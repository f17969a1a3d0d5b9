import assert from "node:assert/strict";
import { test } from "node:test";
import { testApps } from "../testing/test-apps.ts";
import { EchoHandler, PingHandler } from "./echo.ts";

test("echo answers the text after the keyword, and its help for a bare keyword", async () => {
  assert.deepEqual(await EchoHandler.test("echo hello world"), ["hello world"]);
  assert.deepEqual(await EchoHandler.test("ECHO"), ["To echo some text, send: ECHO <ANYTHING>"]);
});

test("ping answers pong only to exactly 'ping'", async () => {
  assert.deepEqual(await PingHandler.test("ping"), ["pong"]);
  for (const text of ["PING", "ping ", "ping me", " ping"]) assert.equal(await PingHandler.test(text), false, text);
});

test("the echo, ping and default apps answer through the router", async () => {
  await using t = await testApps({ apps: ["echo", "ping", "default"] });
  assert.deepEqual(await t.receive("echo hi", "1112223333"), ["hi"]);
  assert.deepEqual(await t.receive("ping", "1112223333"), ["pong"]);
  assert.deepEqual(
    t.outbox.map(({ identity, text }) => ({ identity, text })),
    [
      { identity: "1112223333", text: "hi" },
      { identity: "1112223333", text: "pong" },
    ],
  );
});

test("the default app answers unhandled messages with the default response, project name interpolated", async () => {
  await using t = await testApps({ apps: ["echo", "default"] });
  assert.deepEqual(await t.receive("what?", "1"), ["Sorry, RapidSMS could not understand your message."]);
  assert.equal(t.outbox[0].kind, "error");
  await using clinic = await testApps({ apps: ["echo", "default"], settings: { projectName: "Clinic" } });
  assert.deepEqual(await clinic.receive("what?", "1"), ["Sorry, Clinic could not understand your message."]);
});

test("the default app stays silent when defaultResponse is null, and does not answer handled messages", async () => {
  await using silent = await testApps({ apps: ["echo", "default"], settings: { defaultResponse: null } });
  assert.deepEqual(await silent.receive("what?", "1"), []);
  await using t = await testApps({ apps: ["echo", "default"] });
  assert.deepEqual(await t.receive("echo x", "1"), ["x"]);
});
