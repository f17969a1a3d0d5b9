import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppBase } from "../apps/app.ts";
import { optOutSchema, type OptOutSettings } from "../config/operations.ts";
import { MessageSendingError } from "../errors.ts";
import { IncomingMessage } from "../messages/messages.ts";
import { SESSION_FIELD } from "../messages/session.ts";
import { createTestRouter, MockBackend, type TestRouter } from "../testing/harness.ts";
import type { SendRequest } from "../backends/backend.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";

/** A store whose completeIncoming fails its `nth` call (the first by default), as a database that hiccups would. */
function completeFailsOnce(store: Store, nth = 1): Store {
  let calls = 0;
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (key !== "completeIncoming" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
      return (...args: unknown[]) => {
        if (++calls !== nth) return value.apply(target, args);
        return Promise.reject(new Error("the database hiccuped"));
      };
    },
  });
}

const DEFAULTS = optOutSchema.parse({}) as OptOutSettings;

/** Answers every text it gets with "got <text>", so that a test sees what reached the apps. */
class Answers extends AppBase {
  override handle(msg: IncomingMessage) {
    msg.respond(`got ${msg.text}`);
    return true;
  }
}

async function texts(t: TestRouter, identity: string, text: string): Promise<string[]> {
  const [connection] = await t.connections([identity]);
  const before = t.sent().length;
  await t.router.receive(text, connection);
  await t.idle();
  return t
    .sent()
    .slice(before)
    .map((r) => r.text);
}

async function sendTo(t: TestRouter, identity: string, text: string) {
  const [connection] = await t.connections([identity]);
  const msg = await t.router.send(text, connection);
  await t.idle();
  return (await t.store.getMessage(msg.id))!;
}

