import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import Fastify from "fastify";
import { createServer, createSystem, resolveConfig } from "rapidsms-ts";
import { asView as fastifyView, createRapidSms } from "rapidsms-ts/fastify";
import { asView as fetchView } from "rapidsms-ts/fetch";
import { config, hostApp } from "./url-patterns.ts";

test("a urls entry serves the backend's view at its own path, and the /backend/<name>/ URL stays", async () => {
  const system = await createSystem(await resolveConfig({ ...config, database: "sqlite::memory:" }));
  const app = await createServer(system);
  try {
    for (const url of ["/sms/incoming/?identity=1&text=hi", "/sms/incoming?identity=1&text=hi", "/backend/mybackend/?identity=1&text=hi"]) {
      const response = await app.inject({ url });
      assert.deepEqual([response.statusCode, response.body], [200, "OK"], url);
    }
    const refused = await app.inject({ url: "/sms/incoming/?identity=1" });
    assert.deepEqual([refused.statusCode, refused.body], [400, "form failed to validate\ntext: This field is required."]);
  } finally {
    await app.close();
    await system.close();
  }
});

test("a urls entry for a backend that is not installed, or a view it does not have, stops the start with the reason", async () => {
  await assert.rejects(
    resolveConfig({ ...config, urls: { "/x/": { backend: "nope" } } }),
    /urls: "\/x\/" names backend "nope", which is not installed; installed: mybackend/,
  );
  const system = await createSystem(
    await resolveConfig({ ...config, urls: { "/x/": { backend: "mybackend", view: "status/" } }, database: "sqlite::memory:" }),
  );
  await assert.rejects(createServer(system), /backend "mybackend" has no view "status\/"; its views: ""/);
  await system.close();
});

test("asView mounts one backend's view at any path of a host: Express, Fastify and a fetch handler", async () => {
  const { app, sms } = await hostApp({ database: "sqlite::memory:" });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const host = Fastify();
  await host.register(fastifyView(sms, { backendName: "mybackend" }), { prefix: "/gateway/in" });
  const viaFetch = await fetchView(sms, { backendName: "mybackend" });
  try {
    const { port } = server.address() as AddressInfo;
    const express = await fetch(`http://127.0.0.1:${port}/incoming/sms?identity=255700000001&text=echo+hi`);
    assert.deepEqual([express.status, await express.text()], [200, "OK"]);
    const form = await fetch(`http://127.0.0.1:${port}/incoming/sms`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "identity=255700000001&text=caf%E9",
    });
    assert.equal(form.status, 400, "the view reads the body itself, strictly");
    const fastify = await host.inject({ url: "/gateway/in?identity=255700000002&text=hello" });
    assert.deepEqual([fastify.statusCode, fastify.body], [200, "OK"]);
    const fetched = await viaFetch(new Request("http://host.example/anything/at/all?identity=255700000003&text=hey"));
    assert.deepEqual([fetched.status, await fetched.text()], [200, "OK"]);
    const stored = await sms.system.store.listMessages({ direction: "I" });
    assert.deepEqual(stored.map((m) => m.text).sort(), ["echo hi", "hello", "hey"]);
  } finally {
    server.close();
    await host.close();
    await sms.close();
  }
});

test("createRapidSms without start() accepts but leaves the processing to the workers", async () => {
  const sms = await createRapidSms({ ...config, database: "sqlite::memory:" });
  const view = await fetchView(sms, { backendName: "mybackend" });
  await view(new Request("http://host.example/?identity=1&text=echo+later"));
  const [message] = await sms.system.store.listMessages({ direction: "I" });
  assert.equal(message.status, "Q");
  await sms.start();
  await sms.system.pipeline.idle();
  assert.equal((await sms.system.store.getMessage(message.id))?.status, "R");
  await sms.close();
});
