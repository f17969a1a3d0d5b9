import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, beforeEach, describe, test } from "node:test";
import express from "express";
import { FakeGateway } from "../../../test/support/fake-gateway.ts";
import UssdSurveyApp from "../../../test/support/ussd-survey-app.ts";
import { AppBase } from "../../apps/app.ts";
import { EchoApp } from "../../apps/echo.ts";
import type { IncomingMessage } from "../../messages/messages.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import type { BackendView } from "../view.ts";
import { AfricasTalkingBackend } from "./index.ts";

const require = createRequire(import.meta.url);
const TOKEN = "at-inbound-token-0123456789";
const API_KEY = "atsk_0123456789abcdef0123456789abcdef";

function form(view: BackendView, fields: Record<string, string>, token: string | null = TOKEN) {
  const query = token === null ? {} : { token };
  const url = `/backend/at/${view.path}${token === null ? "" : `?token=${token}`}`;
  return view.handle({ method: "POST", url, query, body: fields, headers: { "content-type": "application/x-www-form-urlencoded" } });
}

function viewAt(t: TestRouter, path: string): BackendView {
  return t.backends
    .get("at")!
    .views()
    .find((v) => v.path === path)!;
}

describe("Africa's Talking SMS inbound and delivery reports", () => {
  let t: TestRouter;
  before(async () => {
    t = await createTestRouter({
      backends: { at: { engine: AfricasTalkingBackend, options: { username: "clinic", apiKey: API_KEY, inboundToken: TOKEN } } },
      stopped: true,
    });
  });
  after(() => t.close());
  const stored = () => t.store.listMessages({ direction: "I", limit: 100 });
  const incoming = (extra: Record<string, string> = {}) => ({
    date: "2026-12-01 10:00:00",
    from: "+254711000001",
    id: "ATXid_in1",
    linkId: "SampleLinkId123",
    text: "echo habari",
    to: "20880",
    networkCode: "63902",
    ...extra,
  });

  test("an SMS posted with the token is answered 200 and received with every field, its id as the gateway id", async () => {
    const response = await form(viewAt(t, ""), incoming());
    assert.deepEqual([response.status, response.body], [200, ""]);
    const [message] = await stored();
    assert.equal(message.text, "echo habari");
    assert.equal(message.transmissions[0].identity, "+254711000001");
    assert.deepEqual(message.fields, { ...incoming(), externalId: "ATXid_in1" });
  });

  test("the same id again is answered 200 and stored once", async () => {
    const before = (await stored()).length;
    assert.equal((await form(viewAt(t, ""), incoming())).status, 200);
    assert.equal((await stored()).length, before);
  });

  const refused: [string, () => Promise<{ status: number; body: string }>, number, RegExp][] = [
    ["no token", () => form(viewAt(t, ""), incoming({ id: "ATXid_r1" }), null), 403, /inboundToken/],
    ["a wrong token", () => form(viewAt(t, ""), incoming({ id: "ATXid_r2" }), "not-the-token-000000"), 403, /inboundToken/],
    ["no from", () => form(viewAt(t, ""), { id: "ATXid_r3", text: "x" }), 400, /^form failed to validate\nfrom: This field is required\.$/],
    ["a GET", () => viewAt(t, "").handle({ method: "GET", url: `/backend/at/?token=${TOKEN}`, query: { token: TOKEN } }), 405, /use POST/],
  ];
  for (const [name, request, status, reason] of refused) {
    test(`inbound with ${name}: ${status}, and nothing stored`, async () => {
      const before = (await stored()).length;
      const response = await request();
      assert.equal(response.status, status);
      assert.match(response.body, reason);
      assert.equal((await stored()).length, before);
    });
  }

  test("a delivery report without the token is a 403", async () => {
    assert.equal((await form(viewAt(t, "status/"), { id: "ATXid_x", status: "Success" }, null)).status, 403);
  });

  test("a report with an unknown status is a 400 that lists the known ones", async () => {
    const response = await form(viewAt(t, "status/"), { id: "ATXid_x", status: "Teleported" });
    assert.equal(response.status, 400);
    assert.match(response.body, /status: unknown status "Teleported": expected one of Sent, Submitted, Buffered, Success, Rejected, Failed, Expired/);
  });
});

