import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRequire } from "node:module";
import {
  decodePdu,
  encodePdu,
  MAX_PDU_LENGTH,
  type Pdu,
  PduError,
  PduFramer,
  readTlvInt,
  readTlvString,
  type ShortMessageBody,
  shortMessageBody,
  statusText,
  TAGS,
  tlvInt,
  tlvString,
} from "./pdu.ts";

// The `smpp` npm package (farhadi) is an independent codec: what we write it must read, and what it writes we must read.
type OraclePdu = Record<string, unknown> & { command: string; sequence_number: number; command_status: number };
const oracle = createRequire(import.meta.url)("smpp") as {
  PDU: { new (command: string, options: Record<string, unknown>): { toBuffer(): Buffer }; fromBuffer(buffer: Buffer): OraclePdu };
};

const submit = (overrides: Partial<ShortMessageBody> = {}): ShortMessageBody =>
  shortMessageBody({
    sourceAddrTon: 5,
    sourceAddr: "CLINIC",
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: "255700000001",
    registeredDelivery: 1,
    shortMessage: Buffer.from("hello"),
    ...overrides,
  });

describe("SMPP PDUs, read back by the smpp package", () => {
  it("a bind_transceiver carries its credentials and interface version 3.4", () => {
    const octets = encodePdu({
      command: "bind_transceiver",
      status: 0,
      sequence: 7,
      body: { systemId: "rapidsms", password: "secret", systemType: "VMA", interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: "" },
    });
    const read = oracle.PDU.fromBuffer(octets);
    assert.equal(read.command, "bind_transceiver");
    assert.equal(read.sequence_number, 7);
    assert.equal(read.system_id, "rapidsms");
    assert.equal(read.password, "secret");
    assert.equal(read.system_type, "VMA");
    assert.equal(read.interface_version, 0x34);
  });

  it("a submit_sm carries addresses, flags, the short message and the SAR TLVs", () => {
    const tlvs = new Map([
      [TAGS.sar_msg_ref_num, tlvInt(513, 2)],
      [TAGS.sar_total_segments, tlvInt(3, 1)],
      [TAGS.sar_segment_seqnum, tlvInt(2, 1)],
    ]);
    const octets = encodePdu({ command: "submit_sm", status: 0, sequence: 0x7fffffff, body: submit({ tlvs, registeredDelivery: 1 }) });
    const read = oracle.PDU.fromBuffer(octets);
    assert.equal(read.command, "submit_sm");
    assert.equal(read.sequence_number, 0x7fffffff);
    assert.equal(read.source_addr, "CLINIC");
    assert.equal(read.source_addr_ton, 5);
    assert.equal(read.destination_addr, "255700000001");
    assert.equal(read.dest_addr_ton, 1);
    assert.equal(read.registered_delivery, 1);
    assert.deepEqual((read.short_message as { message: string }).message, "hello");
    assert.equal(read.sar_msg_ref_num, 513);
    assert.equal(read.sar_total_segments, 3);
    assert.equal(read.sar_segment_seqnum, 2);
  });

  it("a response with an error status and an empty body is read as such", () => {
    const octets = encodePdu({ command: "generic_nack", status: 0x03, sequence: 9, body: null });
    const read = oracle.PDU.fromBuffer(octets);
    assert.equal(read.command, "generic_nack");
    assert.equal(read.command_status, 3);
  });
});

describe("SMPP PDUs written by the smpp package", () => {
  it("a deliver_sm receipt: addresses, esm_class, text and the receipt TLVs", () => {
    const octets = new oracle.PDU("deliver_sm", {
      sequence_number: 42,
      source_addr: "255700000001",
      source_addr_ton: 1,
      destination_addr: "CLINIC",
      esm_class: 4,
      short_message: Buffer.from("id:1A2B sub:001 dlvrd:001 stat:DELIVRD err:000"),
      receipted_message_id: "1A2B",
      message_state: 2,
    }).toBuffer();
    const pdu = decodePdu(octets);
    assert.equal(pdu.command, "deliver_sm");
    assert.equal(pdu.sequence, 42);
    if (pdu.command !== "deliver_sm") return;
    assert.equal(pdu.body.sourceAddr, "255700000001");
    assert.equal(pdu.body.sourceAddrTon, 1);
    assert.equal(pdu.body.esmClass, 4);
    assert.equal(Buffer.from(pdu.body.shortMessage).toString(), "id:1A2B sub:001 dlvrd:001 stat:DELIVRD err:000");
    assert.equal(readTlvString(pdu.body.tlvs, TAGS.receipted_message_id), "1A2B");
    assert.equal(readTlvInt(pdu.body.tlvs, TAGS.message_state), 2);
  });

  it("a submit_sm_resp gives its message_id; one with an error status and no body gives none", () => {
    const ok = decodePdu(new oracle.PDU("submit_sm_resp", { sequence_number: 3, message_id: "5F3A2B1C" }).toBuffer());
    assert.deepEqual(ok, { command: "submit_sm_resp", status: 0, sequence: 3, body: { messageId: "5F3A2B1C" } });
    const refused = decodePdu(new oracle.PDU("submit_sm_resp", { sequence_number: 4, command_status: 0x58 }).toBuffer());
    assert.deepEqual(refused, { command: "submit_sm_resp", status: 0x58, sequence: 4, body: { messageId: "" } });
  });

  it("a command we do not handle is read as unknown, with its id, for the generic_nack", () => {
    const pdu = decodePdu(new oracle.PDU("query_sm", { sequence_number: 5, message_id: "1", source_addr: "1" }).toBuffer());
    assert.equal(pdu.command, "unknown");
    assert.equal(pdu.command === "unknown" && pdu.commandId, 0x03);
  });
});

