import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { FakeGateway } from "./fake-gateway.ts";
import { freePort } from "./free-port.ts";
import { startServer, type ServerProcess } from "./server-process.ts";

export interface MessageRow {
  id: string;
  direction: "I" | "O";
  status: string;
  text: string;
  fields: Record<string, unknown>;
  externalId: string | null;
}

/** A running `rapidsms start` on a SQLite file, with one provider played by a mock gateway on loopback. */
export interface GatewayE2E {
  /** The server, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** The provider's API: backends are configured with it as their apiUrl/baseUrl. */
  gateway: FakeGateway;
  server: ServerProcess;
  /** Every message stored, oldest first (read from the server's database file). */
  messages(): MessageRow[];
  /** `GET /api/messages/<id>` (loopback, no token needed). */
  status(id: string): Promise<{
    status: string;
    transmissions: { identity: string; status: string; externalId: string | null; error: string | null; segments: number | null }[];
  }>;
  /** Waits until `check` gives something truthy (every 50 ms, up to `timeoutMs`), and returns it. */
  waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs?: number): Promise<NonNullable<T>>;
  /** Stops the server (SIGTERM) and starts it again on the same port and database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the server with `backends(gatewayUrl, serverUrl)` installed, the apps given (echo by
 * default) and `publicUrl` = the server's own URL, so that callback URLs point back at it.
 */
export async function startGatewayE2E(options: {
  backends: (gatewayUrl: string, serverUrl: string) => Record<string, Record<string, unknown>>;
  apps?: string[];
  extra?: Record<string, unknown>;
}): Promise<GatewayE2E> {
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-gateway-e2e-"));
  const gateway = new FakeGateway();
  await gateway.listen();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configPath = join(dir, "rapidsms.config.json");
  const dbPath = join(dir, "e2e.db");
  writeFileSync(
    configPath,
    JSON.stringify({
      installedBackends: options.backends(gateway.url, url),
      apps: options.apps ?? ["echo", "default"],
      database: `sqlite:${dbPath}`,
      publicUrl: url,
      apiToken: "e2e-api-token-0123456789",
      logLevel: "warn",
      ...options.extra,
    }),
  );
  let server = await startServer(configPath, port);
  const api = { authorization: "Bearer e2e-api-token-0123456789" };
  const e2e: GatewayE2E = {
    url,
    gateway,
    get server() {
      return server;
    },
    messages() {
      const db = new DatabaseSync(dbPath, { readOnly: true });
      try {
        const rows = db.prepare("select id, direction, status, text, fields, external_id from messages order by created_at, rowid").all() as Record<
          string,
          string
        >[];
        return rows.map((row) => ({
          id: row.id,
          direction: row.direction as "I" | "O",
          status: row.status,
          text: row.text,
          fields: JSON.parse(row.fields) as Record<string, unknown>,
          externalId: row.external_id ?? null,
        }));
      } finally {
        db.close();
      }
    },
    async status(id) {
      const response = await fetch(`${url}/api/messages/${id}`, { headers: api });
      if (response.status !== 200) throw new Error(`GET /api/messages/${id} answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as Awaited<ReturnType<GatewayE2E["status"]>>;
    },
    async waitFor(what, check, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value) return value as NonNullable<typeof value>;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async restart() {
      server.child.kill("SIGTERM");
      await server.exited;
      server = await startServer(configPath, port);
    },
    async close() {
      server.child.kill("SIGTERM");
      await server.exited;
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return e2e;
}
