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

/**
 * Terminal escape sequences (CSI as in "ESC [ 2 J", and its one-byte form U+009B; OSC, DCS and
 * the other strings up to BEL or ST; two-byte escapes) and the control characters left (C0, DEL,
 * C1, and the bidirectional overrides that reorder what a terminal shows).
 */
const ESCAPES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it finds
  /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as for ESCAPES
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+/g;

/** Text from outside (a gateway's reason, an operator's), as a terminal may print it: no escapes, one line. */
function printable(text: string): string {
  return text.replace(ESCAPES, "").replace(CONTROLS, " ").trim();
}

function describe(record: OptOutRecord): string {
  const detail = record.detail ? `: ${printable(record.detail)}` : "";
  return `${printable(record.identity)} on ${record.backend}: opted out since ${record.since} (${record.source}${detail})`;
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
