import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Connection } from "../../messages/connection.ts";
import { unfitText } from "../../messages/limits.ts";
import type { BackendPort, PagesContext } from "../port.ts";
import { ChangeFeed } from "./feed.ts";

/** What the pages need of the message tester's backend (TesterBackend). */
export interface TesterBackend {
  readonly port: BackendPort;
  onChange(listener: () => void): () => void;
  receiveFromTester(connection: Connection, text: string): Promise<void>;
  clear(identity?: string): Promise<number>;
}

const asset = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");
const PAGE_SIZE = 20;

/** Nothing from outside the server, no inline code, never inside another site's frame. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const identity = z
  .string({ error: "Phone number is required" })
  .trim()
  .min(1, "Phone number is required")
  .max(100, "Phone number is too long")
  .regex(/^\d+$/, "Phone number must be all numeric");
const text = z
  .string()
  .max(10_000)
  .superRefine((value, ctx) => {
    const unfit = unfitText(value);
    if (unfit) ctx.addIssue({ code: "custom", message: `The message is not valid text: ${unfit}` });
  });
const sendBody = z.object({ identity, text }).strict();
const bulkBody = z.object({ identity, lines: z.array(text).min(1, "The file has no lines").max(1_000, "At most 1,000 lines at a time") }).strict();
const clearBody = z.object({ identity: identity.optional() }).strict();

/**
 * The message tester, mounted by the server under `/tester`: a page that plays a phone on an
 * httptester backend. What it sends goes in like any inbound message; the replies the backend
 * stores appear on the page, announced by server-sent events. The server's guard decides who may
 * use it (as for /api).
 */
export function testerPages(backend: TesterBackend, context: PagesContext): FastifyPluginAsync {
  const feed = new ChangeFeed({
    maxStreams: context.maxStreams,
    pollMs: 2_000,
    heartbeatMs: 25_000,
    version: async () => {
      const [count, [newest]] = await Promise.all([backend.port.messages.count(), backend.port.messages.list({ limit: 1 })]);
      return `${count}:${newest?.id ?? 0}`;
    },
  });
  const stopWatching = backend.onChange(() => feed.changed());

  return async (tester) => {
    tester.addHook("onSend", async (_request, reply) => void reply.headers(PAGE_HEADERS));
    // Event streams never finish on their own: end them so that shutdown does not wait for them.
    tester.addHook("preClose", async () => {
      stopWatching();
      feed.end();
    });
    await tester.register(async (pages) => {
      context.protect(pages, { realm: "RapidSMS message tester", errors: "text" });
      pageRoutes(pages);
    });
    await tester.register(
      async (api) => {
        context.protect(api, { realm: "RapidSMS message tester", errors: "json" });
        apiRoutes(api, backend, feed);
      },
      { prefix: "/api" },
    );
  };
}

function pageRoutes(pages: FastifyInstance): void {
  const page = asset("./page.html");
  const script = asset("./tester.js");
  const style = asset("./tester.css");
  // Redirects are relative: the host may have mounted RapidSMS under a prefix of its own, which
  // these routes do not see. The page itself is always served at a URL ending in "/", so that its
  // own relative links (../static/, ../api/) resolve.
  pages.get("/", async (request, reply) => reply.redirect(`${endsWithSlash(request) ? "" : "tester/"}${randomInt(111_111, 1_000_000)}/`));
  pages.get("/static/tester.js", async (_request, reply) => reply.type("text/javascript; charset=utf-8").send(script));
  pages.get("/static/tester.css", async (_request, reply) => reply.type("text/css; charset=utf-8").send(style));
  pages.get<{ Params: { identity: string } }>("/:identity/", async (request, reply) => {
    const slash = endsWithSlash(request);
    if (!/^\d{1,100}$/.test(request.params.identity)) return reply.redirect(slash ? "../" : "./");
    if (!slash) return reply.redirect(`${request.params.identity}/`);
    return reply.type("text/html; charset=utf-8").send(page);
  });
}

function endsWithSlash(request: FastifyRequest): boolean {
  return request.url.split("?")[0].endsWith("/");
}

function apiRoutes(api: FastifyInstance, backend: TesterBackend, feed: ChangeFeed): void {
  const { port } = backend;
  api.get<{ Querystring: { page?: string } }>("/messages", async (request) => {
    const total = await port.messages.count();
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const current = Math.min(pages, Math.max(1, Number.parseInt(request.query.page ?? "1", 10) || 1));
    const rows = await port.messages.list({ limit: PAGE_SIZE, offset: (current - 1) * PAGE_SIZE });
    return {
      messages: rows.map((row) => ({ id: row.id, date: row.date, identity: row.identity, direction: row.direction, text: row.text })),
      page: current,
      pages,
      total,
    };
  });

  api.post("/send", async (request, reply) => {
    const body = parse(sendBody, request.body, reply);
    if (!body) return reply;
    const [connection] = await port.lookupConnections([body.identity]);
    await backend.receiveFromTester(connection, body.text);
    return { flash: "Sent message" };
  });

  api.post("/bulk", async (request, reply) => {
    const body = parse(bulkBody, request.body, reply);
    if (!body) return reply;
    const [connection] = await port.lookupConnections([body.identity]);
    for (const line of body.lines) await backend.receiveFromTester(connection, line);
    return { flash: `Sent ${body.lines.length} bulk messages` };
  });

  api.post("/clear", async (request, reply) => {
    const body = parse(clearBody, request.body, reply);
    if (!body) return reply;
    await backend.clear(body.identity);
    return { flash: body.identity ? `Cleared ${body.identity} messages` : "Cleared all messages" };
  });

  api.get("/events", (_request, reply) => {
    reply.hijack();
    if (!feed.open(reply.raw)) {
      const error = feed.ended
        ? "the server is shutting down: reload the page once it is back"
        : "too many tester pages are open: close some, or reload this one later";
      reply.raw.writeHead(503, { "content-type": "application/json", "retry-after": "30", ...PAGE_HEADERS }).end(JSON.stringify({ error }));
    }
  });
}

function parse<T>(schema: z.ZodType<T>, input: unknown, reply: FastifyReply): T | undefined {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  reply.code(400).send({ error: result.error.issues[0].message });
  return undefined;
}