describe("opt-outs through the pipeline", () => {
  test("STOP opts out with one confirmation; sends then end E 'opted out' unsent; START opts in with its confirmation", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: DEFAULTS });
    try {
      assert.deepEqual(await texts(t, "255700", "Stop."), [DEFAULTS.confirmation]);
      const record = await t.store.getOptOut({ backend: "mockbackend", identity: "255700" });
      assert.deepEqual([record?.source, record?.detail], ["keyword", "STOP"]);
      const stop = (await t.store.listMessages({ identity: "255700", direction: "I" }))[0];
      assert.equal(record?.messageId, stop.id, "the opt-out names the STOP message");

      const blocked = await sendTo(t, "255700", "news");
      assert.deepEqual(
        blocked.transmissions.map((tr) => [tr.status, tr.error]),
        [["E", "opted out"]],
      );
      assert.equal(blocked.status, "E");
      assert.equal(
        t.sent().some((r) => r.text === "news"),
        false,
        "the backend was never called",
      );

      assert.deepEqual(await texts(t, "255700", "unsubscribe"), [], "a second STOP gets no second confirmation");
      assert.deepEqual(await texts(t, "255700", "hello"), [], "the apps' replies to an opted-out sender are not sent");

      assert.deepEqual(await texts(t, "255700", "start"), [DEFAULTS.startConfirmation]);
      assert.equal(await t.store.getOptOut({ backend: "mockbackend", identity: "255700" }), undefined);
      assert.equal((await sendTo(t, "255700", "news again")).status, "S");
      assert.deepEqual(await texts(t, "255700", "hello"), ["got hello"]);
    } finally {
      await t.close();
    }
  });

  test("a STOP whose processing failed once after its opt-out was recorded still gets its confirmation when tried again", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: DEFAULTS, store: completeFailsOnce(openSqliteStore(":memory:")) });
    try {
      assert.deepEqual(await texts(t, "9", "STOP"), [DEFAULTS.confirmation]);
      const [stop] = await t.store.listMessages({ identity: "9", direction: "I" });
      assert.equal(stop.status, "R");
    } finally {
      await t.close();
    }
  });

  test("a START whose processing failed once after its opt-in was recorded is still a START when tried again: its confirmation, not the apps", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: DEFAULTS, store: completeFailsOnce(openSqliteStore(":memory:"), 2) });
    try {
      assert.deepEqual(await texts(t, "10", "STOP"), [DEFAULTS.confirmation]);
      assert.deepEqual(await texts(t, "10", "START"), [DEFAULTS.startConfirmation], "only the confirmation: the apps never saw it");
      const [start] = await t.store.listMessages({ identity: "10", direction: "I", text: "START" });
      assert.equal(start.status, "R");
      assert.equal(await t.store.getOptOut({ backend: "mockbackend", identity: "10" }), undefined, "they are not opted out");
      assert.equal((await t.store.listOptOuts({ limit: 10 })).total, 0);
      assert.equal((await sendTo(t, "10", "news")).status, "S", "sends go to them again");
      assert.deepEqual(await texts(t, "10", "start"), ["got start"], "a later START from someone opted in is an ordinary text");
    } finally {
      await t.close();
    }
  });

  test("START or YES from someone not opted out goes to the apps like any text", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: DEFAULTS });
    try {
      assert.deepEqual(await texts(t, "1", "YES"), ["got YES"]);
      assert.deepEqual(await texts(t, "1", "start"), ["got start"]);
    } finally {
      await t.close();
    }
  });

  test("with opt-outs off, STOP reaches the apps like any text", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: null });
    try {
      assert.deepEqual(await texts(t, "2", "STOP"), ["got STOP"]);
      assert.equal(await t.store.getOptOut({ backend: "mockbackend", identity: "2" }), undefined);
    } finally {
      await t.close();
    }
  });

  test("configured keywords and confirmations: other languages; no confirmation when it is null", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: { ...DEFAULTS, stop: ["ACHA"], start: ["ANZA"], confirmation: null } });
    try {
      assert.deepEqual(await texts(t, "3", "STOP"), ["got STOP"], "the configured words replace the defaults");
      assert.deepEqual(await texts(t, "3", "acha!"), []);
      assert.equal((await t.store.getOptOut({ backend: "mockbackend", identity: "3" }))?.detail, "ACHA");
      assert.deepEqual(await texts(t, "3", "Anza"), [DEFAULTS.startConfirmation]);
    } finally {
      await t.close();
    }
  });

  test("the confirmation comes in the contact's language", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: DEFAULTS });
    try {
      await t.store.createContact({ name: "Amina", language: "sw", connections: [{ backend: "mockbackend", identity: "4" }] });
      assert.deepEqual(await texts(t, "4", "STOP"), ["Umejiondoa na hutapokea ujumbe tena. Jibu START ili ujiunge tena."]);
    } finally {
      await t.close();
    }
  });

  test("a send to several people goes to all but the one who opted out", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: DEFAULTS });
    try {
      await t.store.optOut({ backend: "mockbackend", identity: "52", source: "api", detail: "" });
      const connections = await t.connections(["51", "52", "53"]);
      const msg = await t.router.send("bulk", connections);
      await t.idle();
      const record = (await t.store.getMessage(msg.id))!;
      assert.deepEqual(
        record.transmissions.map((tr) => [tr.identity, tr.status, tr.error]),
        [
          ["51", "S", null],
          ["52", "E", "opted out"],
          ["53", "S", null],
        ],
      );
      assert.deepEqual(
        t.sent().flatMap((r) => r.identities),
        ["51", "53"],
      );
    } finally {
      await t.close();
    }
  });

  test("a USSD step from someone opted out is still answered (they dialled in), and recorded as answered; other sends to them stay blocked", async () => {
    const t = await createTestRouter({ apps: [Answers], optOut: DEFAULTS });
    try {
      assert.deepEqual(await texts(t, "20", "STOP"), [DEFAULTS.confirmation]);
      const [connection] = await t.connections(["20"]);
      const step = new IncomingMessage({ connections: [connection], text: "1", fields: { [SESSION_FIELD]: { id: "ussd-20", event: "new" } } });
      const conversation = await t.pipeline.converse(step, { deadlineMs: 10_000 });
      assert.deepEqual(conversation, { outcome: "answered", text: "got 1", end: true });
      await t.idle();
      const [reply] = await t.store.listMessages({ inResponseTo: step.id });
      assert.deepEqual(
        reply.transmissions.map((tr) => tr.status),
        ["S"],
        "the answer is recorded as sent within the request",
      );
      assert.notEqual(await t.store.getOptOut({ backend: "mockbackend", identity: "20" }), undefined, "answering the step does not opt them in");
      assert.equal((await sendTo(t, "20", "news")).transmissions[0].error, "opted out");
    } finally {
      await t.close();
    }
  });

  test("a gateway that says a recipient opted out (Twilio's 21610) records a provider opt-out; later sends are not tried", async () => {
    class Refuses extends MockBackend {
      static override engine = "refuses";
      override async send(request: SendRequest): Promise<void> {
        this.messages.push(request);
        throw new MessageSendingError("21610: Attempt to send to unsubscribed recipient", {
          retryable: false,
          optedOutIdentities: request.identities,
          identityErrors: Object.fromEntries(request.identities.map((i) => [i, "Twilio 21610: Attempt to send to unsubscribed recipient"])),
        });
      }
    }
    const t = await createTestRouter({ backends: { gw: Refuses }, optOut: DEFAULTS });
    try {
      const [connection] = await t.connections(["+15005550004"], "gw");
      const first = await t.router.send("hello", connection);
      await t.idle();
      assert.match((await t.store.getMessage(first.id))!.transmissions[0].error ?? "", /RECIPIENT_OPTED_OUT/);
      const record = await t.store.getOptOut({ backend: "gw", identity: "+15005550004" });
      assert.equal(record?.source, "provider");
      assert.match(record?.detail ?? "", /^gw: .*21610/);
      const second = await t.router.send("hello again", connection);
      await t.idle();
      assert.equal((await t.store.getMessage(second.id))!.transmissions[0].error, "opted out");
      assert.equal(t.sent("gw").length, 1, "the gateway was asked once");
    } finally {
      await t.close();
    }
  });
});
