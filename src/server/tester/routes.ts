import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { storeAndQueue } from "../../backends/message-tester/index.ts";
import type { System } from "../../system.ts";
import { refuseAccess } from "../auth.ts";

const asset = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");
const PAGE_SIZE = 20;

const identity = z
  .string({ error: "Phone number is required" })
  .trim()
  .min(1, "Phone number is required")
  .max(100, "Phone number is too long")
  .regex(/^\d+$/, "Phone number must be all numeric");
const sendBody = z.object({ identity, text: z.string().max(10_000) }).strict();
const bulkBody = z.object({ identity, lines: z.array(z.string().max(10_000)).min(1, "The file has no lines").max(1_000, "At most 1,000 lines at a time") }).strict();
const clearBody = z.object({ identity: identity.optional() }).strict();

/**
 * The message tester: a page that plays a phone on an httptester backend. What it sends goes
 * through the router like any inbound message; the replies the backend stores appear on the page,
 * pushed by server-sent events.
 */
export async function testerRoutes(app: FastifyInstance, system: System, options: { backend: string; token: string | null }): Promise<void> {
  const page = asset("./page.html");
  const script = asset("./tester.js");
  const style = asset("./tester.css");
  const { backend } = options;
  const streams = new Set<ServerResponse>();

  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith("/tester")) return;
    const refusal = refuseAccess(request, options.token, "RapidSMS message tester");
    if (refusal) return reply.code(refusal.status).headers(refusal.headers).type("text/plain; charset=utf-8").send(refusal.error);
  });
  // Event streams never finish on their own: end them so that shutdown does not wait for them.
  app.addHook("preClose", async () => {
    for (const stream of streams) stream.end();
  });

  app.get("/tester/", async (_request, reply) => reply.redirect(`/tester/${randomInt(111_111, 1_000_000)}/`));
  app.get("/tester/static/tester.js", async (_request, reply) => reply.type("text/javascript; charset=utf-8").send(script));
  app.get("/tester/static/tester.css", async (_request, reply) => reply.type("text/css; charset=utf-8").send(style));
  app.get<{ Params: { identity: string } }>("/tester/:identity/", async (request, reply) => {
    if (!/^\d{1,100}$/.test(request.params.identity)) return reply.redirect("/tester/");
    return reply.type("text/html; charset=utf-8").send(page);
  });

  app.get<{ Querystring: { page?: string } }>("/tester/api/messages", async (request) => {
    const total = await system.store.countBackendMessages({ name: backend });
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const current = Math.min(pages, Math.max(1, Number.parseInt(request.query.page ?? "1", 10) || 1));
    const rows = await system.store.listBackendMessages({ name: backend, limit: PAGE_SIZE, offset: (current - 1) * PAGE_SIZE });
    return {
      messages: rows.map((row) => ({ id: row.id, date: row.date, identity: row.identity, direction: row.direction, text: row.text })),
      page: current,
      pages,
      total,
    };
  });

  app.post("/tester/api/send", async (request, reply) => {
    const body = parse(sendBody, request.body, reply);
    if (!body) return reply;
    const [connection] = await system.router.lookupConnections(backend, [body.identity]);
    await storeAndQueue(system.router, backend, connection, body.text);
    return { flash: "Sent message" };
  });

  app.post("/tester/api/bulk", async (request, reply) => {
    const body = parse(bulkBody, request.body, reply);
    if (!body) return reply;
    const [connection] = await system.router.lookupConnections(backend, [body.identity]);
    for (const line of body.lines) await storeAndQueue(system.router, backend, connection, line);
    return { flash: `Sent ${body.lines.length} bulk messages` };
  });

  app.post("/tester/api/clear", async (request, reply) => {
    const body = parse(clearBody, request.body, reply);
    if (!body) return reply;
    await system.store.clearBackendMessages(backend, body.identity);
    return { flash: body.identity ? `Cleared ${body.identity} messages` : "Cleared all messages" };
  });

  app.get("/tester/api/events", (request, reply) => {
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    streams.add(stream);
    let last = "";
    let checking = false;
    const check = async () => {
      if (checking) return;
      checking = true;
      try {
        const [count, [newest]] = await Promise.all([
          system.store.countBackendMessages({ name: backend }),
          system.store.listBackendMessages({ name: backend, limit: 1 }),
        ]);
        const version = `${count}:${newest?.id ?? 0}`;
        if (version !== last) stream.write(`data: ${version}\n\n`);
        last = version;
      } catch {
        // The store is closing or busy: the next tick tries again.
      } finally {
        checking = false;
      }
    };
    const timer = setInterval(check, 250);
    void check();
    request.raw.on("close", () => {
      clearInterval(timer);
      streams.delete(stream);
    });
  });
}

function parse<T>(schema: z.ZodType<T>, input: unknown, reply: FastifyReply): T | undefined {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  reply.code(400).send({ error: result.error.issues[0].message });
  return undefined;
}
