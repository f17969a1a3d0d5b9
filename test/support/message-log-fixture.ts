import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../../src/config/resolve.ts";
import { createServer } from "../../src/server/server.ts";
import { createSystem, type System } from "../../src/system.ts";
import { FakeGateway } from "./fake-gateway.ts";

/** Kannel's sendsms password: it must never show in the log, the API or the export. */
export const KANNEL_PASSWORD = "kannel-secret-password";

export interface MessageLogFixture {
  system: System;
  app: FastifyInstance;
  url: string;
  gateway: FakeGateway;
  /** The ids of the messages made, by what they are. */
  ids: { ping: string; pong: string; failing: string; failed: string; formula: string; formulaReply: string; unhandled: string };
  close(): Promise<void>;
}

/**
 * A running server with real traffic through the pipeline: messages in through Kannel's inbound
 * view, replies sent to a local stand-in for Kannel's sendsms (which answers with the URL it was
 * called at, password and all: the sender must redact it), one send the gateway refuses, and a
 * delivery report through Kannel's status view.
 */
export async function messageLogFixture(extra: { apiToken?: string } = {}): Promise<MessageLogFixture> {
  const gateway = new FakeGateway();
  gateway.respond = (request) => {
    const text = new URL(request.url, "http://x").searchParams.get("text") ?? "";
    if (text.includes("refuse")) return { status: 400, body: "Invalid destination", contentType: "text/plain" };
    return { status: 202, body: `0: Accepted for delivery, sent ${request.url}`, contentType: "text/plain" };
  };
  await gateway.listen();
  const config = await resolveConfig({
    installedBackends: {
      kannel: {
        engine: "kannel",
        sendsmsUrl: `${gateway.url}/cgi-bin/sendsms`,
        sendsmsParams: { username: "rapidsms", password: KANNEL_PASSWORD, from: "15555" },
      },
    },
    apps: ["echo", "ping", "default"],
    database: "sqlite::memory:",
    pipeline: { pollMs: 10, baseDelayMs: 10, maxDelayMs: 20 },
    ...extra,
  });
  const system = await createSystem(config);
  const app = await createServer(system);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });

  const receive = async (identity: string, text: string) => {
    const response = await fetch(`${url}/backend/kannel/?${new URLSearchParams({ id: identity, text })}`);
    if (response.status !== 200) throw new Error(`Kannel's inbound view answered ${response.status}: ${await response.text()}`);
    await system.pipeline.idle();
    const [message] = await system.store.listMessages({ identity, direction: "I", text, limit: 1 });
    const [reply] = await system.store.listMessages({ inResponseTo: message.id, limit: 1 });
    return { id: message.id, reply: reply?.id };
  };
  const ping = await receive("+255700000001", "ping");
  const failing = await receive("255700000002", "echo please refuse this");
  const formula = await receive("255700000003", 'echo =HYPERLINK("http://evil.example","click"), "quoted"');
  const unhandled = await receive("255700000001", "hello, anyone?");
  const report = await fetch(
    `${url}/backend/kannel/status/?${new URLSearchParams({ message_id: ping.reply!, identity: "+255700000001", status: "1", status_text: "DELIVRD" })}`,
  );
  if (report.status !== 200) throw new Error(`Kannel's status view answered ${report.status}: ${await report.text()}`);
  return {
    system,
    app,
    url,
    gateway,
    ids: {
      ping: ping.id,
      pong: ping.reply!,
      failing: failing.id,
      failed: failing.reply!,
      formula: formula.id,
      formulaReply: formula.reply!,
      unhandled: unhandled.id,
    },
    async close() {
      await app.close();
      await system.close();
      await gateway.close();
    },
  };
}
