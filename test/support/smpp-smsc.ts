import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.ts";

/**
 * A real SMSC for the SMPP backend's tests: test/support/smpp/net-smpp-smsc.pl, a Perl script on
 * Debian's Net::SMPP (libnet-smpp-perl), started as a child process on 127.0.0.1 and driven over
 * its control port (one JSON command per line). Its PDU log is a file of JSON lines.
 */

const SCRIPT = fileURLToPath(new URL("./smpp/net-smpp-smsc.pl", import.meta.url));

/** A system_id and password the SMSC accepts binds for. */
export interface SmscAccount {
  systemId: string;
  password: string;
}

/** How the SMSC answers a submit_sm asking for a receipt (registered_delivery & 1). */
export interface ReceiptSettings {
  /** After the submit_sm_resp (the default), before it (both on the wire, the receipt first), or none at all. */
  when?: "after" | "before" | "none";
  /** The text and the TLVs receipted_message_id and message_state (the default), or the text alone. */
  form?: "tlv" | "text";
  /** "decimal": the id in the text is the decimal value of the hex id (the TLV keeps the hex). */
  idBase?: "same" | "decimal";
  /** The text's stat: DELIVRD (the default), UNDELIV, EXPIRED, REJECTD, ...; message_state follows it. */
  stat?: string;
  /** Only the last part of a concatenated submit gets a receipt. */
  onlyLastPart?: boolean;
}

/** What the SMSC is started with, and what `configure` changes at run time. */
export interface NetSmppSmscOptions {
  /** Default: one, rapidsms/secret. */
  accounts?: SmscAccount[];
  /** How message ids are written: uppercase hex (the default) or decimal. */
  messageIds?: "hex" | "decimal";
  receipts?: ReceiptSettings;
}

/** A submit_sm as the SMSC read it, and what it answered. */
export interface SubmitRecord {
  connection: number;
  sequence: number;
  systemId: string;
  sourceAddr: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  destinationAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  shortMessage: Buffer;
  tlvs: Record<number, Buffer>;
  /** The id answered, null when the submit got none (throttled, dropped unanswered). */
  messageId: string | null;
  /** The command_status answered, null while (or when) unanswered. */
  status: number | null;
  at: number;
}

/** One PDU the SMSC received ("in") or sent ("out"). */
export interface PduRecord {
  connection: number;
  direction: "in" | "out";
  command: string;
  sequence: number;
  status: number;
  at: number;
  /** The message_id of a submit_sm_resp or deliver_sm_resp. */
  messageId?: string;
}

/** A bind attempt and the status answered. */
export interface BindRecord {
  connection: number;
  command: string;
  systemId: string;
  status: number;
  at: number;
}

/** A mobile-originated message for the SMSC to send as a deliver_sm. */
export interface MobileOriginated {
  source: string;
  destination: string;
  esmClass?: number;
  dataCoding?: number;
  shortMessage: Buffer;
  tlvs?: Record<number, Buffer>;
  /** Default 1 (international) and 1 (ISDN) for the source, 0 and 0 for the destination. */
  sourceAddrTon?: number;
  sourceAddrNpi?: number;
  destAddrTon?: number;
  destAddrNpi?: number;
  /** Only to a connection bound with this system_id; default: any receiver-capable one (round robin). */
  systemId?: string;
}

