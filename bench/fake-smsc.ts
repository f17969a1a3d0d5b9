/**
 * A fast local SMSC for the bench's SMPP scenario, run as its own process (the Net::SMPP SMSC of
 * the tests is for correctness, not speed), on the backend's own PDU codec. It takes any bind,
 * answers each submit_sm at once with a new message_id, answers enquire_link and unbind, and
 * counts the submits and when they came. Asked to, it floods the bound session with deliver_sm
 * `echo m<N>` (at most `outstanding` unanswered), counts the deliver_sm_resp, and records when
 * each echo reply (a submit_sm `m<N>`) came back. The parent asks over IPC: `{ id, op }` is
 * answered `{ id, ... }`.
 */
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { decodePdu, encodePdu, type Pdu, PduFramer, shortMessageBody, type ShortMessageBody, STATUS } from "../src/backends/smpp/pdu.ts";

const now = (): number => performance.timeOrigin + performance.now();

/** What the parent asks: the counts (and reply latencies since the last take), a reset, a flood of MO, or a held bind. */
export type SmscOp =
  | { op: "take" }
  | { op: "reset" }
  | { op: "flood"; seconds: number; outstanding: number }
  /** Drops every bound session and leaves new binds unanswered until `release`: the server queues meanwhile. */
  | { op: "hold" }
  | { op: "release" };
export type SmscRequest = SmscOp & { id: number };

/** Counts since the last reset. */
export interface SmscCounts {
  submits: number;
  /** Submits to a destination_addr that had one since the reset: sent twice, where every identity is new (the outbound runs). */
  duplicateSubmits: number;
  firstSubmitAt: number;
  lastSubmitAt: number;
  /** Echo replies: submit_sm `m<N>` for a deliver_sm sent since the reset, each N once. */
  replies: number;
  /** Replies for an N that had one already (the server resent it). */
  duplicateReplies: number;
  lastReplyAt: number;
  /** From each deliver_sm to its echo reply, for the replies since the last take (ms). */
  replyLatencies: number[];
}

export interface FloodResult {
  sent: number;
  answered: number;
  /** deliver_sm_resp with an error status. */
  refused: number;
  firstSentAt: number;
  lastAnsweredAt: number;
  /** Why the flood ended before every deliver_sm was answered (the session closed), if it did. */
  cut?: string;
}

let counts: SmscCounts = fresh();
/** deliver_sm sent since the reset and not yet echoed: N → when it was sent. */
let awaitingReply = new Map<number, number>();
let echoed = new Set<number>();
let destinations = new Set<string>();
let nextMessageId = 1;
/** N of the next deliver_sm: unique over the process's life, so a late reply never names a newer message. */
let nextMo = 1;
const bound = new Set<Session>();
let receiving: Session | undefined;
/** While held, binds wait here for their answer. */
let holding = false;
const held = new Map<Session, () => void>();

function fresh(): SmscCounts {
  return { submits: 0, duplicateSubmits: 0, firstSubmitAt: 0, lastSubmitAt: 0, replies: 0, duplicateReplies: 0, lastReplyAt: 0, replyLatencies: [] };
}

const latin1 = (octets: Uint8Array) => Buffer.from(octets.buffer, octets.byteOffset, octets.length).toString("latin1");

function moBody(n: number): ShortMessageBody {
  return shortMessageBody({
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: `2557${String(n % 10_000).padStart(8, "0")}`,
    destAddrNpi: 1,
    destinationAddr: "15555",
    shortMessage: Buffer.from(`echo m${n}`, "latin1"),
  });
}

interface Flood {
  until: number;
  outstanding: number;
  /** Sequence numbers of the deliver_sm awaiting their answer. */
  inFlight: Set<number>;
  result: FloodResult;
  done: (result: FloodResult) => void;
}