describe("Africa's Talking SMS outbound (the bulk messaging API)", () => {
  const gateway = new FakeGateway();
  let t: TestRouter;
  let n = 0;
  before(async () => {
    await gateway.listen();
    t = await createTestRouter({
      apps: [EchoApp],
      backends: {
        at: { engine: AfricasTalkingBackend, options: { username: "clinic", apiKey: API_KEY, from: "CLINIC", apiUrl: gateway.url, inboundToken: TOKEN } },
      },
      pipeline: { maxAttempts: 2 },
    });
  });
  /** Africa's Talking's 201: each recipient Success with its own messageId. */
  const success = (numbers: string[], parts = 1) =>
    JSON.stringify({
      SMSMessageData: {
        Message: `Sent to ${numbers.length}/${numbers.length} Total Cost: KES 0.8000`,
        Recipients: numbers.map((number) => ({
          statusCode: 101,
          number,
          status: "Success",
          cost: "KES 0.8000",
          messageId: `ATXid_${++n}`,
          messageParts: parts,
        })),
      },
    });
  beforeEach(() => {
    gateway.requests.length = 0;
    gateway.respond = (request) => ({ status: 201, body: success((new URLSearchParams(request.body).get("to") ?? "").split(",")) });
  });
  after(async () => {
    await t.close();
    await gateway.close();
  });

  async function send(text: string, identities: string[]) {
    const msg = await t.router.send(text, await t.connections(identities, "at"));
    await t.idle();
    const record = await t.store.getMessage(msg.id);
    return Object.fromEntries((await Promise.all(record!.transmissions.map((tr) => t.store.getTransmission(tr.id)))).map((tr) => [tr!.identity, tr!]));
  }

  test("one POST for all recipients: the apikey header, username, to comma-separated, message, from, bulkSMSMode; each recipient's messageId kept", async () => {
    const sent = await send("Clinic opens at 8", ["+254711000001", "+254711000002"]);
    assert.equal(gateway.requests.length, 1);
    const [request] = gateway.requests;
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/version1/messaging");
    assert.equal(request.headers.apikey, API_KEY);
    assert.equal(request.headers.accept, "application/json");
    assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
      username: "clinic",
      to: "+254711000001,+254711000002",
      message: "Clinic opens at 8",
      from: "CLINIC",
      bulkSMSMode: "1",
    });
    assert.equal(sent["+254711000001"].status, "S");
    assert.match(sent["+254711000001"].externalId ?? "", /^ATXid_\d+$/);
    assert.notEqual(sent["+254711000001"].externalId, sent["+254711000002"].externalId);
  });

  test("the request is the one the africastalking SDK sends for the same message (same path, apikey, and form fields)", async () => {
    const sdk = require("africastalking")({ username: "clinic", apiKey: API_KEY });
    require("africastalking/lib/common").SMS_URL = `${gateway.url}/version1/messaging`;
    await sdk.SMS.send({ to: ["+254711000001", "+254711000002"], message: "same 😀 text", from: "CLINIC" });
    await send("same 😀 text", ["+254711000001", "+254711000002"]);
    const [theirs, ours] = gateway.requests;
    assert.equal(ours.url, theirs.url);
    assert.equal(ours.headers.apikey, theirs.headers.apikey);
    const fields = (body: string) => [...new URLSearchParams(body)].sort();
    assert.deepEqual(fields(ours.body), fields(theirs.body));
  });

  test("Africa's Talking's messageParts is each recipient's segment count", async () => {
    gateway.respond = (request) => ({ status: 201, body: success([new URLSearchParams(request.body).get("to")!], 3) });
    const sent = await send("x".repeat(400), ["+254711000003"]);
    assert.equal(sent["+254711000003"].segments, 3);
  });

  test("a recipient on the blacklist (406) fails alone, as opted out; the other of the same call is S", async () => {
    gateway.respond = () => ({
      status: 201,
      body: JSON.stringify({
        SMSMessageData: {
          Message: "Sent to 1/2",
          Recipients: [
            { statusCode: 406, number: "+254711000005", status: "UserInBlacklist", cost: "0", messageId: "None" },
            { statusCode: 101, number: "+254711000004", status: "Success", cost: "KES 0.8000", messageId: "ATXid_ok" },
          ],
        },
      }),
    });
    const sent = await send("news", ["+254711000004", "+254711000005"]);
    assert.equal(sent["+254711000004"].status, "S");
    assert.equal(sent["+254711000004"].externalId, "ATXid_ok");
    assert.equal(sent["+254711000005"].status, "E");
    assert.match(sent["+254711000005"].error ?? "", /406 UserInBlacklist.*RECIPIENT_OPTED_OUT/);
    assert.equal(gateway.requests.length, 1, "not tried again");
  });

  const outcomes: [string, number, string, { status: string; requests: number; error: RegExp }][] = [
    ["403 InvalidPhoneNumber", 403, "InvalidPhoneNumber", { status: "E", requests: 1, error: /403 InvalidPhoneNumber/ }],
    ["500 InternalServerError", 500, "InternalServerError", { status: "E", requests: 2, error: /500 InternalServerError.*gave up after 2 attempts/ }],
  ];
  for (const [name, code, word, expected] of outcomes) {
    test(`a recipient answered ${name}: ${expected.status} after ${expected.requests} request(s)`, async () => {
      gateway.respond = (request) => ({
        status: 201,
        body: JSON.stringify({
          SMSMessageData: {
            Message: "Sent to 0/1",
            Recipients: [{ statusCode: code, number: new URLSearchParams(request.body).get("to"), status: word, messageId: "None" }],
          },
        }),
      });
      const sent = await send("hi", ["+254711000006"]);
      assert.equal(sent["+254711000006"].status, expected.status);
      assert.match(sent["+254711000006"].error ?? "", expected.error);
      assert.equal(gateway.requests.length, expected.requests);
    });
  }

  test("a 401 (a wrong API key) is E at once, naming the options to check, without the key", async () => {
    gateway.respond = () => ({ status: 401, body: `The supplied API key ${API_KEY} is invalid`, contentType: "text/plain" });
    const sent = await send("hi", ["+254711000007"]);
    assert.equal(sent["+254711000007"].status, "E");
    assert.match(sent["+254711000007"].error ?? "", /check username and apiKey/);
    assert.doesNotMatch(sent["+254711000007"].error ?? "", new RegExp(API_KEY));
  });

  const reports: [string, Record<string, string>, string][] = [
    ["Buffered", { status: "Buffered" }, "S"],
    ["Success", { status: "Success" }, "D"],
    ["Failed with UserInBlackList", { status: "Failed", failureReason: "UserInBlackList" }, "E"],
    ["Rejected with InvalidLinkId", { status: "Rejected", failureReason: "InvalidLinkId" }, "E"],
  ];
  for (const [name, fields, status] of reports) {
    test(`a delivery report "${name}" marks the transmission ${status}`, async () => {
      const sent = await send("report me", ["+254711000008"]);
      const tr = sent["+254711000008"];
      const response = await form(viewAt(t, "status/"), { id: tr.externalId!, phoneNumber: "+254711000008", networkCode: "63902", retryCount: "0", ...fields });
      assert.equal(response.status, 200);
      const after = await t.store.getTransmission(tr.id);
      assert.equal(after?.status, status);
      if (fields.failureReason) assert.match(JSON.stringify(after?.deliveryReports), new RegExp(fields.failureReason));
    });
  }
});

