import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";

/** Whether a POST from RapidSMS.ts is signed with `secret`, within 5 minutes (older ones may be replays). */
export function verifyRapidSms(
  secret: string,
  rawBody: Buffer,
  timestamp: string | undefined,
  delivery: string | undefined,
  signature: string | undefined,
): boolean {
  if (!timestamp || !delivery || !signature || !/^\d+$/.test(timestamp) || !/^\d+$/.test(delivery)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${timestamp}.${delivery}.`).update(rawBody).digest("hex")}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A receiver: answers each inbound message with `reply(message)`'s texts, and a delivery it has
 * answered already with the same answer (a repeat comes when your first answer did not reach
 * RapidSMS.ts: answering it with nothing would lose the replies).
 */
export function webhookReceiver(secret: string, reply: (message: { from: string; text: string }) => string[]): Server {
  const answers = new Map<string, string>(); // keep these in your database in a real app, with what you did for the message
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      const header = (name: string) => request.headers[name] as string | undefined;
      const delivery = header("x-rapidsms-delivery");
      if (!verifyRapidSms(secret, raw, header("x-rapidsms-timestamp"), delivery, header("x-rapidsms-signature"))) {
        response.writeHead(401).end("bad signature");
        return;
      }
      const event = JSON.parse(raw.toString("utf8"));
      if (event.event !== "message") {
        response.writeHead(204).end(); // a status event
        return;
      }
      let answer = answers.get(delivery as string);
      if (answer === undefined) {
        answer = JSON.stringify({ replies: reply(event).map((text) => ({ text })) });
        answers.set(delivery as string, answer);
      }
      response.writeHead(200, { "content-type": "application/json" }).end(answer);
    });
  });
}
