import { loadConfig } from "../config/load.ts";
import { BACKEND_PREFIXES } from "../server/server.ts";
import { createSystem } from "../system.ts";
import { redactOptions } from "../config/redact.ts";
import { viewUrl } from "../backends/public-url.ts";
import type { BackendHealth } from "../backends/backend.ts";

/**
 * `rapidsms backends`: name, engine, inbound URLs and options (secrets redacted) of each backend,
 * and for backends that keep connections to their gateway (SMPP binds), their state in the server
 * running on this machine at the config's port, when one answers.
 */
export async function runBackends(options: { config?: string }): Promise<void> {
  const config = await loadConfig({ configPath: options.config });
  const live = await liveHealth(config.host, config.port, config.apiToken);
  const system = await createSystem({ ...config, database: "sqlite::memory:", databaseSchema: null });
  try {
    const names = Object.keys(config.backends);
    if (names.length === 0) process.stdout.write("no backends installed\n");
    for (const name of names) {
      const { engine, options: backendOptions } = config.backends[name];
      const backend = system.backends.get(name)!;
      // With a publicUrl, the URLs to give the provider whole; without, the paths on this server.
      const urls = backend.views().map((view) => viewUrl(backend.port, view.path) ?? `${BACKEND_PREFIXES[0]}/${name}/${view.path}`);
      process.stdout.write(`${name}\n  engine:  ${engine.engine}\n  inbound: ${urls.join(", ") || "none (send only)"}\n`);
      process.stdout.write(`  options: ${JSON.stringify(redactOptions(backendOptions, engine.secretOptions))}\n`);
      if (backend.health()) process.stdout.write(describeHealth(live, name));
    }
  } finally {
    await system.close();
  }
}

/** What a running server's /healthz says of its backends' connections, or why there is none to ask. */
type Live = { backends: Record<string, BackendHealth> } | { unreachable: string };

async function liveHealth(host: string, port: number, token: string | null): Promise<Live> {
  // A server listening on every address is reached on loopback.
  const at = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const url = `http://${at.includes(":") ? `[${at}]` : at}:${port}/healthz`;
  try {
    // The token lets /healthz show the counters too.
    const answer = await fetch(url, { signal: AbortSignal.timeout(2_000), headers: token ? { authorization: `Bearer ${token}` } : {} });
    const body = (await answer.json()) as { backends?: Record<string, BackendHealth> };
    return { backends: body.backends ?? {} };
  } catch {
    return { unreachable: `no server answers at ${url}` };
  }
}

function describeHealth(live: Live, name: string): string {
  if ("unreachable" in live) return `  live:    ${live.unreachable}\n`;
  const health = live.backends[name];
  if (!health) return "  live:    the running server does not report this backend (another config?)\n";
  const lines = [`  live:    ${health.status}`];
  for (const c of health.connections) lines.push(`    ${c.name}: ${c.state} since ${c.since}`);
  for (const problem of health.problems ?? []) lines.push(`    problem: ${problem}`);
  if (health.counts)
    lines.push(
      `    counts: ${Object.entries(health.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  return `${lines.join("\n")}\n`;
}
