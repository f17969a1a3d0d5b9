import type { Socket } from "node:net";
import type { Logger } from "pino";
import { COMMAND_IDS, decodePdu, encodePdu, type Pdu, PduError, PduFramer, respCommandId, STATUS, statusText } from "./pdu.ts";

/** A PDU as the caller gives it: the session numbers its requests. */
export type Outgoing = Pdu extends infer P ? (P extends Pdu ? Omit<P, "sequence" | "status"> & { status?: number } : never) : never;

/** Counters a session adds to (one object per backend, shared by its binds). */
export interface PduCounts {
  pdusSent: number;
  pdusReceived: number;
  /** Responses that came after their request timed out. */
  lateResponses: number;
  genericNacks: number;
  /** deliver_sm answered ESME_RTHROTTLED: more came at once than are handled at once. */
  inboundThrottled: number;
}

/** The request got no answer: the link is broken or the SMSC is slow. Whether the SMSC acted on it is unknown. */
export class ResponseTimeoutError extends Error {
  constructor(command: string, timeoutMs: number) {
    super(`the SMSC did not answer ${command} within ${timeoutMs} ms (responseTimeoutMs)`);
    this.name = "ResponseTimeoutError";
  }
}

/** The connection closed before the answer came: whether the SMSC acted on the request is unknown. */
export class SessionClosedError extends Error {
  constructor(reason: string) {
    super(`the SMPP connection closed before the answer came: ${reason}`);
    this.name = "SessionClosedError";
  }
}

interface Waiting {
  command: string;
  /** The response's command_id: an answer of another command under this sequence is not this request's. */
  responseId: number;
  resolve: (pdu: Pdu) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface SessionOptions {
  responseTimeoutMs: number;
  /** Sends enquire_link after this long without a PDU from the SMSC; no answer within responseTimeoutMs closes the session. 0: never. */
  enquireLinkMs: number;
  /** The SMSC's requests (deliver_sm, data_sm) handled at once at most; past it they are answered ESME_RTHROTTLED. */
  maxInFlight: number;
  logger: Logger;
  counts: PduCounts;
}

export interface SessionHandlers {
  /** A deliver_sm or data_sm: answer it with `session.respond` once it is taken care of. */
  onRequest(pdu: Pdu, session: SmppSession): Promise<void>;
  /** Once, when the session is over; `reason` says why. */
  onClose(reason: string): void;
}

const MAX_SEQUENCE = 0x7fffffff;

/**
 * One SMPP connection: numbers requests and matches their responses (each within
 * `responseTimeoutMs`), answers what SMPP obliges an ESME to answer (enquire_link, unbind, a
 * command it does not know), keeps the link alive with enquire_link, and hands the SMSC's
 * messages to `onRequest`. Binding and what to do when it closes are the caller's (see Bind).
 */
export class SmppSession {
  private readonly socket: Socket;
  private readonly options: SessionOptions;
  private readonly handlers: SessionHandlers;
  private readonly framer = new PduFramer();
  private readonly waiting = new Map<number, Waiting>();
  /** Sequences of requests that timed out, for the late answer (bounded: the oldest are forgotten). */
  private readonly timedOut = new Set<number>();
  private sequence = Math.floor(Math.random() * 1_000) + 1;
  private inFlight = 0;
  private lastHeard = Date.now();
  private keepAlive: NodeJS.Timeout | undefined;
  private ended: string | undefined;

  constructor(socket: Socket, options: SessionOptions, handlers: SessionHandlers) {
    this.socket = socket;
    this.options = options;
    this.handlers = handlers;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("error", (error) => this.end(`the connection failed: ${error.message}`));
    socket.on("close", () => this.end("the SMSC closed the connection"));
    if (options.enquireLinkMs > 0) {
      this.keepAlive = setInterval(() => this.checkLink(), Math.max(50, Math.floor(options.enquireLinkMs / 2)));
      this.keepAlive.unref();
    }
  }