/** One ESME connection: answers as it reads, and writes everything one chunk caused in one write. */
class Session {
  private readonly socket: Socket;
  private readonly framer = new PduFramer();
  private out: Buffer[] = [];
  private sequence = 1;
  flood: Flood | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.closed());
  }

  private read(chunk: Buffer): void {
    let pdus: Buffer[];
    try {
      pdus = this.framer.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const octets of pdus) this.handle(decodePdu(octets));
    this.topUp();
    this.flush();
  }

  private handle(pdu: Pdu): void {
    const at = now();
    const answer = (response: Pdu) => this.out.push(encodePdu(response));
    const header = { status: STATUS.ESME_ROK, sequence: pdu.sequence };
    switch (pdu.command) {
      case "bind_transceiver":
      case "bind_transmitter":
      case "bind_receiver": {
        const command = pdu.command;
        const accept = () => {
          answer({ ...header, command: `${command}_resp`, body: { systemId: "fake-smsc" } });
          bound.add(this);
          if (command !== "bind_transmitter") receiving = this;
        };
        if (holding)
          held.set(this, () => {
            accept();
            this.flush();
          });
        else accept();
        return;
      }
      case "submit_sm": {
        answer({ ...header, command: "submit_sm_resp", body: { messageId: (nextMessageId++).toString(16) } });
        counts.submits++;
        if (destinations.has(pdu.body.destinationAddr)) counts.duplicateSubmits++;
        else destinations.add(pdu.body.destinationAddr);
        if (counts.firstSubmitAt === 0) counts.firstSubmitAt = at;
        counts.lastSubmitAt = at;
        const match = /^m(\d+)$/.exec(latin1(pdu.body.shortMessage));
        if (match) this.reply(Number(match[1]), at);
        return;
      }
      case "deliver_sm_resp":
        this.answered(pdu, at);
        return;
      case "enquire_link":
        answer({ ...header, command: "enquire_link_resp", body: null });
        return;
      case "unbind":
        answer({ ...header, command: "unbind_resp", body: null });
        this.flush();
        this.socket.end();
        return;
      default:
        return;
    }
  }

  private reply(n: number, at: number): void {
    const sent = awaitingReply.get(n);
    if (sent !== undefined) {
      awaitingReply.delete(n);
      echoed.add(n);
      counts.replies++;
      counts.lastReplyAt = at;
      counts.replyLatencies.push(at - sent);
    } else if (echoed.has(n)) counts.duplicateReplies++;
  }

  private answered(pdu: Pdu, at: number): void {
    const flood = this.flood;
    if (!flood?.inFlight.delete(pdu.sequence)) return;
    flood.result.answered++;
    if (pdu.status !== STATUS.ESME_ROK) flood.result.refused++;
    flood.result.lastAnsweredAt = at;
  }

  /** Sends deliver_sm while the flood lasts and there is room; ends it once the last is answered. */
  topUp(): void {
    const flood = this.flood;
    if (!flood) return;
    const at = now();
    while (at < flood.until && flood.inFlight.size < flood.outstanding) {
      const n = nextMo++;
      const sequence = this.sequence++;
      this.out.push(encodePdu({ command: "deliver_sm", status: 0, sequence, body: moBody(n) }));
      flood.inFlight.add(sequence);
      awaitingReply.set(n, at);
      if (flood.result.sent++ === 0) flood.result.firstSentAt = at;
    }
    if (at >= flood.until && flood.inFlight.size === 0) this.endFlood();
  }

  endFlood(cut?: string): void {
    const flood = this.flood;
    if (!flood) return;
    this.flood = undefined;
    flood.done(cut ? { ...flood.result, cut } : flood.result);
  }

  flush(): void {
    if (this.out.length === 0 || this.socket.destroyed) return;
    this.socket.write(this.out.length === 1 ? this.out[0] : Buffer.concat(this.out));
    this.out = [];
  }

  drop(): void {
    this.socket.destroy();
  }

  private closed(): void {
    held.delete(this);
    bound.delete(this);
    if (receiving === this) receiving = undefined;
    this.endFlood("the ESME closed the connection during the flood");
  }
}

function flood(seconds: number, outstanding: number): Promise<FloodResult> {
  const session = receiving;
  const result: FloodResult = { sent: 0, answered: 0, refused: 0, firstSentAt: 0, lastAnsweredAt: 0 };
  if (!session) return Promise.resolve({ ...result, cut: "no session is bound to receive" });
  return new Promise((resolve) => {
    session.flood = { until: now() + seconds * 1000, outstanding, inFlight: new Set(), result, done: resolve };
    session.topUp();
    session.flush();
    // A flood whose deliver_sm all got answered before its end waits for no answer to end it.
    const ending = setInterval(() => {
      if (session.flood?.result !== result) return clearInterval(ending);
      session.topUp();
      session.flush();
    }, 50);
  });
}

process.on("message", async (request: SmscRequest) => {
  switch (request.op) {
    case "take":
      process.send!({ id: request.id, ...counts });
      counts.replyLatencies = [];
      return;
    case "reset":
      counts = fresh();
      awaitingReply = new Map();
      echoed = new Set();
      destinations = new Set();
      process.send!({ id: request.id });
      return;
    case "hold":
      holding = true;
      for (const session of bound) session.drop();
      process.send!({ id: request.id });
      return;
    case "release":
      holding = false;
      for (const accept of held.values()) accept();
      held.clear();
      process.send!({ id: request.id });
      return;
    case "flood":
      process.send!({ id: request.id, ...(await flood(request.seconds, request.outstanding)) });
      return;
  }
});
process.on("disconnect", () => process.exit(0));

const server = createServer((socket) => new Session(socket));
server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));
