import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";

/** Whether a POST from RapidSMS.ts is signed with `secret`, within 5 minutes (older ones may be replays). */
export function verifyRapidSms(secret: string, rawBody: Buffer, timestamp: string | undefined, signature: string | undefined): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest("hex")}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A receiver: answers each inbound message with `reply(text)`'s texts, and drops a delivery it has taken already. */
export function webhookReceiver(secret: string, reply: (message: { from: string; text: string }) => string[]): Server {
  const taken = new Set<string>(); // keep these in your database in a real app
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      const header = (name: string) => request.headers[name] as string | undefined;
      if (!verifyRapidSms(secret, raw, header("x-rapidsms-timestamp"), header("x-rapidsms-signature"))) {
        response.writeHead(401).end("bad signature");
        return;
      }
      const delivery = header("x-rapidsms-delivery") ?? "";
      const event = JSON.parse(raw.toString("utf8"));
      if (taken.has(delivery) || event.event !== "message") {
        response.writeHead(204).end(); // a repeat, or a status event
        return;
      }
      taken.add(delivery);
      const replies = reply(event).map((text) => ({ text }));
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ replies }));
    });
  });
}
