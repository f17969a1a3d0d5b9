import { broadcastToGroup } from "../broadcast.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError, InvalidInputError } from "../errors.ts";
import type { MessageRecord } from "../store/store.ts";
import { scheduledTime } from "../messages/send-at.ts";
import { createSystem, type Role, type System } from "../system.ts";
import { sendFile } from "./send-file.ts";

interface CommonOptions {
  config?: string;
}

async function withSystem<T>(options: CommonOptions, run: (system: System) => Promise<T>, role: Role = "all"): Promise<T> {
  const config = await loadConfig({ configPath: options.config });
  const system = await createSystem(config, undefined, role);
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

export interface SendOptions extends CommonOptions {
  backend?: string;
  to?: string[];
  group?: string;
  /** A CSV file of recipients (see recipients-file.ts), on `backend`. */
  file?: string;
  text: string;
  /** Send it then (ISO 8601 with a zone): stored now, sent by the server when due. */
  at?: string;
  /** With `file`: wait for the outcomes (default: queue and leave the sending to the server). */
  wait?: boolean;
  /** With `file`: queue again what an earlier run of the same command queued. */
  sendAgain?: boolean;
  waitMs?: number;
}

/**
 * `rapidsms send`: queues the message (to `--to` on `--backend`, or to every member of
 * `--group`), waits until it is sent or failed (or `waitMs`, default 30 s, while retries go on),
 * and prints one line per recipient with its status. With `--at` a later time, or `--file`
 * (see send-file.ts) without `--wait`, it only stores the messages: the server sends them.
 */
export async function runSend(options: SendOptions): Promise<void> {
  const given = [options.to, options.group, options.file].filter((r) => r !== undefined).length;
  if (given !== 1) throw new ConfigError("send: give --to with --backend, or --group (not both), or --file with --backend: one of them");
  if (options.to !== undefined && options.backend === undefined) throw new ConfigError("send: --to needs --backend, the backend to send through");
  if (options.file !== undefined && options.backend === undefined) throw new ConfigError("send: --file needs --backend, the backend to send through");
  if (options.at !== undefined && options.wait)
    throw new ConfigError("send: --wait waits for sends made now; a message sent --at a later time goes then (follow it at GET /api/messages/<id>)");
  if (options.file === undefined && (options.wait || options.sendAgain))
    throw new ConfigError("send: --wait and --send-again go with --file (a send with --to waits already)");
  // Checked before anything is stored; null when the time has come (sent now).
  const notBefore = options.at === undefined ? undefined : (atTime(options.at) ?? null);
  if (options.file !== undefined) {
    const file = options.file;
    // Without --wait, the server (rapidsms start) sends: this process only queues.
    const failed = await withSystem(
      options,
      // --at as given (a time that has come sends now): a rerun after it names the same chunks (see chunkId).
      (system) => sendFile(system, { ...options, file, backend: options.backend!, sendAt: options.at }),
      options.wait ? "all" : "web",
    );
    if (failed) process.exitCode = 1;
    return;
  }
  if (notBefore) {
    await withSystem(
      options,
      async (system) => {
        const ids =
          options.group !== undefined
            ? await sendToGroup(system, options.group, options.backend, options.text, notBefore)
            : [await sendTo(system, options, notBefore)];
        for (const id of ids) {
          if (id === undefined) process.stdout.write("the message was cancelled by an app's outgoing phase\n");
          else process.stdout.write(`message ${id}: scheduled for ${new Date(notBefore).toISOString()}; the server (rapidsms start) sends it then\n`);
        }
      },
      "web",
    );
    return;
  }
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

/** The epoch ms of `--at`, or undefined when that time has come; a ConfigError naming --at when it is not a time to send at. */
function atTime(at: string): number | undefined {
  try {
    return scheduledTime(at);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new ConfigError(`send --at ${JSON.stringify(at)}: ${error.reason}`);
    throw error;
  }
}

async function sendTo(system: System, options: { backend?: string; to?: string[]; text: string }, sendAt?: number): Promise<string | undefined> {
  requireBackend(system, options.backend!);
  const connections = await system.router.lookupConnections(options.backend!, options.to!);
  const msg = await system.router.send(options.text, connections, { sendAt });
  return msg.processed ? msg.id : undefined;
}

async function sendToGroup(system: System, group: string, backend: string | undefined, text: string, sendAt?: number): Promise<(string | undefined)[]> {
  const sent = await broadcastToGroup(system, { group: /^\d+$/.test(group) ? Number(group) : group, backend, text, sendAt });
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
