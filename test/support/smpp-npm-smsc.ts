import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";

/** A PDU as the `smpp` package gives it: its header and its decoded fields (TLVs by name) as own properties. */
export interface SmppPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  isResponse(): boolean;
  response(options?: Record<string, unknown>): SmppPdu;
  [field: string]: unknown;
}

type Shortcut = (options: Record<string, unknown>, responseCallback?: (response: SmppPdu) => void) => boolean;

/** The `smpp` package's session (either end of a connection): what this SMSC and its tests use of it. */
export interface SmppSession {
  on(event: "pdu" | "deliver_sm" | "submit_sm" | "unbind", listener: (pdu: SmppPdu) => void): SmppSession;
  on(event: "connect" | "close", listener: () => void): SmppSession;
  on(event: "error", listener: (error: Error) => void): SmppSession;
  once(event: "connect" | "close", listener: () => void): SmppSession;
  send(pdu: SmppPdu, responseCallback?: (response: SmppPdu) => void, sendCallback?: (pdu: SmppPdu) => void): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
  bind_transmitter: Shortcut;
  bind_receiver: Shortcut;
  bind_transceiver: Shortcut;
  submit_sm: Shortcut;
  enquire_link: Shortcut;
  unbind: Shortcut;
}

interface SmppServer {
  listen(port: number, host: string, callback: () => void): void;
  close(callback: () => void): void;
  address(): AddressInfo;
  on(event: "error", listener: (error: Error) => void): void;
}

/** The `smpp` package (farhadi's node-smpp), typed as far as this file uses it. */
export interface SmppPackage {
  createServer(listener: (session: SmppSession) => void): SmppServer;
  connect(options: { host: string; port: number }): SmppSession;
  PDU: new (command: string, options?: Record<string, unknown>) => SmppPdu;
  commands: Record<string, unknown>;
}

export const smppPackage = createRequire(import.meta.url)("smpp") as SmppPackage;

export interface NpmSmsc {
  readonly port: number;
  /** submit_sm received: the package's decoded PDU fields as it gives them, plus the id answered. */
  submits(): { pdu: Record<string, unknown>; messageId: string }[];
  /**
   * Sends a deliver_sm to a bound receiver-capable session (the last one bound); resolves with the
   * deliver_sm_resp status. The fields are the package's: a string short_message is encoded by it
   * (with data_coding 0, as GSM 03.38 one septet per octet; left out, it picks and sets one itself,
   * 1 for GSM text); a Buffer goes as it is. Rejects when no such session is bound, or it closes first.
   */
  deliver(pdu: Record<string, unknown>): Promise<number>;
  binds(): { command: string; systemId: string; status: number }[];
  stop(): Promise<void>;
}

const STATUS = { ok: 0x00, invalidCommand: 0x03, invalidBindStatus: 0x04, alreadyBound: 0x05, invalidPassword: 0x0e, invalidSystemId: 0x0f } as const;
type Bound = "transmitter" | "receiver" | "transceiver";

interface Peer {
  session: SmppSession;
  bound: Bound | undefined;
  open: boolean;
  /** Rejects the deliver() calls still waiting for this session's deliver_sm_resp. */
  waiting: Set<(error: Error) => void>;
}

/**
 * A second SMSC, independent of the project's own SMPP code: the `smpp` package's server on
 * 127.0.0.1. It checks system_id and password (ESME_RINVSYSID 0x0F, ESME_RINVPASWD 0x0E, then
 * closes), answers submit_sm with increasing ids ("1", "2", … or, with `messageIds: "hex"`,
 * "00000001", …, "0000000A"), enquire_link and unbind (then closes); a submit_sm or deliver before
 * the right bind gets ESME_RINVBNDSTS, a command it does not serve ESME_RINVCMDID. With
 * `receipts: true`, each submit_sm that asked for one (registered_delivery & 1) is followed,
 * after its submit_sm_resp, by a text-form receipt deliver_sm (esm_class 4, no TLVs) to the
 * submitting transceiver, else to a bound receiver, else to the next receiver to bind.
 */