export interface NetSmppSmsc {
  /** The SMPP port on 127.0.0.1. */
  readonly port: number;
  /** The PDU log: one JSON line per PDU (and per connection opened or closed). */
  readonly logFile: string;
  submits(): Promise<SubmitRecord[]>;
  pdus(): Promise<PduRecord[]>;
  /** Bind attempts in order: command, systemId, the status answered. */
  binds(): Promise<BindRecord[]>;
  /** Connections open now, and which are bound (and as what: "transmitter", "receiver", "transceiver"). */
  connections(): Promise<{ connection: number; bound: string | null; systemId: string | null }[]>;
  /** The most submit_sm outstanding at once on one connection: on that one, or on any (closed ones too). */
  maxOutstanding(connection?: number): Promise<number>;
  configure(options: NetSmppSmscOptions): Promise<void>;
  /** For ms, every submit_sm is answered with status (0x58 ESME_RTHROTTLED by default) and no id; 0 ends it. */
  throttle(ms: number, status?: number): Promise<void>;
  /** Each submit_sm is answered ms after it came, others being read meanwhile; 0: at once again. */
  slow(ms: number): Promise<void>;
  /** After the n-th submit_sm from now is read, every connection closes at once, unanswered submits unanswered. */
  dropAfter(submits: number): Promise<void>;
  /** Closes every SMPP connection now. */
  drop(): Promise<void>;
  /** The next request PDU is answered with a generic_nack, 0x03 ESME_RINVCMDID. */
  nackNext(): Promise<void>;
  /** For ms nothing is answered (not even enquire_link) while everything is read; 0 ends it. */
  silent(ms: number): Promise<void>;
  /** Sends a deliver_sm; resolves with its deliver_sm_resp's command_status, or "timeout" after 10 s. */
  deliver(mo: MobileOriginated): Promise<{ status: number | "timeout" }>;
  /** An enquire_link to every bound connection (their answers are in the log). */
  enquireLink(): Promise<void>;
  /** An unbind to every bound connection; each closes once its unbind_resp is in. */
  unbindAll(): Promise<void>;
  stop(): Promise<void>;
}

let missing: string | false | undefined;

/** Why the Net::SMPP SMSC cannot run here (perl or Net::SMPP missing), or false: pass through `unlessInCi` (test/support/components.ts) as a test's `skip`. */
export function netSmppMissing(): string | false {
  if (missing === undefined) {
    const probe = spawnSync("perl", ["-MNet::SMPP", "-MJSON::PP", "-MTime::HiRes", "-e", "1"], { stdio: "ignore" });
    if (probe.error) missing = "perl is not installed: the Net::SMPP SMSC is a Perl script";
    else if (probe.status !== 0) missing = "Net::SMPP is not installed: apt-get install libnet-smpp-perl (.ci/run does)";
    else missing = false;
  }
  return missing;
}

