// Hostile and broken bodies at every view of every provider's engine, through the real server:
// each is answered without a 5xx, and what is refused stores nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../src/config/resolve.ts";
import { createServer } from "../src/server/server.ts";
import { createSystem, type System } from "../src/system.ts";

/** JSON text of a value nested `depth` objects deep (written out: JSON.stringify would overflow first). */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}"deep"${"}".repeat(depth)}`;

/** Bodies a broken gateway or an attacker may send, as JSON (a string is JSON text already); a bare JSON string also goes as a form body. */
const BODIES: [string, unknown][] = [
  [
    "fields nested 20,000 levels deep",
    `{"from":"+254711000001","text":"x","id":"n1","content":"x","from_number":"+1","event":"sms:received","results":[{"messageId":"n1","from":"1","text":"x","nested":${nested(20_000)}}],"payload":${nested(20_000)},"extra":${nested(20_000)}}`,
  ],
  ["a JSON array", [1, 2, 3]],
  ["a JSON number", 42],
  ["JSON null", null],
  ["a JSON string", "hello"],
  [
    "fields of the wrong types",
    { from: { x: 1 }, text: ["a"], id: 5, sessionId: ["a", "b"], phoneNumber: 254711, results: "many", msisdn: [], event: { e: 1 }, payload: [] },
  ],
  ["results that are not objects", { results: [null, 1, "x", [], { messageId: {} }] }],
  ["100,000 results", { results: Array.from({ length: 100_000 }, (_, i) => ({ messageId: `m${i}`, from: "1", text: "x" })) }],
  [
    "an Android event with a payload of the wrong shape",
    { event: "sms:received", deviceId: 1, id: [], payload: { message: 5, sender: {}, receivedAt: "never" } },
  ],
];

/** How deep a JSON value nests (iteratively: the values tested are too deep to recurse over). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (item !== null && typeof item === "object") for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

let system: System;
let app: FastifyInstance;

before(async () => {
  const config = await resolveConfig({
    installedBackends: {
      at: { engine: "africastalking", username: "clinic", apiKey: "atsk_hostile_0123456789" },
      ib: { engine: "infobip", baseUrl: "https://x.api.infobip.com", apiKey: "ib-hostile-key-0123" },
      asg: { engine: "android-sms-gateway", username: "u", password: "asg-hostile-0123456" },
      tr: { engine: "telerivet", apiKey: "tr-hostile-key-0123", projectId: "PJ1" },
      vn: { engine: "vonage", apiKey: "abcd1234", apiSecret: "vn-hostile-0123456", from: "AcmeInc" },
      tw: { engine: "twilio", accountSid: `AC${"0".repeat(32)}`, authToken: "tw-hostile-token-0123", from: "+14155550199" },
    },
    apps: [],
    database: "sqlite::memory:",
  });
  system = await createSystem(config, undefined, "web");
  app = await createServer(system);
  await app.ready();
});
after(async () => {
  await app?.close();
  await system?.close();
});

const inbound = async () => (await system.store.listMessages({ direction: "I", limit: 100_000 })).length;

test("no body at any provider engine's view gets a 5xx, fields nested too deep are refused, and a refused body stores nothing", async () => {
  const seen: string[] = [];
  for (const [name, backend] of system.backends) {
    for (const view of backend.views()) {
      const url = `/backend/${name}/${view.path}`;
      for (const [what, body] of BODIES) {
        const requests = [
          { headers: { "content-type": "application/json" }, payload: typeof body === "string" && body.startsWith("{") ? body : JSON.stringify(body) },
        ];
        if (typeof body === "string" && !body.startsWith("{"))
          requests.push({ headers: { "content-type": "application/x-www-form-urlencoded" }, payload: `text=${body}&from[]=1&id=` });
        for (const request of requests) {
          const before = await inbound();
          const response = await app.inject({ method: "POST", url, ...request });
          seen.push(`${url} ${what}: ${response.statusCode}`);
          // Stored, so deep a value overflows the stack of whoever serialises it next (the store thread, the API).
          if (what.includes("nested") && (await inbound()) > before) {
            const [message] = await system.store.listMessages({ direction: "I", limit: 1 });
            assert.ok(depthOf(message.fields) <= 40, `${url} stored fields nested ${depthOf(message.fields)} deep`);
          }
          assert.ok(response.statusCode < 500, `${url} with ${what} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
          if (response.statusCode >= 400) assert.equal(await inbound(), before, `${url} with ${what} refused but stored`);
        }
      }
    }
  }
  assert.ok(seen.length > 60, `${seen.length} requests`);
});