export async function startNpmSmsc(
  options: { systemId?: string; password?: string; receipts?: boolean; messageIds?: "decimal" | "hex"; port?: number } = {},
): Promise<NpmSmsc> {
  const systemId = options.systemId ?? "rapidsms";
  const password = options.password ?? "secret";
  const submits: { pdu: Record<string, unknown>; messageId: string }[] = [];
  const binds: { command: string; systemId: string; status: number }[] = [];
  const peers: Peer[] = [];
  const heldReceipts: Record<string, unknown>[] = [];
  let submitted = 0;

  const takesDelivers = (peer: Peer | undefined): peer is Peer => peer?.open === true && (peer.bound === "receiver" || peer.bound === "transceiver");
  const receiverOf = (preferred?: Peer) => (takesDelivers(preferred) ? preferred : peers.findLast(takesDelivers));
  const sendReceipt = (receipt: Record<string, unknown>, preferred?: Peer) => {
    const peer = receiverOf(preferred);
    if (peer) peer.session.send(new smppPackage.PDU("deliver_sm", receipt), () => {});
    else heldReceipts.push(receipt);
  };

  const serve = (peer: Peer, pdu: SmppPdu) => {
    const { session } = peer;
    const answer = (fields: Record<string, unknown> = {}, then?: () => void) => {
      const response =
        `${pdu.command}_resp` in smppPackage.commands
          ? pdu.response(fields)
          : new smppPackage.PDU("generic_nack", { ...fields, sequence_number: pdu.sequence_number });
      session.send(response, undefined, then);
    };
    switch (pdu.command) {
      case "bind_transmitter":
      case "bind_receiver":
      case "bind_transceiver": {
        const status =
          pdu.system_id !== systemId
            ? STATUS.invalidSystemId
            : pdu.password !== password
              ? STATUS.invalidPassword
              : peer.bound
                ? STATUS.alreadyBound
                : STATUS.ok;
        binds.push({ command: pdu.command, systemId: String(pdu.system_id), status });
        if (status === STATUS.invalidSystemId || status === STATUS.invalidPassword) return answer({ command_status: status }, () => session.close());
        if (status !== STATUS.ok) return answer({ command_status: status });
        peer.bound = pdu.command.slice("bind_".length) as Bound;
        answer({ system_id: "npm-smsc" });
        if (peer.bound !== "transmitter") for (const receipt of heldReceipts.splice(0)) sendReceipt(receipt, peer);
        return;
      }
      case "enquire_link":
        return answer();
      case "unbind":
        return answer({}, () => session.close());
      case "submit_sm": {
        if (peer.bound !== "transmitter" && peer.bound !== "transceiver") return answer({ command_status: STATUS.invalidBindStatus });
        const messageId = options.messageIds === "hex" ? (++submitted).toString(16).toUpperCase().padStart(8, "0") : String(++submitted);
        submits.push({ pdu: { ...pdu }, messageId });
        const wantsReceipt = options.receipts === true && (Number(pdu.registered_delivery) & 1) === 1;
        return answer({ message_id: messageId }, wantsReceipt ? () => sendReceipt(receiptFor(pdu, messageId), peer) : undefined);
      }
      default:
        return answer({ command_status: STATUS.invalidCommand });
    }
  };

  const server = smppPackage.createServer((session) => {
    const peer: Peer = { session, bound: undefined, open: true, waiting: new Set() };
    peers.push(peer);
    // A client that resets the connection is no failure of the SMSC's.
    session.on("error", () => {});
    session.on("close", () => {
      peer.open = false;
      for (const reject of peer.waiting) reject(new Error("the session closed before its deliver_sm_resp"));
      peer.waiting.clear();
    });
    session.on("pdu", (pdu) => {
      if (!pdu.isResponse()) serve(peer, pdu);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.on("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const port = server.address().port;

  return {
    port,
    submits: () => [...submits],
    binds: () => [...binds],
    deliver(fields) {
      const peer = receiverOf();
      if (!peer) return Promise.reject(new Error("no receiver or transceiver is bound to take the deliver_sm"));
      return new Promise<number>((resolve, reject) => {
        peer.waiting.add(reject);
        const sent = peer.session.send(new smppPackage.PDU("deliver_sm", fields), (response) => {
          peer.waiting.delete(reject);
          resolve(response.command_status);
        });
        if (!sent) {
          peer.waiting.delete(reject);
          reject(new Error("the session is not writable"));
        }
      });
    },
    stop() {
      for (const peer of peers) if (peer.open) peer.session.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The text-form receipt most SMSCs send (SMPP 3.4 appendix B), from the destination back to the source. */
function receiptFor(submit: SmppPdu, messageId: string): Record<string, unknown> {
  const date = smppDate(new Date());
  const message = (submit.short_message as { message?: unknown } | undefined)?.message;
  const text = typeof message === "string" ? message.slice(0, 20) : "";
  return {
    source_addr_ton: submit.dest_addr_ton,
    source_addr_npi: submit.dest_addr_npi,
    source_addr: submit.destination_addr,
    dest_addr_ton: submit.source_addr_ton,
    dest_addr_npi: submit.source_addr_npi,
    destination_addr: submit.source_addr,
    esm_class: 0x04,
    data_coding: 0,
    short_message: `id:${messageId} sub:001 dlvrd:001 submit date:${date} done date:${date} stat:DELIVRD err:000 text:${text}`,
  };
}

/** YYMMDDhhmm, in UTC. */
function smppDate(at: Date): string {
  const two = (value: number) => String(value).padStart(2, "0");
  return `${two(at.getUTCFullYear() % 100)}${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}`;
}