/** Starts the script on free ports (test/support/free-port.ts), resolves after READY; rejects with a clear reason when perl or Net::SMPP is missing. */
export async function startNetSmppSmsc(options: NetSmppSmscOptions = {}): Promise<NetSmppSmsc> {
  const why = netSmppMissing();
  if (why) throw new Error(`the Net::SMPP SMSC cannot start: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-smsc-"));
  const logFile = join(dir, "pdus.jsonl");
  const port = await freePort();
  const controlPort = await freePort();
  const argv = [SCRIPT, "--port", String(port), "--control", String(controlPort), "--log", logFile, "--config", JSON.stringify(options)];
  // stdin stays open: the script exits when it closes, so it never outlives this process.
  const child = spawn("perl", argv, { stdio: ["pipe", "pipe", "pipe"] });
  const killOnExit = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const cleanUp = () => {
    process.off("exit", killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };
  let control: ControlChannel;
  try {
    await ready(child, () => stderr);
    control = new ControlChannel(await connectTo(controlPort), () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    if (child.pid !== undefined) await exited; // a spawn that failed may never say "exit"
    cleanUp();
    throw error;
  }
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as { unref(): void }[]) handle.unref();

  let stopped: Promise<void> | undefined;
  const ok = async (op: string, args: Record<string, unknown> = {}) => {
    await control.request(op, args);
  };
  return {
    port,
    logFile,
    async submits() {
      const records = (await control.request("submits")) as (Omit<SubmitRecord, "shortMessage" | "tlvs"> & {
        shortMessage: string;
        tlvs: Record<string, string>;
      })[];
      return records.map((record) => ({ ...record, shortMessage: Buffer.from(record.shortMessage, "hex"), tlvs: fromHexTlvs(record.tlvs) }));
    },
    async pdus() {
      await control.request("sync");
      const lines = readFileSync(logFile, "utf8").split("\n").filter(Boolean);
      return lines
        .map((line) => JSON.parse(line) as PduRecord & { type: string })
        .filter((line) => line.type === "pdu")
        .map(({ connection, direction, command, sequence, status, at, messageId }) => ({
          connection,
          direction,
          command,
          sequence,
          status,
          at,
          ...(messageId === undefined ? {} : { messageId }),
        }));
    },
    binds: async () => (await control.request("binds")) as BindRecord[],
    connections: async () => (await control.request("connections")) as { connection: number; bound: string | null; systemId: string | null }[],
    maxOutstanding: async (connection) => (await control.request("maxOutstanding", connection === undefined ? {} : { connection })) as number,
    configure: (settings) => ok("configure", { options: settings }),
    throttle: (ms, status = 0x58) => ok("throttle", { ms, status }),
    slow: (ms) => ok("slow", { ms }),
    dropAfter: (submits) => ok("dropAfter", { submits }),
    drop: () => ok("drop"),
    nackNext: () => ok("nackNext"),
    silent: (ms) => ok("silent", { ms }),
    async deliver(mo) {
      const { shortMessage, tlvs, ...fields } = mo;
      return (await control.request("deliver", { ...fields, shortMessage: shortMessage.toString("hex"), tlvs: toHexTlvs(tlvs ?? {}) })) as {
        status: number | "timeout";
      };
    },
    enquireLink: () => ok("enquireLink"),
    unbindAll: () => ok("unbindAll"),
    stop() {
      stopped ??= (async () => {
        control.close();
        child.kill("SIGTERM");
        const forced = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(forced);
        cleanUp();
      })();
      return stopped;
    },
  };
}

function fromHexTlvs(tlvs: Record<string, string>): Record<number, Buffer> {
  return Object.fromEntries(Object.entries(tlvs).map(([tag, value]) => [Number(tag), Buffer.from(value, "hex")]));
}

function toHexTlvs(tlvs: Record<number, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(tlvs).map(([tag, value]) => [tag, value.toString("hex")]));
}

function ready(child: ChildProcess, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    const timeout = setTimeout(() => reject(new Error(`the Net::SMPP SMSC did not print READY within 10 s:\n${stderr()}`)), 10_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("READY\n")) {
        clearTimeout(timeout);
        resolve();
      }
    });
    child.once("error", (error) => {
      clearTimeout(timeout);
      reject(new Error(`the Net::SMPP SMSC could not start: ${error.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timeout);
      reject(new Error(`the Net::SMPP SMSC exited (${code ?? signal}) before READY:\n${stderr()}`));
    });
  });
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** One JSON command per line, answered by id; the socket holds the event loop open only while an answer is awaited. */
class ControlChannel {
  private readonly socket: Socket;
  private readonly stderr: () => string;
  private readonly waiting = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  private lastId = 0;
  private buffered = "";
  private closed: Error | undefined;

  constructor(socket: Socket, stderr: () => string) {
    this.socket = socket;
    this.stderr = stderr;
    socket.setEncoding("utf8");
    socket.unref();
    socket.on("data", (chunk: string) => this.take(chunk));
    socket.on("error", () => {});
    socket.on("close", () => this.fail(new Error(`the Net::SMPP SMSC closed its control port:\n${this.stderr()}`)));
  }

  request(op: string, args: Record<string, unknown> = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = ++this.lastId;
    if (this.waiting.size === 0) this.socket.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ ...args, id, op })}\n`);
    });
  }

  close(): void {
    this.fail(new Error("the Net::SMPP SMSC was stopped"));
    this.socket.destroy();
  }

  private take(chunk: string): void {
    let start = 0;
    let end: number;
    while ((end = chunk.indexOf("\n", start)) >= 0) {
      const line = this.buffered + chunk.slice(start, end);
      this.buffered = "";
      start = end + 1;
      this.answer(JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: string });
    }
    this.buffered += chunk.slice(start);
  }

  private answer({ id, ok, result, error }: { id: number; ok: boolean; result?: unknown; error?: string }): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.socket.unref();
    if (ok) waiter.resolve(result);
    else waiter.reject(new Error(`Net::SMPP SMSC: ${error}`));
  }

  private fail(error: Error): void {
    this.closed ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    this.socket.unref();
  }
}
