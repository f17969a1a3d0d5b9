import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import { startGatewayE2E, type GatewayE2E } from "../../../test/support/gateway-e2e.ts";

const [guide] = docJsonBlocks(new URL("../../../docs/gateways/africastalking.md", import.meta.url)) as [
  { installedBackends: { africastalking: { inboundToken: string; apiKey: string; username: string } } },
];
const backend = guide.installedBackends.africastalking;
const SURVEY = fileURLToPath(new URL("../../../test/support/ussd-survey-app.ts", import.meta.url));
let e2e: GatewayE2E;

before(async () => {
  e2e = await startGatewayE2E({
    backends: (apiUrl) => ({ africastalking: { ...backend, apiUrl, ussdDeadlineMs: 1_000, ussdTimeoutText: "Sorry, too slow." } }),
    apps: [SURVEY, "echo", "default"],
  });
  e2e.gateway.respond = (request) => {
    const to = new URLSearchParams(request.body).get("to");
    return {
      status: 201,
      body: JSON.stringify({
        SMSMessageData: { Message: "Sent to 1/1", Recipients: [{ statusCode: 101, number: to, status: "Success", cost: "KES 0.8", messageId: "ATXid_e2e_1" }] },
      }),
    };
  };
});
after(() => e2e.close());

function post(path: string, fields: Record<string, string>, token = backend.inboundToken) {
  return fetch(`${e2e.url}${path}?token=${token}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}

test("the guide's config, through the running server: an SMS gets its echo through the bulk API, and the Success report makes it D", async () => {
  const inbound = await post("/backend/africastalking/", {
    from: "+254711000001",
    to: "20880",
    text: "echo habari",
    id: "ATXid_in_e2e",
    date: "2026-12-01 10:00:00",
    linkId: "",
    networkCode: "63902",
  });
  assert.equal(inbound.status, 200);
  const [request] = await e2e.waitFor("the reply at Africa's Talking", () => (e2e.gateway.requests.length > 0 ? e2e.gateway.requests : undefined));
  assert.equal(request.url, "/version1/messaging");
  assert.equal(request.headers.apikey, backend.apiKey);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
    username: backend.username,
    to: "+254711000001",
    message: "habari",
    from: "CLINIC",
    bulkSMSMode: "1",
  });
  const reply = await e2e.waitFor("the reply's S", async () => {
    const found = e2e.messages().find((m) => m.direction === "O" && m.text === "habari");
    return found && (await e2e.status(found.id)).transmissions[0]?.status === "S" ? found : undefined;
  });
  const report = await post("/backend/africastalking/status/", {
    id: "ATXid_e2e_1",
    status: "Success",
    phoneNumber: "+254711000001",
    networkCode: "63902",
    retryCount: "0",
  });
  assert.equal(report.status, 200);
  assert.equal((await e2e.status(reply.id)).transmissions[0].status, "D");
});

test("a callback without the inboundToken is a 403 through the running server, and nothing is stored", async () => {
  const before = e2e.messages().length;
  const forged = await post("/backend/africastalking/", { from: "+254711000666", text: "echo forged", id: "ATXid_forged" }, "not-the-token-at-all-0000");
  assert.equal(forged.status, 403);
  assert.equal(e2e.messages().length, before);
});

test("a three-step USSD survey goes on across a restart of the server between two steps, and a slow step is answered END in time", async () => {
  const step = async (sessionId: string, text: string) => {
    const response = await post("/backend/africastalking/ussd/", {
      sessionId,
      serviceCode: "*384*1234#",
      phoneNumber: "+254711000020",
      networkCode: "63902",
      text,
    });
    return `${response.status} ${response.headers.get("content-type")?.split(";")[0]} ${await response.text()}`;
  };
  assert.equal(await step("ATUid_e2e", ""), "200 text/plain CON Welcome to the survey. What is your name?");
  assert.equal(await step("ATUid_e2e", "Amina"), "200 text/plain CON Thank you Amina. How old are you?");
  await e2e.restart();
  assert.equal(await step("ATUid_e2e", "Amina*34"), "200 text/plain END Thank you Amina, 34. Goodbye.");

  // The app takes 3 s: the user is answered at the 1 s deadline, with the backend's text.
  assert.equal(await step("ATUid_slow", "slow"), "200 text/plain END Sorry, too slow.");
});
