import { userInfo } from "node:os";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import { silentLogger } from "../logger.ts";
import type { ConnectionRef, OptOutRecord } from "../store/store.ts";
import { createSystem, type System } from "../system.ts";

interface CommonOptions {
  config?: string;
}

/** The store through the config, with no workers: these commands only read and write opt-outs. */
async function withStore<T>(options: CommonOptions, run: (system: System) => Promise<T>): Promise<T> {
  const config = await loadConfig({ configPath: options.config });
  const system = await createSystem(config, silentLogger, "web");
  try {
    return await run(system);
  } finally {
    await system.close();
  }
}

function checked(system: System, { backend, identity }: ConnectionRef): ConnectionRef {
  const problem = system.pipeline.notInstalled(backend) ?? system.pipeline.unsendable(backend, identity);
  if (problem) throw new ConfigError(`${backend} ${identity}: ${problem}`);
  return { backend, identity };
}

function describe(record: OptOutRecord): string {
  const detail = record.detail ? `: ${record.detail}` : "";
  return `${record.identity} on ${record.backend}: opted out since ${record.since} (${record.source}${detail})`;
}

/** Who runs the command, for the record of an operator's opt-out. */
function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return "an operator";
  }
}

/** `rapidsms opt-out <backend> <identity>`: nothing more is sent to them (source `operator`). */
export async function runOptOut(options: CommonOptions & { backend: string; identity: string; reason?: string }): Promise<void> {
  await withStore(options, async (system) => {
    const ref = checked(system, options);
    const detail = options.reason ? `${operator()}: ${options.reason}` : operator();
    const { created, record } = await system.store.optOut({ ...ref, source: "operator", detail });
    process.stdout.write(`${created ? "" : "already "}${describe(record)}\n`);
  });
}

/** `rapidsms opt-in <backend> <identity>`: lifts their opt-out; exits 1 when there was none. */
export async function runOptIn(options: CommonOptions & { backend: string; identity: string }): Promise<void> {
  const lifted = await withStore(options, (system) => system.store.optIn(checked(system, options)));
  process.stdout.write(lifted ? `${options.identity} on ${options.backend}: opted back in\n` : `${options.identity} on ${options.backend} was not opted out\n`);
  if (!lifted) process.exitCode = 1;
}

/** `rapidsms opt-outs`: every opt-out (of `--backend`), one a line, oldest connection first. */
export async function runOptOuts(options: CommonOptions & { backend?: string; limit?: number }): Promise<void> {
  await withStore(options, async (system) => {
    if (options.backend !== undefined) checked(system, { backend: options.backend, identity: "-" });
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let shown = 0;
    let after: number | undefined;
    let total = 0;
    do {
      const page = await system.store.listOptOuts({ backend: options.backend, after, limit: Math.min(500, limit - shown) });
      total = page.total;
      for (const record of page.items) process.stdout.write(`${describe(record)}\n`);
      shown += page.items.length;
      after = page.next ?? undefined;
    } while (after !== undefined && shown < limit);
    process.stdout.write(total === 0 ? "nobody has opted out\n" : shown < total ? `${shown} of ${total} shown\n` : `${total} opted out\n`);
  });
}
