import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express from "express";
import type { RapidSmsConfig } from "rapidsms-ts";
import { createRapidSms, expressRouter } from "rapidsms-ts/express";

/** A host's Express app with RapidSMS under /sms, and a route of its own that sends an SMS. */
export async function startExpressApp(config: RapidSmsConfig) {
  const sms = await createRapidSms(config);
  await sms.start();

  const app = express();
  // Before any body parser: RapidSMS reads the gateways' bodies itself.
  app.use("/sms", await expressRouter(sms));
  app.use(express.json());
  app.post("/appointments", async (req, res) => {
    const id = await sms.send({ backend: "kannel", to: req.body.phone, text: `See you on ${req.body.date}` });
    res.status(202).json({ id });
  });

  const server = app.listen(0, "127.0.0.1");
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
