import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { type HttpBindings, serve } from "@hono/node-server";
import { Hono } from "hono";
import type { RapidSmsConfig } from "rapidsms-ts";
import { createRapidSms, fetchHandler } from "rapidsms-ts/fetch";

/** A host's Hono app with RapidSMS under /sms, and a route of its own that sends an SMS. */
export async function startHonoApp(config: RapidSmsConfig) {
  const sms = await createRapidSms(config);
  await sms.start();
  const handle = await fetchHandler(sms, { prefix: "/sms" });

  const app = new Hono<{ Bindings: HttpBindings }>();
  // The client's address lets /api answer this machine's clients without a token, as the server does.
  app.all("/sms/*", (c) => handle(c.req.raw, { remoteAddress: c.env.incoming.socket.remoteAddress }));
  app.post("/appointments", async (c) => {
    const { phone, date } = await c.req.json<{ phone: string; date: string }>();
    const id = await sms.send({ backend: "kannel", to: phone, text: `See you on ${date}` });
    return c.json({ id }, 202);
  });

  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sms,
    async close() {
      server.close();
      await sms.close();
    },
  };
}
