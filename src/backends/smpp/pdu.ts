/**
 * SMPP 3.4 PDUs: the ones an ESME sends and answers, as typed values, and their octets. Every
 * PDU is a 16-octet header (command_length, command_id, command_status, sequence_number) and a
 * body of mandatory fields (C-octet strings end with a NUL; integers are big-endian) followed by
 * optional TLVs. Decoding never trusts a length it reads: a body that ends early, a string
 * without its NUL, or a TLV past the end is a PduError, never an exception of another kind.
 */

export const COMMAND_IDS = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
} as const;

export type CommandName = keyof typeof COMMAND_IDS;
const COMMAND_NAMES = new Map<number, CommandName>(Object.entries(COMMAND_IDS).map(([name, id]) => [id, name as CommandName]));

/** The response's command_id of a request's. */
export const respCommandId = (commandId: number): number => (commandId | 0x80000000) >>> 0;

/** The TLV tags this backend reads or writes. */
export const TAGS = {
  receipted_message_id: 0x001e,
  user_message_reference: 0x0204,
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  sc_interface_version: 0x0210,
  network_error_code: 0x0423,
  message_payload: 0x0424,
  message_state: 0x0427,
} as const;

/** The largest PDU read or written: a message_payload of 64 KiB and its headers. Anything longer is a broken or hostile peer. */
export const MAX_PDU_LENGTH = 65_536 + 512;
const HEADER = 16;

export type BindCommand = "bind_transceiver" | "bind_transmitter" | "bind_receiver";

export interface BindBody {
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
}

/** The service type and both addresses, as submit_sm, deliver_sm and data_sm begin. */
export interface Addresses {
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
}

/** submit_sm and deliver_sm share their layout. */
export interface ShortMessageBody extends Addresses {
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
  shortMessage: Uint8Array;
  tlvs: Map<number, Uint8Array>;
}

/** data_sm: the same addresses without short_message (the text is in message_payload). */
export interface DataSmBody extends Addresses {
  esmClass: number;
  registeredDelivery: number;
  dataCoding: number;
  tlvs: Map<number, Uint8Array>;
}

/**
 * A submit_sm or deliver_sm body: the given fields, and SMPP's defaults for the rest (no service
 * type, TON/NPI 0, no flags, schedule or validity, data_coding 0, no TLVs).
 */
export function shortMessageBody(
  fields: Partial<ShortMessageBody> & Pick<ShortMessageBody, "sourceAddr" | "destinationAddr" | "shortMessage">,
): ShortMessageBody {
  return {
    serviceType: "",
    sourceAddrTon: 0,
    sourceAddrNpi: 0,
    destAddrTon: 0,
    destAddrNpi: 0,
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    scheduleDeliveryTime: "",
    validityPeriod: "",
    registeredDelivery: 0,
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    tlvs: new Map(),
    ...fields,
  };
}

interface Header {
  status: number;
  sequence: number;
}

export type Pdu =
  | (Header & { command: BindCommand; body: BindBody })
  | (Header & { command: "bind_transceiver_resp" | "bind_transmitter_resp" | "bind_receiver_resp"; body: { systemId: string } })
  | (Header & { command: "submit_sm" | "deliver_sm"; body: ShortMessageBody })
  | (Header & { command: "data_sm"; body: DataSmBody })
  | (Header & { command: "submit_sm_resp" | "deliver_sm_resp" | "data_sm_resp"; body: { messageId: string } })
  | (Header & { command: "unbind" | "unbind_resp" | "enquire_link" | "enquire_link_resp" | "generic_nack" | "outbind" | "alert_notification"; body: null })
  /** A command this ESME does not handle: answered with generic_nack ESME_RINVCMDID. */
  | (Header & { command: "unknown"; commandId: number; body: null });

/** A PDU that could not be read: `sequence` when the header was readable (for the generic_nack), `status` the SMPP error to answer with. */
export class PduError extends Error {
  readonly sequence: number | undefined;
  readonly status: number;

  constructor(message: string, status: number, sequence?: number) {
    super(message);
    this.name = "PduError";
    this.status = status;
    this.sequence = sequence;
  }
}

const ESME_RINVCMDLEN = 0x02;
const ESME_RINVPARLEN = 0xc2;

class Reader {
  offset = HEADER;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly sequence: number;

