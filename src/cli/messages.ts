import { broadcastToGroup } from "../broadcast.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import type { MessageRecord } from "../store/store.ts";
import { createSystem, type System } from "../system.ts";

interface CommonOptions {
  config?: string;
}

async function withSystem<T>(options: CommonOptions, run: (system: System) => Promise<T>): Promise<T> {
  const config = await loadConfig({ configPath: options.config });
  const system = await createSystem(config);
  try {
    return await run(system);
  } finally {
    await system.close();
  }
}

function requireBackend(system: System, name: string): void {
  if (!system.backends.has(name)) {
    const installed = [...system.backends.keys()].join(", ") || "none";
    throw new ConfigError(`no backend named "${name}" is installed (installed: ${installed})`);
  }
}

function describeOutgoing(record: MessageRecord): string[] {
  return record.transmissions.map((t) => `${t.status}  to ${t.identity} via ${t.backend}: ${record.text}${t.error ? `  (${t.error})` : ""}`);
}

/**
 * `rapidsms send`: queues the message (to `--to` on `--backend`, or to every member of
 * `--group`), waits until it is sent or failed (or `waitMs`, default 30 s, while retries go on),
 * and prints one line per recipient with its status.
 */
export async function runSend(options: CommonOptions & { backend?: string; to?: string[]; group?: string; text: string; waitMs?: number }): Promise<void> {
  if ((options.group === undefined) === (options.to === undefined)) throw new ConfigError("send: give --to with --backend, or --group (not both)");
  if (options.to !== undefined && options.backend === undefined) throw new ConfigError("send: --to needs --backend, the backend to send through");
  const failed = await withSystem(options, async (system) => {
    const ids = options.group !== undefined ? await sendToGroup(system, options.group, options.backend, options.text) : [await sendTo(system, options)];
    let failures = false;
    for (const id of ids) {
      const record = id === undefined ? undefined : await system.pipeline.waitForMessage(id, options.waitMs);
      if (!record) {
        process.stdout.write("the message was cancelled by an app's outgoing phase\n");
        failures = true;
        continue;
      }
      process.stdout.write(`message ${record.id}: ${record.status}\n${describeOutgoing(record).join("\n")}\n`);
      if (record.status === "P") process.stdout.write("still being retried: the server will go on trying (rapidsms start)\n");
      failures ||= record.status === "E";
    }
    return failures;
  });
  if (failed) process.exitCode = 1;
}

async function sendTo(system: System, options: { backend?: string; to?: string[]; text: string }): Promise<string | undefined> {
  requireBackend(system, options.backend!);
  const connections = await system.router.lookupConnections(options.backend!, options.to!);
  const msg = await system.router.send(options.text, connections);
  return msg.processed ? msg.id : undefined;
}

async function sendToGroup(system: System, group: string, backend: string | undefined, text: string): Promise<(string | undefined)[]> {
  const sent = await broadcastToGroup(system, { group: /^\d+$/.test(group) ? Number(group) : group, backend, text });
  if (sent.refused) throw new ConfigError(`send --group: ${sent.message}`);
  if (sent.skipped > 0) process.stdout.write(`${sent.skipped} member(s) of ${group} have no connection to send to\n`);
  return sent.ids.length > 0 ? sent.ids : [undefined];
}

/** `rapidsms receive`: runs an inbound message through the apps and prints the replies. */
export async function runReceive(options: CommonOptions & { backend: string; from: string; text: string }): Promise<void> {
  await withSystem(options, async (system) => {
    const [connection] = await system.router.lookupConnections(options.backend, [options.from]);
    const msg = await system.router.receive(options.text, connection);
    const incoming = await system.pipeline.waitForMessage(msg.id);
    const replies = await Promise.all(
      (await system.store.listMessages({ inResponseTo: msg.id })).map(async (reply) => (await system.pipeline.waitForMessage(reply.id)) ?? reply),
    );
    process.stdout.write(`message ${msg.id}: ${incoming?.status ?? "?"}${incoming?.error ? ` (${incoming.error})` : ""}\n`);
    if (replies.length === 0) process.stdout.write("no replies\n");
    for (const reply of replies.reverse()) process.stdout.write(`${describeOutgoing(reply).join("\n")}\n`);
  });
}
