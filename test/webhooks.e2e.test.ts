import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FakeGateway, type GatewayRequest } from "./support/fake-gateway.ts";
import { startServer, type ServerProcess } from "./support/server-process.ts";

const SECRET = "e2e-webhook-secret-0123456789abcdef";

async function eventually(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The receiver's check, with node:crypto alone: signed with the secret over "<timestamp>.<delivery>.<raw body>", within 5 minutes. */
function verified(request: GatewayRequest): boolean {
  const timestamp = String(request.headers["x-rapidsms-timestamp"]);
  const delivery = String(request.headers["x-rapidsms-delivery"]);
  const expected = `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${delivery}.${request.body}`).digest("hex")}`;
  return request.headers["x-rapidsms-signature"] === expected && Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
}

test("through `rapidsms start`: an inbound message is forwarded signed after the receiver was down and the server was killed, accepted once, its replies sent; an eventUrl gets queued, sent, delivered", {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-webhooks-"));
  const gateway = new FakeGateway();
  await gateway.listen();
  let sends = 0;
  gateway.answerFor = () => `ID:gw-${++sends}`;
  const receiver = new FakeGateway();
  await receiver.listen();
  const receiverPort = receiver.port;
  await receiver.close();
  // The receiver keeps its answer to each delivery and answers a repeat with it, as the docs tell receivers to.
  const taken = new Map<string, number>();
  const answers = new Map<string, { status: number; body: string }>();
  receiver.respond = (request) => {
    if (!verified(request)) return { status: 401, body: "bad signature" };
    const delivery = String(request.headers["x-rapidsms-delivery"]);
    const kept = answers.get(delivery);
    if (kept) return kept;
    taken.set(delivery, (taken.get(delivery) ?? 0) + 1);
    const body = JSON.parse(request.body);
    const answer = body.event === "message" ? { status: 200, body: JSON.stringify({ replies: [`got: ${body.text}`] }) } : { status: 204, body: "" };
    answers.set(delivery, answer);
    return answer;
  };
  const configPath = join(dir, "rapidsms.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      installedBackends: {
        gw: {
          engine: "http",
          sendUrl: `${gateway.url}/send`,
          messageIdPattern: "ID:(\\S+)",
          status: { idName: "id", statusName: "status", statuses: { delivered: "D" } },
        },
      },
      apps: ["webhook", "default"],
      appSettings: { webhook: { url: `http://127.0.0.1:${receiverPort}/hook` } },
      webhooks: { baseDelayMs: 100, maxDelayMs: 300, allowedHosts: ["127.0.0.1"] },
      database: "sqlite:./webhooks.db",
      logLevel: "warn",
      pipeline: { leaseMs: 1_500, pollMs: 100 },
    }),
  );
  const env = { RAPIDSMS_WEBHOOK_SECRET: SECRET };
  let server: ServerProcess = await startServer(configPath, 0, env);
  const port = server.port;
  after(async () => {
    server.child.kill("SIGKILL");
    await gateway.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = async (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);
  const detail = async (id: string) => (await (await api(`/api/messages/${id}`)).json()) as Record<string, unknown> & { forwards: Record<string, unknown>[] };

  const inbound = await api("/backend/gw/", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ identity: "+255700000009", text: "REPORT 3" }).toString(),
  });
  assert.equal(inbound.status, 200);
  const listed = (await (await api("/api/messages?direction=I")).json()) as { messages: { id: string }[] };
  const messageId = listed.messages[0].id;
  // An attempt is counted when it is claimed (status P), so wait for one that has ended: back in Q.
  let waiting: Record<string, unknown> | undefined;
  await eventually("a failed first POST, seen in the message's forwards", async () => {
    const forward = (await detail(messageId)).forwards[0];
    if (forward?.status !== "Q" || Number(forward.attempts ?? 0) < 1) return false;
    waiting = forward;
    return true;
  });
  assert.ok(waiting);
  assert.match(String(waiting.error), /no answer from http:\/\/127\.0\.0\.1:\d+\/hook: .*will retry/);
  assert.equal(JSON.stringify(await detail(messageId)).includes(SECRET), false, "the secret is in no answer of the API");

  server.child.kill("SIGKILL");
  await server.exited;
  assert.equal(server.output().includes(SECRET), false, "the secret is in no log line");
  server = await startServer(configPath, port, env);
  await receiver.listen(receiverPort);

  await eventually("the reply at the gateway", () => gateway.params().some((p) => p.get("text") === "got: REPORT 3"));
  const forwards = receiver.requests.filter((r) => JSON.parse(r.body).event === "message");
  assert.ok(forwards.every(verified));
  assert.deepEqual(
    forwards.map((r) => JSON.parse(r.body)),
    forwards.map(() => ({
      event: "message",
      id: messageId,
      backend: "gw",
      from: "+255700000009",
      text: "REPORT 3",
      date: JSON.parse(forwards[0].body).date,
      fields: {},
    })),
  );
  const deliveries = new Set(forwards.map((r) => String(r.headers["x-rapidsms-delivery"])));
  assert.equal(deliveries.size, 1, "one delivery id for the message, however often it was POSTed");
  assert.equal(taken.get([...deliveries][0]), 1, "accepted once by the receiver");
  const [forward] = (await detail(messageId)).forwards;
  assert.deepEqual([forward.kind, forward.status, forward.answerStatus], ["message", "S", 200]);
  const replies = (await (await api(`/api/messages?direction=O`)).json()) as { messages: { inResponseTo: string; text: string }[] };
  assert.deepEqual(
    replies.messages.map((m) => [m.inResponseTo, m.text]),
    [[messageId, "got: REPORT 3"]],
    "the webhook app handled it: no default response",
  );

  const sendsBefore = gateway.requests.length;
  const queued = await api("/api/messages", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      backend: "gw",
      identities: ["+255700000010"],
      text: "your results are ready",
      eventUrl: `http://127.0.0.1:${receiverPort}/events?k=1`,
    }),
  });
  assert.equal(queued.status, 202);
  const { id: outboundId } = (await queued.json()) as { id: string };
  await eventually("the send at the gateway", () => gateway.requests.length > sendsBefore);
  await eventually("the message sent", async () => (await detail(outboundId)).status === "S");
  const report = await api(`/backend/gw/status/?${new URLSearchParams({ id: `gw-${sends}`, status: "delivered" })}`);
  assert.equal(report.status, 200);
  const statusEvents = () => receiver.requests.filter((r) => r.url === "/events?k=1").map((r) => JSON.parse(r.body));
  await eventually("queued, sent and delivered at the eventUrl", () => statusEvents().length >= 3);
  assert.deepEqual(
    statusEvents().map((e) => [e.event, e.messageId, e.identity, e.status]),
    [
      ["status", outboundId, "+255700000010", "queued"],
      ["status", outboundId, "+255700000010", "sent"],
      ["status", outboundId, "+255700000010", "delivered"],
    ],
  );
  // The receiver has the third POST before the server has recorded its answer.
  await eventually("every forward recorded as sent", async () => (await detail(outboundId)).forwards.every((f) => f.status === "S"));
  const shown = (await detail(outboundId)).forwards;
  assert.deepEqual(
    shown.map((f) => [f.kind, f.url, f.status]),
    [
      ["status", `http://127.0.0.1:${receiverPort}/events?…`, "S"],
      ["status", `http://127.0.0.1:${receiverPort}/events?…`, "S"],
      ["status", `http://127.0.0.1:${receiverPort}/events?…`, "S"],
    ],
  );

  const refused = await api("/api/messages", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ backend: "gw", identities: ["1"], text: "x", eventUrl: "file:///etc/passwd" }),
  });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { error: string }).error, /eventUrl: has the scheme file/);
});