describe("Africa's Talking USSD (POST /backend/<name>/ussd/)", () => {
  let t: TestRouter;
  /** How long the slow app keeps a step, and whether the flaky app fails next. */
  const slow = { ms: 0 };
  class SlowApp extends AppBase {
    static override appName = "slow";
    override async handle(msg: IncomingMessage) {
      if (msg.text !== "slow") return false;
      await new Promise((resolve) => setTimeout(resolve, slow.ms));
      msg.respond("done at last");
      return true;
    }
  }
  before(async () => {
    t = await createTestRouter({
      apps: [SlowApp, UssdSurveyApp],
      backends: {
        at: {
          engine: AfricasTalkingBackend,
          options: { username: "clinic", apiKey: API_KEY, inboundToken: TOKEN, ussdDeadlineMs: 1_000, ussdTimeoutText: "Too slow, sorry." },
        },
      },
    });
  });
  after(() => t.close());
  const step = (sessionId: string, text: string, phoneNumber = "+254711000010") =>
    form(viewAt(t, "ussd/"), { sessionId, serviceCode: "*384*1234#", phoneNumber, networkCode: "63902", text });

  test("a three-step session: CON, CON, END, with what the user said kept in the session between steps", async () => {
    const answers = [];
    for (const text of ["", "Amina", "Amina*34"]) answers.push(await step("ATUid_three", text));
    assert.deepEqual(
      answers.map((a) => [a.status, a.contentType, a.body]),
      [
        [200, "text/plain; charset=utf-8", "CON Welcome to the survey. What is your name?"],
        [200, "text/plain; charset=utf-8", "CON Thank you Amina. How old are you?"],
        [200, "text/plain; charset=utf-8", "END Thank you Amina, 34. Goodbye."],
      ],
    );
    await t.idle();
    const replies = await t.store.listMessages({ direction: "O", identity: "+254711000010", limit: 10 });
    assert.equal(replies.length, 3);
    assert.ok(
      replies.every((r) => r.status === "S" && r.transmissions[0].status === "S"),
      "answered within the requests, recorded as sent",
    );
    const steps = await t.store.listMessages({ direction: "I", identity: "+254711000010", limit: 10 });
    assert.deepEqual(steps.map((m) => m.text).reverse(), ["", "Amina", "34"], "each step's text is the latest input");
    assert.ok(steps.every((m) => (m.fields.session as { id: string }).id === "ATUid_three"));
  });

  test("a step sent again gets the same answer and is processed once", async () => {
    const first = await step("ATUid_again", "");
    const again = await step("ATUid_again", "");
    assert.equal(again.body, first.body);
    await t.idle();
    const fromThis = (await t.store.listMessages({ direction: "I", limit: 100 })).filter((m) => (m.fields.session as { id: string }).id === "ATUid_again");
    assert.equal(fromThis.length, 1);
  });

  test("past ussdDeadlineMs the user reads END with ussdTimeoutText; the late reply is recorded as failed, never sent", async () => {
    slow.ms = 1_800;
    const answer = await step("ATUid_slow", "slow", "+254711000012");
    assert.equal(answer.body, "END Too slow, sorry.");
    await new Promise((resolve) => setTimeout(resolve, 1_900));
    await t.idle();
    const [reply] = await t.store.listMessages({ direction: "O", identity: "+254711000012", limit: 1 });
    assert.equal(reply.text, "done at last");
    assert.equal(reply.transmissions[0].status, "E");
    assert.match((await t.store.getTransmission(reply.transmissions[0].id))?.error ?? "", /after the session's deadline/);
  });

  test("a burst of 600 slow steps: one process takes 512 at once, the others are answered END at once and not stored", async () => {
    slow.ms = 2_500;
    const before = (await t.store.listMessages({ direction: "I", limit: 10_000 })).length;
    const answers = await Promise.all(Array.from({ length: 600 }, (_, i) => step(`ATUid_burst_${i}`, "slow", `+2547120${String(i).padStart(5, "0")}`)));
    assert.ok(answers.every((a) => a.body === "END Too slow, sorry."));
    const stored = (await t.store.listMessages({ direction: "I", limit: 10_000 })).length - before;
    assert.equal(stored, 512);
    slow.ms = 0;
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    await t.idle();
  });

  test("a step without sessionId or phoneNumber is a 400 naming them, and nothing is stored", async () => {
    const before = (await t.store.listMessages({ direction: "I", limit: 100 })).length;
    const response = await form(viewAt(t, "ussd/"), { serviceCode: "*384#", text: "" });
    assert.equal(response.status, 400);
    assert.match(response.body, /sessionId: This field is required\.\nphoneNumber: This field is required\./);
    assert.equal((await t.store.listMessages({ direction: "I", limit: 100 })).length, before);
  });

  test("the same sessionId from another phone is another session: it neither reads nor changes the first one's state", async () => {
    assert.match((await step("ATUid_shared", "", "+254711000014")).body, /^CON Welcome/);
    assert.match((await step("ATUid_shared", "Amina", "+254711000014")).body, /^CON Thank you Amina/);
    assert.match((await step("ATUid_shared", "Mallory", "+254711000015")).body, /^CON Welcome/, "a first step of its own, not Amina's third");
    assert.equal((await step("ATUid_shared", "Amina*34", "+254711000014")).body, "END Thank you Amina, 34. Goodbye.");
  });

  test("a step whose text is not text is a 400, not the start of a session", async () => {
    const before = (await t.store.listMessages({ direction: "I", limit: 100 })).length;
    const response = await viewAt(t, "ussd/").handle({
      method: "POST",
      url: `/backend/at/ussd/?token=${TOKEN}`,
      query: { token: TOKEN },
      body: { sessionId: "ATUid_obj", serviceCode: "*384#", phoneNumber: "+254711000016", text: { a: 1 } },
      headers: { "content-type": "application/json" },
    });
    assert.equal(response.status, 400);
    assert.match(response.body, /text: Expected text\./);
    assert.equal((await t.store.listMessages({ direction: "I", limit: 100 })).length, before);
  });

  test("a USSD step without the token is a 403", async () => {
    const response = await form(viewAt(t, "ussd/"), { sessionId: "ATUid_x", serviceCode: "*384#", phoneNumber: "+254711000013", text: "" }, null);
    assert.equal(response.status, 403);
  });

  test("our answers are byte for byte what the africastalking SDK's USSD handler answers for the same reply", async () => {
    const { USSD } = require("africastalking")({ username: "clinic", apiKey: API_KEY });
    const app = express();
    app.post(
      "/ussd",
      USSD((_params: unknown, answer: (options: { response: string; endSession: boolean }) => void) =>
        answer({ response: "Thank you Amina. How old are you?", endSession: false }),
      ),
    );
    app.post(
      "/end",
      USSD((_params: unknown, answer: (options: { response: string; endSession: boolean }) => void) =>
        answer({ response: "Thank you Amina, 34. Goodbye.", endSession: true }),
      ),
    );
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const ask = async (path: string) => {
        const response = await fetch(`${base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "sessionId=s&text=",
        });
        return { status: response.status, type: response.headers.get("content-type")?.split(";")[0], body: await response.text() };
      };
      const theirs = [await ask("/ussd"), await ask("/end")];
      const ours = [await step("ATUid_oracle", ""), await step("ATUid_oracle", "Amina"), await step("ATUid_oracle", "Amina*34")].slice(1);
      assert.deepEqual(
        ours.map((o) => ({ status: o.status, type: o.contentType?.split(";")[0], body: o.body })),
        theirs,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("Africa's Talking USSD: a reply to someone else is an SMS", () => {
  test("an app that answers the user and tells a supervisor: the user's reply is the step's answer, the supervisor's goes through the bulk API", async () => {
    const gateway = new FakeGateway();
    await gateway.listen();
    gateway.respond = (request) => ({
      status: 201,
      body: JSON.stringify({
        SMSMessageData: {
          Message: "Sent to 1/1",
          Recipients: [{ statusCode: 101, number: new URLSearchParams(request.body).get("to"), status: "Success", messageId: "ATXid_sup" }],
        },
      }),
    });
    class TellsSupervisor extends AppBase {
      static override appName = "tells";
      override async handle(msg: IncomingMessage) {
        const [supervisor] = await this.router.lookupConnections("at", ["+254711000099"]);
        msg.respond("Thank you, we will call you.");
        msg.respond(`${msg.connection.identity} asked for a call`, { connections: [supervisor] });
        return true;
      }
    }
    const t = await createTestRouter({
      apps: [TellsSupervisor],
      backends: { at: { engine: AfricasTalkingBackend, options: { username: "clinic", apiKey: API_KEY, apiUrl: gateway.url, inboundToken: TOKEN } } },
    });
    try {
      const answer = await form(viewAt(t, "ussd/"), { sessionId: "ATUid_sup", serviceCode: "*384#", phoneNumber: "+254711000017", text: "" });
      assert.equal(answer.body, "END Thank you, we will call you.");
      await t.idle();
      assert.equal(gateway.requests.length, 1);
      assert.deepEqual(
        [new URLSearchParams(gateway.requests[0].body).get("to"), new URLSearchParams(gateway.requests[0].body).get("message")],
        ["+254711000099", "+254711000017 asked for a call"],
      );
      const [sms] = await t.store.listMessages({ direction: "O", identity: "+254711000099", limit: 1 });
      assert.equal(sms.transmissions[0].status, "S");
    } finally {
      await t.close();
      await gateway.close();
    }
  });
});
