import { loadConfig } from "../config/load.ts";
import { BACKEND_PREFIXES } from "../server/server.ts";
import { createSystem } from "../system.ts";
import { redactOptions } from "../config/redact.ts";
import { viewUrl } from "../backends/public-url.ts";

/** `rapidsms backends`: name, engine, inbound URLs and options (secrets redacted) of each backend. */
export async function runBackends(options: { config?: string }): Promise<void> {
  const config = await loadConfig({ configPath: options.config });
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
    }
  } finally {
    await system.close();
  }
}
