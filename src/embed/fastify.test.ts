import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { createRapidSms, rapidsmsPlugin } from "./fastify.ts";

// As the security guide sets it up: no token, a reverse proxy on this machine in front.
const config = {
  installedBackends: { http: { engine: "http" } },
  database: "sqlite::memory:",
  publicUrl: "https://sms.example.org",
  trustedProxies: ["127.0.0.1"],
};

for (const trustProxy of [false, true]) {
  test(`mounted in a Fastify host with trustProxy ${trustProxy}: a client the proxy forwards is judged by RapidSMS's trustedProxies, not the host's request.ip`, async () => {
    const sms = await createRapidSms(config);
    const host = Fastify({ trustProxy });
    await host.register(rapidsmsPlugin, { rapidsms: sms, prefix: "/sms" });
    try {
      const through = (forwardedFor: string) =>
        host.inject({ url: "/sms/api/messages", remoteAddress: "127.0.0.1", headers: { host: "sms.example.org", "x-forwarded-for": forwardedFor } });
      // nginx appends the client's address to what the client sent: the last hop is the real one.
      assert.equal((await through("203.0.113.9")).statusCode, 403, "a remote client");
      assert.equal((await through("127.0.0.1, 203.0.113.9")).statusCode, 403, "a remote client that forged a loopback X-Forwarded-For");
      assert.equal((await through("127.0.0.1")).statusCode, 200, "a client on the proxy's machine");
      for (const url of ["/sms/%61pi/messages", "/sms/api%2Fmessages", "/sms/API/messages", "/sms//api/messages"]) {
        const encoded = await host.inject({ url, remoteAddress: "127.0.0.1", headers: { host: "sms.example.org", "x-forwarded-for": "203.0.113.9" } });
        assert.notEqual(encoded.statusCode, 200, `${url}: a path spelled otherwise is no way around the check`);
        assert.ok(encoded.statusCode < 500, `${url}: ${encoded.statusCode}`);
      }
    } finally {
      await host.close();
      await sms.close();
    }
  });
}

test("a host that parses forms itself still boots, and RapidSMS's routes keep their own parsers and 1 MiB limit", async () => {
  const sms = await createRapidSms({ installedBackends: { http: { engine: "http" } }, database: "sqlite::memory:" });
  const host = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  // As @fastify/formbody does.
  host.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, { host: body }));
  host.post("/host-form", async (request) => request.body);
  await host.register(rapidsmsPlugin, { rapidsms: sms, prefix: "/sms" });
  try {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    assert.deepEqual((await host.inject({ method: "POST", url: "/host-form", headers: form, payload: "a=1" })).json(), { host: "a=1" });
    const strict = await host.inject({ method: "POST", url: "/sms/backend/http/", headers: form, payload: "identity=1&text=caf%E9" });
    assert.equal(strict.statusCode, 400, "RapidSMS's own strict form parser");
    const big = JSON.stringify({ backend: "http", identities: ["1"], text: "x".repeat(2 * 1024 * 1024) });
    const tooBig = await host.inject({ method: "POST", url: "/sms/api/messages", headers: { "content-type": "application/json" }, payload: big });
    assert.equal(tooBig.statusCode, 413, "the 1 MiB limit, not the host's 10 MiB");
  } finally {
    await host.close();
    await sms.close();
  }
});
