import Fastify from "fastify";
import type { RapidSmsConfig } from "rapidsms-ts";
import { createRapidSms, rapidsmsPlugin } from "rapidsms-ts/fastify";

/** A host's Fastify app with RapidSMS under /sms, and a route of its own that sends an SMS. */
export async function startFastifyApp(config: RapidSmsConfig) {
  const sms = await createRapidSms(config);
  await sms.start();

  const app = Fastify();
  await app.register(rapidsmsPlugin, { rapidsms: sms, prefix: "/sms" });
  app.post<{ Body: { phone: string; date: string } }>("/appointments", async (request, reply) => {
    const id = await sms.send({ backend: "kannel", to: request.body.phone, text: `See you on ${request.body.date}` });
    return reply.code(202).send({ id });
  });

  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    sms,
    async close() {
      // Fastify's close waits for every open connection, even a browser's spare one that never
      // sent a request (Node holds it for a minute): give them a few seconds, then cut them.
      const cut = setTimeout(() => app.server.closeAllConnections(), 3_000);
      await app.close();
      clearTimeout(cut);
      await sms.close();
    },
  };
}
