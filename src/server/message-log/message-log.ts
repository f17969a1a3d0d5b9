import { readFileSync } from "node:fs";
import type { FastifyPluginAsync } from "fastify";
import { protect, sendTextRefusal, type AccessPolicy } from "../access.ts";
import { textErrors } from "../errors.ts";

const asset = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");

/** Nothing from outside the server, no inline code or style, never inside another site's frame. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/**
 * The message log, mounted by the server under `/messages` when the API is on: a page that
 * searches messages and shows each one's timeline, drawn from the JSON API alone
 * (`GET /api/messages`, `/api/messages/<id>`, `/api/messages/stats`, `/api/messages.csv`), so the
 * page and the API cannot disagree. Guarded exactly as /api, under the same login realm, so
 * that a browser that logged in to the page sends the same credentials to the API.
 */
export function messageLogPages(policy: AccessPolicy): FastifyPluginAsync {
  const page = asset("./page.html");
  const script = asset("./log.js");
  const style = asset("./log.css");
  return async (pages) => {
    protect(pages, policy, { realm: "RapidSMS API", send: sendTextRefusal });
    pages.setErrorHandler(textErrors);
    pages.addHook("onSend", async (_request, reply) => void reply.headers(PAGE_HEADERS));
    // Relative, so that it holds under any prefix a host mounts RapidSMS at; the page must be at a
    // URL ending in "/" for its own relative links (static/, ../api/) to resolve.
    pages.get("/", async (request, reply) => {
      const [path, query] = request.url.split("?", 2);
      if (!path.endsWith("/")) return reply.redirect(`messages/${query === undefined ? "" : `?${query}`}`);
      return reply.type("text/html; charset=utf-8").send(page);
    });
    pages.get("/static/log.js", async (_request, reply) => reply.type("text/javascript; charset=utf-8").send(script));
    pages.get("/static/log.css", async (_request, reply) => reply.type("text/css; charset=utf-8").send(style));
  };
}