describe("SMPP PDUs: our own round trip and what we refuse", () => {
  const cases: Pdu[] = [
    { command: "enquire_link", status: 0, sequence: 1, body: null },
    { command: "unbind_resp", status: 0, sequence: 2, body: null },
    { command: "deliver_sm_resp", status: 0x64, sequence: 3, body: { messageId: "" } },
    { command: "bind_receiver_resp", status: 0, sequence: 4, body: { systemId: "SMSC" } },
    {
      command: "deliver_sm",
      status: 0,
      sequence: 5,
      body: submit({ shortMessage: new Uint8Array(254).fill(0x41), tlvs: new Map([[TAGS.message_payload, new Uint8Array(0)]]) }),
    },
    {
      command: "data_sm",
      status: 0,
      sequence: 6,
      body: {
        serviceType: "",
        sourceAddrTon: 1,
        sourceAddrNpi: 1,
        sourceAddr: "255700000001",
        destAddrTon: 0,
        destAddrNpi: 0,
        destinationAddr: "15555",
        esmClass: 0,
        registeredDelivery: 0,
        dataCoding: 8,
        tlvs: new Map([[TAGS.message_payload, Uint8Array.of(0x00, 0x68, 0x00, 0x69)]]),
      },
    },
  ];
  for (const pdu of cases) {
    it(`${pdu.command} reads back as written`, () => {
      assert.deepEqual(decodePdu(encodePdu(pdu)), pdu);
    });
  }

  it("refuses fields SMPP cannot carry, naming them", () => {
    const bind = (systemId: string): Pdu => ({
      command: "bind_transmitter",
      status: 0,
      sequence: 1,
      body: { systemId, password: "", systemType: "", interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: "" },
    });
    assert.throws(() => encodePdu(bind("a-system-id-too-long")), /system_id has 20 characters; SMPP 3.4 allows 15/);
    assert.throws(() => encodePdu(bind("ŝ")), /system_id holds a character an SMPP C-octet string cannot carry/);
    assert.throws(() => encodePdu({ command: "submit_sm", status: 0, sequence: 1, body: submit({ shortMessage: new Uint8Array(255) }) }), /at most 254 fit/);
  });

  it("a body that ends early, a string without its NUL, or a TLV past the end is a PduError with the sequence to nack", () => {
    const whole = encodePdu({ command: "submit_sm", status: 0, sequence: 77, body: submit({ tlvs: new Map([[TAGS.user_message_reference, tlvInt(1, 2)]]) }) });
    const cut = (length: number) => {
      const octets = Buffer.from(whole.subarray(0, length));
      octets.writeUInt32BE(length, 0);
      return octets;
    };
    for (const length of [17, 30, whole.length - 5, whole.length - 1]) {
      assert.throws(
        () => decodePdu(cut(length)),
        (error: unknown) => error instanceof PduError && error.sequence === 77,
        `cut at ${length}`,
      );
    }
    assert.throws(
      () => decodePdu(cut(whole.length - 1)),
      (error: unknown) => error instanceof PduError && error.status === 0xc2,
    );
  });

  it("reads Latin-1 strings as they are: no octet fails to decode", () => {
    const octets = encodePdu({ command: "submit_sm_resp", status: 0, sequence: 1, body: { messageId: "ÿé" } });
    assert.deepEqual(decodePdu(octets).body, { messageId: "ÿé" });
  });

  it("statusText names the status SMPP 3.4 gives it, else its hex", () => {
    assert.equal(statusText(0x58), "ESME_RTHROTTLED (0x58)");
    assert.equal(statusText(0x401), "0x401");
  });

  it("C-string TLVs round trip through tlvString and readTlvString", () => {
    assert.equal(readTlvString(new Map([[1, tlvString("abc")]]), 1), "abc");
    assert.equal(readTlvInt(new Map([[1, Uint8Array.of(1, 0)]]), 1), 256);
    assert.equal(readTlvInt(new Map(), 1), undefined);
  });
});

describe("PduFramer", () => {
  const a = encodePdu({ command: "enquire_link", status: 0, sequence: 1, body: null });
  const b = encodePdu({ command: "submit_sm_resp", status: 0, sequence: 2, body: { messageId: "abc" } });

  it("cuts PDUs out of chunks however TCP splits them", () => {
    const stream = Buffer.concat([a, b, a]);
    for (let size = 1; size <= stream.length; size++) {
      const framer = new PduFramer();
      const frames: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) frames.push(...framer.push(stream.subarray(at, at + size)));
      assert.deepEqual(
        frames.map((f) => decodePdu(f).sequence),
        [1, 2, 1],
        `chunks of ${size}`,
      );
    }
  });

  it("refuses a length no SMPP PDU has, rather than waiting for 4 GB", () => {
    const huge = Buffer.alloc(16);
    huge.writeUInt32BE(MAX_PDU_LENGTH + 1, 0);
    assert.throws(() => new PduFramer().push(huge), PduError);
    const tiny = Buffer.alloc(16);
    tiny.writeUInt32BE(8, 0);
    assert.throws(() => new PduFramer().push(tiny), /a PDU claims 8 octets/);
  });
});
