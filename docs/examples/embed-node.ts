import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { RapidSmsConfig } from "rapidsms-ts";
import { createRapidSms, nodeHandler } from "rapidsms-ts/node";

/** A plain node:http server: RapidSMS under /sms, and a route of the host's own that sends an SMS. */
export async function startNodeApp(config: RapidSmsConfig) {
  const sms = await createRapidSms(config);
  await sms.start();
  const rapidsms = await nodeHandler(sms, { prefix: "/sms" });

  const server = createServer((request, response) =>
    rapidsms(request, response, async () => {
      if (request.method !== "POST" || request.url !== "/appointments") return void response.writeHead(404).end();
      let body = "";
      for await (const chunk of request) body += chunk;
      const { phone, date } = JSON.parse(body);
      const id = await sms.send({ backend: "kannel", to: phone, text: `See you on ${date}` });
      response.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id }));
    }),
  );

  server.listen(0, "127.0.0.1");
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