  /** Sends a request and resolves with its response (whatever its command_status: the caller reads it). */
  request(pdu: Outgoing): Promise<Pdu> {
    if (this.ended) return Promise.reject(new SessionClosedError(this.ended));
    const sequence = this.nextSequence();
    let octets: Buffer;
    try {
      octets = encodePdu({ ...pdu, status: pdu.status ?? 0, sequence } as Pdu);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const responseId = respCommandId(COMMAND_IDS[pdu.command as keyof typeof COMMAND_IDS]);
    return new Promise<Pdu>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(sequence);
        this.rememberTimedOut(sequence);
        reject(new ResponseTimeoutError(pdu.command, this.options.responseTimeoutMs));
      }, this.options.responseTimeoutMs);
      this.waiting.set(sequence, { command: pdu.command, responseId, resolve, reject, timer });
      this.write(octets);
    });
  }

  /** Answers the SMSC's request `to`. */
  respond(to: Pdu, pdu: Outgoing): void {
    if (this.ended) return;
    this.write(encodePdu({ ...pdu, status: pdu.status ?? 0, sequence: to.sequence } as Pdu));
  }

  /** Unbinds (waiting for unbind_resp, responseTimeoutMs at most), then closes. */
  async unbind(): Promise<void> {
    if (this.ended) return;
    await this.request({ command: "unbind", body: null }).catch(() => undefined);
    this.close("unbound");
  }

  /** Closes the connection now; every request awaiting an answer fails with SessionClosedError. */
  close(reason: string): void {
    this.end(reason);
  }

  private nextSequence(): number {
    this.sequence = this.sequence >= MAX_SEQUENCE ? 1 : this.sequence + 1;
    return this.sequence;
  }

  private write(octets: Buffer): void {
    this.options.counts.pdusSent++;
    this.socket.write(octets);
  }

  private rememberTimedOut(sequence: number): void {
    this.timedOut.add(sequence);
    if (this.timedOut.size > 10_000) this.timedOut.delete(this.timedOut.values().next().value!);
  }

  private checkLink(): void {
    if (this.ended || Date.now() - this.lastHeard < this.options.enquireLinkMs) return;
    // Heard from again once the answer comes; no answer means the link is dead.
    this.lastHeard = Date.now();
    this.request({ command: "enquire_link", body: null }).catch((error: Error) => {
      if (error instanceof ResponseTimeoutError) this.end(`${error.message}: the link is taken as dead`);
    });
  }

  private read(chunk: Buffer): void {
    if (this.ended) return;
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch (error) {
      // The stream cannot be cut into PDUs any more: say why and start afresh.
      const status = error instanceof PduError ? error.status : STATUS.ESME_RINVCMDLEN;
      this.write(encodePdu({ command: "generic_nack", status, sequence: 0, body: null }));
      this.end(`the SMSC sent what is not SMPP: ${(error as Error).message}`);
      return;
    }
    // Heard from only on whole PDUs: a peer that trickles a PDU it never finishes is a dead link to enquire_link.
    if (frames.length > 0) this.lastHeard = Date.now();
    for (const frame of frames) {
      if (this.ended) return;
      this.options.counts.pdusReceived++;
      const commandId = frame.readUInt32BE(4);
      let pdu: Pdu;
      try {
        pdu = decodePdu(frame);
      } catch (error) {
        const e = error as PduError;
        this.options.logger.warn({ err: e }, `an SMPP PDU could not be read: ${e.message}`);
        // A response is never answered, not even with a generic_nack: the request it answers fails instead.
        if ((commandId & 0x80000000) !== 0) this.fail(frame.readUInt32BE(12), e);
        else this.write(encodePdu({ command: "generic_nack", status: e.status ?? STATUS.ESME_RSYSERR, sequence: e.sequence ?? 0, body: null }));
        continue;
      }
      this.dispatch(pdu, commandId);
    }
  }

  /** Fails the request waiting under `sequence`, if one is. */
  private fail(sequence: number, error: Error): void {
    const waiting = this.waiting.get(sequence);
    if (!waiting) return;
    this.waiting.delete(sequence);
    clearTimeout(waiting.timer);
    waiting.reject(error);
  }

  private dispatch(pdu: Pdu, commandId: number): void {
    const isResponse = (commandId & 0x80000000) !== 0;
    if (isResponse) {
      if (pdu.command === "generic_nack") this.options.counts.genericNacks++;
      const waiting = this.waiting.get(pdu.sequence);
      if (waiting && commandId !== waiting.responseId && pdu.command !== "generic_nack") {
        this.options.logger.warn(
          { sequence: pdu.sequence, got: pdu.command, expected: waiting.command },
          `the SMSC answered ${waiting.command} with a ${pdu.command}: ignored`,
        );
      } else if (waiting) {
        this.waiting.delete(pdu.sequence);
        clearTimeout(waiting.timer);
        // A generic_nack is never a success, whatever status it carries.
        waiting.resolve(pdu.command === "generic_nack" && pdu.status === STATUS.ESME_ROK ? { ...pdu, status: STATUS.ESME_RSYSERR } : pdu);
      } else if (this.timedOut.delete(pdu.sequence)) {
        this.options.counts.lateResponses++;
      } else if (pdu.command === "generic_nack") {
        this.options.logger.warn({ status: statusText(pdu.status), sequence: pdu.sequence }, "the SMSC sent a generic_nack for no request of ours");
      }
      return;
    }
    switch (pdu.command) {
      case "enquire_link":
        this.respond(pdu, { command: "enquire_link_resp", body: null });
        return;
      case "unbind":
        this.respond(pdu, { command: "unbind_resp", body: null });
        this.end("the SMSC unbound");
        return;
      case "deliver_sm":
      case "data_sm":
        this.handle(pdu);
        return;
      case "outbind":
      case "alert_notification":
        // Neither has a response; an ESME that binds itself needs neither.
        return;
      default:
        this.write(encodePdu({ command: "generic_nack", status: STATUS.ESME_RINVCMDID, sequence: pdu.sequence, body: null }));
    }
  }

  private handle(pdu: Pdu): void {
    const resp = pdu.command === "data_sm" ? "data_sm_resp" : "deliver_sm_resp";
    // The socket is never paused: the answers to our own requests come on it too. Past the bound, the SMSC is asked to slow down and delivers the message again later.
    if (this.inFlight >= this.options.maxInFlight) {
      this.options.counts.inboundThrottled++;
      this.respond(pdu, { command: resp, status: STATUS.ESME_RTHROTTLED, body: { messageId: "" } });
      return;
    }
    this.inFlight++;
    this.handlers
      .onRequest(pdu, this)
      .catch((error: unknown) => {
        // The SMSC is told to try again later; nothing was taken.
        this.options.logger.error({ err: error }, `handling an SMPP ${pdu.command} failed`);
        this.respond(pdu, { command: resp, status: STATUS.ESME_RX_T_APPN, body: { messageId: "" } });
      })
      .finally(() => {
        this.inFlight--;
      });
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = reason;
    clearInterval(this.keepAlive);
    for (const [sequence, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      this.waiting.delete(sequence);
      waiting.reject(new SessionClosedError(reason));
    }
    this.socket.destroy();
    this.handlers.onClose(reason);
  }
}