  constructor(bytes: Uint8Array, sequence: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.sequence = sequence;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  fail(what: string, status = ESME_RINVCMDLEN): never {
    throw new PduError(`the PDU ends inside ${what}`, status, this.sequence);
  }

  int8(what: string): number {
    if (this.remaining < 1) this.fail(what);
    return this.bytes[this.offset++];
  }

  /** `lenient`: a string the body ends without its NUL is taken as it is (SMSCs that send a response's id so). */
  cstring(what: string, lenient = false): string {
    let end = this.bytes.indexOf(0, this.offset);
    if (end < 0 && lenient) end = this.bytes.length;
    if (end < 0) this.fail(`${what} (no NUL)`);
    // Latin-1: every octet is one character, so nothing a peer sends can fail to decode.
    const text = latin1(this.bytes.subarray(this.offset, end));
    this.offset = end + 1;
    return text;
  }

  octets(length: number, what: string, status = ESME_RINVCMDLEN): Uint8Array {
    if (this.remaining < length) this.fail(what, status);
    // A copy, so that what a PDU holds does not pin the whole socket chunk it came in.
    const octets = new Uint8Array(length);
    octets.set(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return octets;
  }

  tlvs(): Map<number, Uint8Array> {
    const tlvs = new Map<number, Uint8Array>();
    while (this.remaining > 0) {
      if (this.remaining < 4) this.fail("a TLV's tag and length", ESME_RINVPARLEN);
      const tag = this.view.getUint16(this.offset);
      const length = this.view.getUint16(this.offset + 2);
      this.offset += 4;
      tlvs.set(tag, this.octets(length, `TLV 0x${tag.toString(16).padStart(4, "0")}`, ESME_RINVPARLEN));
    }
    return tlvs;
  }
}

function latin1(octets: Uint8Array): string {
  let text = "";
  for (const octet of octets) text += String.fromCharCode(octet);
  return text;
}

/** Reads one whole PDU (`bytes` is exactly command_length long). */
export function decodePdu(bytes: Uint8Array): Pdu {
  if (bytes.length < HEADER) throw new PduError(`a PDU is at least ${HEADER} octets, this one ${bytes.length}`, ESME_RINVCMDLEN);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const commandId = view.getUint32(4);
  const status = view.getUint32(8);
  const sequence = view.getUint32(12);
  const command = COMMAND_NAMES.get(commandId);
  const r = new Reader(bytes, sequence);
  const header = { status, sequence };
  switch (command) {
    case undefined:
      return { ...header, command: "unknown", commandId, body: null };
    case "bind_transceiver":
    case "bind_transmitter":
    case "bind_receiver":
      return {
        ...header,
        command,
        body: {
          systemId: r.cstring("system_id"),
          password: r.cstring("password"),
          systemType: r.cstring("system_type"),
          interfaceVersion: r.int8("interface_version"),
          addrTon: r.int8("addr_ton"),
          addrNpi: r.int8("addr_npi"),
          addressRange: r.cstring("address_range"),
        },
      };
    case "bind_transceiver_resp":
    case "bind_transmitter_resp":
    case "bind_receiver_resp":
      // An error response may have no body at all.
      return { ...header, command, body: { systemId: r.remaining > 0 ? r.cstring("system_id", true) : "" } };
    case "submit_sm":
    case "deliver_sm": {
      const body: ShortMessageBody = {
        ...readAddresses(r),
        esmClass: r.int8("esm_class"),
        protocolId: r.int8("protocol_id"),
        priorityFlag: r.int8("priority_flag"),
        scheduleDeliveryTime: r.cstring("schedule_delivery_time"),
        validityPeriod: r.cstring("validity_period"),
        registeredDelivery: r.int8("registered_delivery"),
        replaceIfPresentFlag: r.int8("replace_if_present_flag"),
        dataCoding: r.int8("data_coding"),
        smDefaultMsgId: r.int8("sm_default_msg_id"),
        shortMessage: new Uint8Array(0),
        tlvs: new Map<number, Uint8Array>(),
      };
      body.shortMessage = r.octets(r.int8("sm_length"), "short_message");
      body.tlvs = r.tlvs();
      return { ...header, command, body };
    }
    case "data_sm":
      return {
        ...header,
        command,
        body: {
          ...readAddresses(r),
          esmClass: r.int8("esm_class"),
          registeredDelivery: r.int8("registered_delivery"),
          dataCoding: r.int8("data_coding"),
          tlvs: r.tlvs(),
        },
      };
    case "submit_sm_resp":
    case "deliver_sm_resp":
    case "data_sm_resp":
      // An error response carries no message_id (SMPP 3.4 §4.4.2); some SMSCs send none at all.
      return { ...header, command, body: { messageId: r.remaining > 0 ? r.cstring("message_id", true) : "" } };
    default:
      return { ...header, command, body: null };
  }
}

class Writer {
  private bytes = new Uint8Array(256);
  private length = HEADER;

  private room(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  int8(value: number): void {
    this.room(1);
    this.bytes[this.length++] = value & 0xff;
  }

  /** A C-octet string of at most `max` characters (its NUL not counted): longer is a caller's error, named. */
  cstring(value: string, max: number, what: string): void {
    if (value.length > max) throw new RangeError(`${what} has ${value.length} characters; SMPP 3.4 allows ${max}`);
    this.room(value.length + 1);
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code === 0 || code > 0xff) throw new RangeError(`${what} holds a character an SMPP C-octet string cannot carry: ${JSON.stringify(value[i])}`);
      this.bytes[this.length++] = code;
    }
    this.bytes[this.length++] = 0;
  }

  octets(value: Uint8Array): void {
    this.room(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
  }

  tlvs(tlvs: ReadonlyMap<number, Uint8Array> | undefined): void {
    for (const [tag, value] of tlvs ?? []) {
      if (value.length > 0xffff) throw new RangeError(`TLV 0x${tag.toString(16)} is ${value.length} octets; at most 65,535 fit`);
      this.room(4);
      this.bytes[this.length++] = tag >> 8;
      this.bytes[this.length++] = tag & 0xff;
      this.bytes[this.length++] = value.length >> 8;
      this.bytes[this.length++] = value.length & 0xff;
      this.octets(value);
    }
  }

  finish(commandId: number, status: number, sequence: number): Buffer {
    if (this.length > MAX_PDU_LENGTH) throw new RangeError(`the PDU would be ${this.length} octets; at most ${MAX_PDU_LENGTH} are sent`);
    const view = new DataView(this.bytes.buffer, 0, HEADER);
    view.setUint32(0, this.length);
    view.setUint32(4, commandId);
    view.setUint32(8, status);
    view.setUint32(12, sequence);
    return Buffer.from(this.bytes.buffer, 0, this.length);
  }
}

function readAddresses(r: Reader): Addresses {
  return {
    serviceType: r.cstring("service_type"),
    sourceAddrTon: r.int8("source_addr_ton"),
    sourceAddrNpi: r.int8("source_addr_npi"),
    sourceAddr: r.cstring("source_addr"),
    destAddrTon: r.int8("dest_addr_ton"),
    destAddrNpi: r.int8("dest_addr_npi"),
    destinationAddr: r.cstring("destination_addr"),
  };
}

/** `maxAddress`: 20 characters in submit_sm and deliver_sm, 64 in data_sm. */
function writeAddresses(w: Writer, b: Addresses, maxAddress: number): void {
  w.cstring(b.serviceType, 5, "service_type");
  w.int8(b.sourceAddrTon);
  w.int8(b.sourceAddrNpi);
  w.cstring(b.sourceAddr, maxAddress, "source_addr");
  w.int8(b.destAddrTon);
  w.int8(b.destAddrNpi);
  w.cstring(b.destinationAddr, maxAddress, "destination_addr");
}

/** The octets of a PDU. Throws RangeError for a field SMPP cannot carry (too long, or not Latin-1). */
export function encodePdu(pdu: Pdu): Buffer {
  const w = new Writer();
  const { status, sequence } = pdu;
  switch (pdu.command) {
    case "bind_transceiver":
    case "bind_transmitter":
    case "bind_receiver": {
      const b = pdu.body;
      w.cstring(b.systemId, 15, "system_id");
      w.cstring(b.password, 8, "password");
      w.cstring(b.systemType, 12, "system_type");
      w.int8(b.interfaceVersion);
      w.int8(b.addrTon);
      w.int8(b.addrNpi);
      w.cstring(b.addressRange, 40, "address_range");
      break;
    }
    case "bind_transceiver_resp":
    case "bind_transmitter_resp":
    case "bind_receiver_resp":
      w.cstring(pdu.body.systemId, 15, "system_id");
      break;
    case "submit_sm":
    case "deliver_sm": {
      const b = pdu.body;
      writeAddresses(w, b, 20);
      w.int8(b.esmClass);
      w.int8(b.protocolId);
      w.int8(b.priorityFlag);
      w.cstring(b.scheduleDeliveryTime, 16, "schedule_delivery_time");
      w.cstring(b.validityPeriod, 16, "validity_period");
      w.int8(b.registeredDelivery);
      w.int8(b.replaceIfPresentFlag);
      w.int8(b.dataCoding);
      w.int8(b.smDefaultMsgId);
      if (b.shortMessage.length > 254) throw new RangeError(`short_message is ${b.shortMessage.length} octets; at most 254 fit (use message_payload)`);
      w.int8(b.shortMessage.length);
      w.octets(b.shortMessage);
      w.tlvs(b.tlvs);
      break;
    }
    case "data_sm": {
      const b = pdu.body;
      writeAddresses(w, b, 64);
      w.int8(b.esmClass);
      w.int8(b.registeredDelivery);
      w.int8(b.dataCoding);
      w.tlvs(b.tlvs);
      break;
    }
    case "submit_sm_resp":
    case "deliver_sm_resp":
    case "data_sm_resp":
      w.cstring(pdu.body.messageId, 64, "message_id");
      break;
    case "unknown":
      return w.finish(pdu.commandId, status, sequence);
    default:
      break;
  }
  return w.finish(COMMAND_IDS[pdu.command], status, sequence);
}

/** The octets of an integer TLV value. */
export const tlvInt = (value: number, octets: 1 | 2): Uint8Array =>
  octets === 1 ? Uint8Array.of(value & 0xff) : Uint8Array.of((value >> 8) & 0xff, value & 0xff);

/** An integer TLV's value (big-endian), or undefined when absent or empty. */
export function readTlvInt(tlvs: ReadonlyMap<number, Uint8Array>, tag: number): number | undefined {
  const value = tlvs.get(tag);
  if (!value || value.length === 0 || value.length > 4) return undefined;
  let n = 0;
  for (const octet of value) n = n * 256 + octet;
  return n;
}

/** A C-octet string TLV's text (without its NUL), or undefined when absent. */
export function readTlvString(tlvs: ReadonlyMap<number, Uint8Array>, tag: number): string | undefined {
  const value = tlvs.get(tag);
  if (!value) return undefined;
  const end = value.indexOf(0);
  return latin1(end < 0 ? value : value.subarray(0, end));
}

/** A C-octet string TLV's octets, NUL included. */
export function tlvString(value: string): Uint8Array {
  const octets = new Uint8Array(value.length + 1);
  for (let i = 0; i < value.length; i++) octets[i] = value.charCodeAt(i) & 0xff;
  return octets;
}

/**
 * Cuts a TCP stream into PDUs. `push` a chunk, get the whole PDUs it completed. A command_length
 * below 16 or above MAX_PDU_LENGTH cannot be skipped over (the stream is lost): PduError.
 */
export class PduFramer {
  private pending: Buffer | undefined;

  push(chunk: Buffer): Buffer[] {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const pdus: Buffer[] = [];
    while (data.length >= 4) {
      const length = data.readUInt32BE(0);
      if (length < HEADER || length > MAX_PDU_LENGTH)
        throw new PduError(`a PDU claims ${length} octets; SMPP PDUs here are ${HEADER} to ${MAX_PDU_LENGTH}: the stream cannot be read on`, ESME_RINVCMDLEN);
      if (data.length < length) break;
      pdus.push(data.subarray(0, length));
      data = data.subarray(length);
    }
    if (data.length > 0) this.pending = Buffer.from(data);
    return pdus;
  }
}

/** SMPP 3.4 command_status values this backend tells apart (§5.1.3). */
export const STATUS = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDLEN: 0x02,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVSRCADR: 0x0a,
  ESME_RINVDSTADR: 0x0b,
  ESME_RINVMSGID: 0x0c,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RINVSERTYP: 0x15,
  ESME_RINVESMCLASS: 0x43,
  ESME_RSUBMITFAIL: 0x45,
  ESME_RINVSRCTON: 0x48,
  ESME_RINVSRCNPI: 0x49,
  ESME_RINVDSTTON: 0x50,
  ESME_RINVDSTNPI: 0x51,
  ESME_RINVSYSTYP: 0x53,
  ESME_RTHROTTLED: 0x58,
  ESME_RINVSCHED: 0x61,
  ESME_RINVEXPIRY: 0x62,
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
  ESME_RX_R_APPN: 0x66,
  ESME_RINVOPTPARSTREAM: 0xc0,
  ESME_ROPTPARNOTALLWD: 0xc1,
  ESME_RINVPARLEN: 0xc2,
  ESME_RMISSINGOPTPARAM: 0xc3,
  ESME_RINVOPTPARAMVAL: 0xc4,
  ESME_RDELIVERYFAILURE: 0xfe,
  ESME_RUNKNOWNERR: 0xff,
} as const;

const STATUS_NAMES = new Map<number, string>(Object.entries(STATUS).map(([name, code]) => [code, name]));

/** `ESME_RTHROTTLED (0x58)`, or `0x0401` for a vendor's own code. */
export function statusText(status: number): string {
  const hex = `0x${status.toString(16).padStart(2, "0")}`;
  const name = STATUS_NAMES.get(status);
  return name ? `${name} (${hex})` : hex;
}
