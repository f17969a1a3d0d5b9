import { createHash } from "node:crypto";
import cliProgress from "cli-progress";
import { ConfigError } from "../errors.ts";
import { LIMITS } from "../messages/limits.ts";
import { scheduledTime } from "../messages/send-at.ts";
import type { System } from "../system.ts";
import { LISTED_REFUSALS, readRecipients, type Recipients } from "./recipients-file.ts";

export interface SendFileOptions {
  file: string;
  backend: string;
  text: string;
  /** When to send (see scheduledTime): a time that has come sends now, and names the same chunks as before it came. */
  sendAt?: Date | string | number;
  /** Wait for the outcomes (this process sends too), `waitMs` at most. */
  wait?: boolean;
  waitMs?: number;
  /** Send again what an earlier run of the same command queued (see chunkId). */
  sendAgain?: boolean;
}

/** Where the progress goes: a bar on a terminal, a line per chunk otherwise (CI, a pipe, a log). */
interface Progress {
  update(done: number): void;
  stop(): void;
}

function progress(total: number, out: NodeJS.WriteStream): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: "queueing {bar} {value}/{total} recipients ({percentage}%, {eta_formatted} left)", hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  return { update: (done) => out.write(`queued ${done} of ${total} recipient(s)\n`), stop: () => {} };
}

/**
 * A chunk's message id, the same for the same chunk of the same command: a run started again
 * after a crash finds the chunks the first run stored, and does not queue them twice. With
 * `again`, a fresh id: the same message to the same file, sent on purpose once more.
 */
function chunkId(parts: { backend: string; text: string; requestedAt: number | null; identities: readonly string[]; again: boolean }): string {
  const hash = createHash("sha256").update(JSON.stringify([parts.backend, parts.text, parts.requestedAt, parts.identities]));
  if (parts.again) hash.update(`${Date.now()}:${Math.random()}`);
  return hash.digest("hex").slice(0, 32);
}

/** The epoch ms `sendAt` names (rounded up, as scheduledTime does), or null without one. */
function requestedTime(sendAt: Date | string | number | undefined): number | null {
  if (sendAt === undefined) return null;
  return Math.ceil(typeof sendAt === "number" ? sendAt : new Date(sendAt).getTime());
}

/**
 * `rapidsms send --file recipients.csv`: queues `text` to every identity in the file, in messages
 * of LIMITS.recipients recipients, then prints a summary: queued, skipped, refused (with lines),
 * and with `wait`, how many ended sent, delivered or failed. Resolves whether anything failed or
 * was refused.
 */
export async function sendFile(system: System, options: SendFileOptions, out: NodeJS.WriteStream = process.stdout): Promise<boolean> {
  const { backend, text } = options;
  const notInstalled = system.pipeline.notInstalled(backend);
  if (notInstalled) throw new ConfigError(`send --file: ${notInstalled}`);
  const notBefore = scheduledTime(options.sendAt);
  // The command's time, as asked, whether or not it has come: a rerun after it names the same chunks.
  const requestedAt = requestedTime(options.sendAt);
  const recipients = await readRecipients(options.file, (identity) => system.pipeline.unsendable(backend, identity));
  const { identities } = recipients;
  const ids: string[] = [];
  let queued = 0;
  let queuedMessages = 0;
  let earlier = 0;
  let cancelled = 0;
  const bar = progress(identities.length, out);
  try {
    for (let at = 0; at < identities.length; at += LIMITS.recipients) {
      const chunk = identities.slice(at, at + LIMITS.recipients);
      const id = chunkId({ backend, text, requestedAt, identities: chunk, again: !!options.sendAgain });
      if (await system.store.getMessage(id)) {
        earlier += chunk.length;
        ids.push(id);
      } else {
        const msg = await system.router.send(text, await system.router.lookupConnections(backend, chunk), { id, sendAt: notBefore });
        if (msg.processed) {
          queued += chunk.length;
          queuedMessages++;
          ids.push(id);
        } else cancelled += chunk.length;
      }
      bar.update(at + chunk.length);
    }
  } finally {
    bar.stop();
  }
  out.write(summary(recipients, { queued, queuedMessages, earlier, cancelled, ids, notBefore, file: options.file }));
  let failed = recipients.refused.length > 0;
  if (options.wait && ids.length > 0) failed = (await waitForOutcomes(system, ids, options.waitMs, out)) || failed;
  else if (ids.length > 0) out.write("the server (rapidsms start) sends them; follow each at GET /api/messages/<id>\n");
  return failed;
}

function summary(
  recipients: Recipients,
  sent: { queued: number; queuedMessages: number; earlier: number; cancelled: number; ids: readonly string[]; notBefore: number | undefined; file: string },
): string {
  const lines = [
    `${sent.file}: ${recipients.column === null ? "no header, read the first column" : `read column "${recipients.column}"`}`,
    `queued ${sent.queued} recipient(s) in ${sent.queuedMessages} message(s)${sent.notBefore ? `, to be sent at ${new Date(sent.notBefore).toISOString()}` : ""}`,
  ];
  if (sent.earlier > 0)
    lines.push(`already queued by an earlier run of this command: ${sent.earlier} recipient(s), not queued again (--send-again to send them once more)`);
  if (sent.cancelled > 0) lines.push(`cancelled by an app's outgoing phase: ${sent.cancelled} recipient(s)`);
  lines.push(`skipped ${recipients.duplicates} duplicate(s)`);
  if (recipients.blank > 0) lines.push(`skipped ${recipients.blank} blank row(s)`);
  lines.push(`refused ${recipients.refused.length} row(s)${recipients.refused.length > 0 ? ":" : ""}`);
  for (const row of recipients.refused.slice(0, LISTED_REFUSALS)) lines.push(`  line ${row.line}: ${JSON.stringify(row.value.slice(0, 40))}: ${row.reason}`);
  if (recipients.refused.length > LISTED_REFUSALS) lines.push(`  … and ${recipients.refused.length - LISTED_REFUSALS} more`);
  if (sent.ids.length > 0) lines.push(`message id(s): ${sent.ids.slice(0, 3).join(", ")}${sent.ids.length > 3 ? `, … (${sent.ids.length - 3} more)` : ""}`);
  return `${lines.join("\n")}\n`;
}

/** Waits for every message (`waitMs` each at most) and prints how its recipients ended. */
async function waitForOutcomes(system: System, ids: readonly string[], waitMs: number | undefined, out: NodeJS.WriteStream): Promise<boolean> {
  const counts = { sent: 0, delivered: 0, failed: 0, pending: 0 };
  for (const id of ids) {
    const record = await system.pipeline.waitForMessage(id, waitMs);
    for (const t of record?.transmissions ?? []) {
      if (t.status === "S") counts.sent++;
      else if (t.status === "D") counts.delivered++;
      else if (t.status === "E") counts.failed++;
      else counts.pending++;
    }
  }
  out.write(
    `sent ${counts.sent}, delivered ${counts.delivered}, failed ${counts.failed}${counts.pending > 0 ? `, still being sent ${counts.pending} (the server goes on)` : ""}\n`,
  );
  return counts.failed > 0;
}
