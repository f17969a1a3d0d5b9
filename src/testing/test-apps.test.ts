import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { AppBase } from "../apps/app.ts";
import { HandlersApp } from "../apps/handlers/app.ts";
import { KeywordHandler } from "../apps/handlers/keyword.ts";
import { ConfigError } from "../errors.ts";
import type { IncomingMessage, OutgoingMessage } from "../messages/messages.ts";
import { testApps } from "./test-apps.ts";

const settingsSchema = z.object({ greeting: z.string().default("Hello"), days: z.number().int().positive().default(7) });

class Hello extends KeywordHandler {
  static override keyword = "hello";
  static override argument = "optional" as const;
  override handle(name: string) {
    const { greeting } = (this.app as GreeterApp).settings;
    this.respond(name ? `${greeting} ${name}` : greeting);
  }
}

class Due extends KeywordHandler {
  static override keyword = "due";
  static override argument = "none" as const;
  override help() {
    this.respond("Send DUE alone");
  }
  override handle() {
    const { days } = (this.app as GreeterApp).settings;
    const due = new Date(this.router!.now().getTime() + days * 86_400_000);
    this.respond(`Due ${due.toISOString().slice(0, 10)}`);
  }
}

class GreeterApp extends HandlersApp {
  static override appName = "greeter";
  static override settingsSchema = settingsSchema;
  declare readonly settings: z.infer<typeof settingsSchema>;
  static override handlers = [Hello, Due];
}

test("testApps: receive answers the replies of that message, with no waiting, in two lines", async () => {
  await using t = await testApps({ apps: [GreeterApp] });
  assert.deepEqual(await t.receive("hello Amina", "+255700000001"), ["Hello Amina"]);
  assert.deepEqual(await t.receive("hello", "+255700000001"), ["Hello"]);
  assert.deepEqual(await t.receive("nothing for me", "+255700000001"), []);
  assert.equal(t.outbox.length, 2);
  assert.deepEqual(
    { ...t.outbox[0], inResponseTo: typeof t.outbox[0].inResponseTo },
    { backend: "mockbackend", identity: "+255700000001", text: "Hello Amina", kind: "message", inResponseTo: "string" },
  );
});

test("testApps: an app's settings come from appSettings through its schema, defaults filled in", async () => {
  await using t = await testApps({ apps: [GreeterApp], appSettings: { greeter: { greeting: "Karibu" } } });
  assert.deepEqual(await t.receive("hello Juma", "1"), ["Karibu Juma"]);
  await assert.rejects(testApps({ apps: [GreeterApp], appSettings: { greeter: { days: -1 } } }), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^appSettings\.greeter\.days: /);
    return true;
  });
  await assert.rejects(testApps({ apps: [GreeterApp], appSettings: { greter: {} } }), /appSettings: no installed app is named "greter"; installed: greeter/);
});

test("testApps: the clock stands still until the test moves it, and apps read it through router.now()", async () => {
  await using t = await testApps({ apps: [GreeterApp], now: "2026-03-01T08:00:00Z" });
  assert.deepEqual(await t.receive("DUE", "1"), ["Due 2026-03-08"]);
  t.clock.advance({ days: 30 });
  assert.deepEqual(await t.receive("due", "1"), ["Due 2026-04-07"]);
  t.clock.set("2027-01-01T00:00:00Z");
  assert.deepEqual(await t.receive("due", "1"), ["Due 2027-01-08"]);
  assert.deepEqual(await t.receive("due now", "1"), ["Send DUE alone"]);
});

test("testApps: send runs the outgoing phases; a cancelled message never reaches the outbox", async () => {
  class Quiet extends AppBase {
    override outgoing(msg: OutgoingMessage) {
      return !msg.text.includes("secret");
    }
  }
  await using t = await testApps({ apps: [Quiet] });
  const [sent] = await t.send("Clinic opens at 8", ["1", "2"]);
  assert.equal(sent.processed, true);
  const [cancelled] = await t.send("the secret", "3");
  assert.equal(cancelled.processed, false);
  assert.deepEqual(
    t.outbox.map((m) => [m.identity, m.text, m.inResponseTo]),
    [
      ["1", "Clinic opens at 8", null],
      ["2", "Clinic opens at 8", null],
    ],
  );
});

test("testApps: an app that throws makes receive reject with its error", async () => {
  class Broken extends AppBase {
    override handle(_msg: IncomingMessage): boolean {
      throw new RangeError("bug in the app");
    }
  }
  await using t = await testApps({ apps: [Broken] });
  await assert.rejects(t.receive("anything", "1"), /bug in the app/);
});
