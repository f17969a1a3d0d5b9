import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { type TestContext, test } from "node:test";
import { unlessInCi } from "./components.ts";
import { type NetSmppSmsc, type NetSmppSmscOptions, netSmppMissing, startNetSmppSmsc } from "./smpp-smsc.ts";

// The SMSC is checked against an SMPP client nobody here wrote: the smpp package (farhadi/node-smpp).
interface SmppPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  response(options?: Record<string, unknown>): SmppPdu;
  [field: string]: unknown;
}
interface SmppSession {
  send(pdu: SmppPdu, onResponse?: (response: SmppPdu) => void): boolean;
  on(event: "pdu", listener: (pdu: SmppPdu) => void): void;
  on(event: "close" | "connect", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  destroy(): void;
}
interface SmppModule {
  connect(options: { url: string }): SmppSession;
  PDU: new (command: string, options?: Record<string, unknown>) => SmppPdu;
}
const smpp = createRequire(import.meta.url)("smpp") as SmppModule;

const skip = unlessInCi(netSmppMissing());
const ACCOUNT = { system_id: "rapidsms", password: "secret" };
const USER_MESSAGE_REFERENCE = 0x0204;
/** A TLV tag neither Net::SMPP nor the smpp package has a name for. */
const VENDOR_TAG = 0x1501;

/** A client session: every PDU it received, in wire order; it answers deliver_sm (with `deliverStatus`), enquire_link and unbind. */
class Esme {
  readonly session: SmppSession;
  readonly received: SmppPdu[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  deliverStatus: number | "never" = 0;

  constructor(port: number) {
    this.session = smpp.connect({ url: `smpp://127.0.0.1:${port}` });
    this.session.on("error", () => {});
    this.closed = new Promise((resolve) => this.session.on("close", () => resolve()));
    void this.closed.then(() => (this.isClosed = true));
    this.session.on("pdu", (pdu) => {
      this.received.push(pdu);
      if (pdu.command === "deliver_sm" && this.deliverStatus !== "never") this.session.send(pdu.response({ command_status: this.deliverStatus }));
      if (pdu.command === "enquire_link" || pdu.command === "unbind") this.session.send(pdu.response());
    });
  }

  request(command: string, options: Record<string, unknown> = {}): Promise<SmppPdu> {
    return new Promise((resolve) => this.session.send(new smpp.PDU(command, options), resolve));
  }

  /** Sends without waiting: the answer, when one comes, is in `received`. */
  fire(command: string, options: Record<string, unknown> = {}): void {
    this.session.send(new smpp.PDU(command, options));
  }

  receivedOf(command: string): SmppPdu[] {
    return this.received.filter((pdu) => pdu.command === command);
  }
}

async function smscFor(t: TestContext, options?: NetSmppSmscOptions): Promise<NetSmppSmsc> {
  const smsc = await startNetSmppSmsc(options);
  t.after(() => smsc.stop());
  return smsc;
}

async function esmeOf(
  t: TestContext,
  smsc: NetSmppSmsc,
  bind: { command: string; system_id: string; password: string } | null = { command: "bind_transceiver", ...ACCOUNT },
): Promise<Esme> {
  const esme = new Esme(smsc.port);
  t.after(() => esme.session.destroy());
  if (bind) {
    const { command, ...credentials } = bind;
    const answer = await esme.request(command, credentials);
    assert.equal(answer.command_status, 0, `${command} as ${bind.system_id}`);
  }
  return esme;
}

async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const submit = (destination: string, text: string, extra: Record<string, unknown> = {}) => ({
  source_addr: "20880",
  destination_addr: destination,
  short_message: Buffer.from(text),
  ...extra,
});

const receiptText = (pdu: SmppPdu) => String((pdu.short_message as { message: string }).message);

test("a bind with the account's password is answered 0 and NetSMPP; a wrong password 0x0E, an unknown system_id 0x0F, the connection staying open for another try", {
  skip,
}, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc, null);
  assert.equal((await esme.request("bind_transceiver", { system_id: "rapidsms", password: "wrong" })).command_status, 0x0e);
  assert.equal((await esme.request("bind_transceiver", { system_id: "nobody", password: "secret" })).command_status, 0x0f);
  const bound = await esme.request("bind_transceiver", ACCOUNT);
  assert.equal(bound.command, "bind_transceiver_resp");
  assert.equal(bound.command_status, 0);
  assert.equal(bound.system_id, "NetSMPP");
  assert.deepEqual(
    (await smsc.binds()).map(({ connection, command, systemId, status }) => ({ connection, command, systemId, status })),
    [
      { connection: 1, command: "bind_transceiver", systemId: "rapidsms", status: 0x0e },
      { connection: 1, command: "bind_transceiver", systemId: "nobody", status: 0x0f },
      { connection: 1, command: "bind_transceiver", systemId: "rapidsms", status: 0 },
    ],
  );
  assert.deepEqual(await smsc.connections(), [{ connection: 1, bound: "transceiver", systemId: "rapidsms" }]);
});

test("bind_transmitter and bind_receiver get their own _resp and bind as such, for the accounts configured (the default one then gone)", {
  skip,
}, async (t) => {
  const smsc = await smscFor(t, { accounts: [{ systemId: "tx-rx", password: "pw1" }] });
  const transmitter = await esmeOf(t, smsc, null);
  const answer = await transmitter.request("bind_transmitter", { system_id: "tx-rx", password: "pw1" });
  assert.equal(answer.command, "bind_transmitter_resp");
  assert.equal(answer.command_status, 0);
  const receiver = await esmeOf(t, smsc, { command: "bind_receiver", system_id: "tx-rx", password: "pw1" });
  assert.equal(receiver.receivedOf("bind_receiver_resp").length, 1);
  const old = await esmeOf(t, smsc, null);
  assert.equal((await old.request("bind_transceiver", ACCOUNT)).command_status, 0x0f);
  assert.deepEqual(await smsc.connections(), [
    { connection: 1, bound: "transmitter", systemId: "tx-rx" },
    { connection: 2, bound: "receiver", systemId: "tx-rx" },
    { connection: 3, bound: null, systemId: null },
  ]);
});

test("a PDU before any bind is refused 0x04 ESME_RINVBNDSTS, and so is a receiver's submit_sm", { skip }, async (t) => {
  const smsc = await smscFor(t);
  const unbound = await esmeOf(t, smsc, null);
  const early = await unbound.request("submit_sm", submit("255700000001", "too early"));
  assert.equal(early.command, "submit_sm_resp");
  assert.equal(early.command_status, 0x04);
  assert.equal((await unbound.request("enquire_link")).command_status, 0x04);
  const receiver = await esmeOf(t, smsc, { command: "bind_receiver", ...ACCOUNT });
  assert.equal((await receiver.request("submit_sm", submit("255700000001", "receivers do not send"))).command_status, 0x04);
  assert.deepEqual(
    (await smsc.submits()).map(({ status, messageId }) => ({ status, messageId })),
    [
      { status: 0x04, messageId: null },
      { status: 0x04, messageId: null },
    ],
  );
});

test("submit_sm is answered with a new uppercase hex message id, one up each time, and recorded with its addresses, classes, text and TLVs", {
  skip,
}, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc);
  const text = Buffer.from("Habari", "utf16le").swap16();
  const first = await esme.request("submit_sm", {
    source_addr_ton: 5,
    source_addr_npi: 0,
    source_addr: "RapidSMS",
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: "255700000001",
    esm_class: 0x03,
    data_coding: 8,
    registered_delivery: 0,
    short_message: text,
    user_message_reference: 42,
  });
  assert.equal(first.command_status, 0);
  const id = String(first.message_id);
  assert.match(id, /^[0-9A-F]+$/);
  assert.ok(Number.parseInt(id, 16) >= 100_000 && Number.parseInt(id, 16) <= 999_999, `${id} is a 6-digit counter in hex`);
  const second = await esme.request("submit_sm", submit("255700000002", "second"));
  assert.equal(Number.parseInt(String(second.message_id), 16), Number.parseInt(id, 16) + 1);

  const [record, secondRecord] = await smsc.submits();
  assert.deepEqual(record, {
    connection: 1,
    sequence: 2,
    systemId: "rapidsms",
    sourceAddr: "RapidSMS",
    sourceAddrTon: 5,
    sourceAddrNpi: 0,
    destinationAddr: "255700000001",
    destAddrTon: 1,
    destAddrNpi: 1,
    esmClass: 0x03,
    dataCoding: 8,
    registeredDelivery: 0,
    shortMessage: text,
    tlvs: { [USER_MESSAGE_REFERENCE]: Buffer.from([0x00, 42]) },
    messageId: id,
    status: 0,
    at: record.at,
  });
  assert.ok(record.at > Date.now() - 60_000);
  assert.equal(secondRecord.messageId, second.message_id);

  await smsc.configure({ messageIds: "decimal" });
  const third = await esme.request("submit_sm", submit("255700000003", "third"));
  assert.equal(third.message_id, String(Number.parseInt(id, 16) + 2));
});

test("a receipt asked for comes after the submit_sm_resp: a deliver_sm, esm_class 0x04, addresses swapped, the text and the TLVs receipted_message_id and message_state", {
  skip,
}, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc);
  await esme.request("submit_sm", submit("255700000009", "no receipt for this one"));
  const answer = await esme.request("submit_sm", {
    ...submit("255700000001", "Hello there, this text is longer than twenty"),
    source_addr_ton: 5,
    source_addr_npi: 0,
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    registered_delivery: 1,
  });
  const [receipt] = await waitFor("the receipt", () => esme.receivedOf("deliver_sm").length > 0 && esme.receivedOf("deliver_sm"));
  assert.equal(esme.receivedOf("deliver_sm").length, 1, "only the submit that asked for one got a receipt");
  assert.ok(esme.received.indexOf(receipt) > esme.received.indexOf(answer), "the receipt after the submit_sm_resp");
  assert.equal(receipt.esm_class, 0x04);
  assert.deepEqual(
    [receipt.source_addr, receipt.source_addr_ton, receipt.source_addr_npi, receipt.destination_addr, receipt.dest_addr_ton, receipt.dest_addr_npi],
    ["255700000001", 1, 1, "20880", 5, 0],
  );
  const id = String(answer.message_id);
  assert.match(
    receiptText(receipt),
    new RegExp(`^id:${id} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:Hello there, this te$`),
  );
  assert.equal(receipt.receipted_message_id, id);
  assert.equal(receipt.message_state, 2);
  await waitFor("the deliver_sm_resp in the log", async () => (await smsc.pdus()).some((pdu) => pdu.command === "deliver_sm_resp" && pdu.direction === "in"));
});

test('receipts { when: "before" }: the deliver_sm is on the wire before the submit_sm_resp', { skip }, async (t) => {
  const smsc = await smscFor(t, { receipts: { when: "before" } });
  const esme = await esmeOf(t, smsc);
  const answer = await esme.request("submit_sm", submit("255700000001", "receipt first", { registered_delivery: 1 }));
  const [receipt] = esme.receivedOf("deliver_sm");
  assert.ok(receipt, "the receipt came with the answer");
  assert.ok(esme.received.indexOf(receipt) < esme.received.indexOf(answer));
  assert.equal(receipt.receipted_message_id, answer.message_id);
  const out = (await smsc.pdus()).filter((pdu) => pdu.direction === "out").map((pdu) => pdu.command);
  assert.deepEqual(out.slice(-2), ["deliver_sm", "submit_sm_resp"]);
});

test('receipts { form: "text" } carry the text alone; { when: "none" } sends none', { skip }, async (t) => {
  const smsc = await smscFor(t, { receipts: { form: "text" } });
  const esme = await esmeOf(t, smsc);
  const answer = await esme.request("submit_sm", submit("255700000001", "text only", { registered_delivery: 1 }));
  const [receipt] = await waitFor("the receipt", () => esme.receivedOf("deliver_sm").length > 0 && esme.receivedOf("deliver_sm"));
  assert.match(receiptText(receipt), new RegExp(`^id:${answer.message_id} `));
  assert.equal(receipt.receipted_message_id, undefined);
  assert.equal(receipt.message_state, undefined);

  await smsc.configure({ receipts: { when: "none" } });
  await esme.request("submit_sm", submit("255700000001", "no receipt", { registered_delivery: 1 }));
  await smsc.configure({ receipts: { when: "after" } });
  const last = await esme.request("submit_sm", submit("255700000001", "receipt again", { registered_delivery: 1 }));
  await waitFor("the last receipt", () => esme.receivedOf("deliver_sm").length > 1);
  assert.deepEqual(
    esme.receivedOf("deliver_sm").map((pdu) => receiptText(pdu).split(" ")[0]),
    [`id:${answer.message_id}`, `id:${last.message_id}`],
  );
});

test('receipts { idBase: "decimal" } write the id in the text as the decimal value of the hex id; the TLV keeps the hex', { skip }, async (t) => {
  const smsc = await smscFor(t, { receipts: { idBase: "decimal" } });
  const esme = await esmeOf(t, smsc);
  const answer = await esme.request("submit_sm", submit("255700000001", "decimal id", { registered_delivery: 1 }));
  const hexId = String(answer.message_id);
  const [receipt] = await waitFor("the receipt", () => esme.receivedOf("deliver_sm").length > 0 && esme.receivedOf("deliver_sm"));
  assert.match(receiptText(receipt), new RegExp(`^id:${Number.parseInt(hexId, 16)} sub:001`));
  assert.equal(receipt.receipted_message_id, hexId);
});

test("receipts { onlyLastPart, stat }: of a concatenated submit (UDH or sar_* TLVs) only the last part gets one, with that stat and its message_state", {
  skip,
}, async (t) => {
  const smsc = await smscFor(t, { receipts: { onlyLastPart: true, stat: "UNDELIV" } });
  const esme = await esmeOf(t, smsc);
  const udhPart = (seq: number) => ({
    ...submit("255700000001", ""),
    esm_class: 0x40,
    registered_delivery: 1,
    short_message: Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x03, seq]), Buffer.from(`part ${seq} of three`)]),
  });
  const answers = [await esme.request("submit_sm", udhPart(1)), await esme.request("submit_sm", udhPart(2)), await esme.request("submit_sm", udhPart(3))];
  const sarPart = (seq: number) =>
    submit("255700000002", `sar part ${seq}`, { registered_delivery: 1, sar_msg_ref_num: 7, sar_total_segments: 2, sar_segment_seqnum: seq });
  const sarAnswers = [await esme.request("submit_sm", sarPart(1)), await esme.request("submit_sm", sarPart(2))];
  const receipts = await waitFor("two receipts", () => esme.receivedOf("deliver_sm").length >= 2 && esme.receivedOf("deliver_sm"));
  await esme.request("enquire_link"); // answered after anything the SMSC sent before it
  assert.deepEqual(
    esme.receivedOf("deliver_sm").map((pdu) => pdu.receipted_message_id),
    [answers[2].message_id, sarAnswers[1].message_id],
  );
  assert.match(receiptText(receipts[0]), / dlvrd:000 .* stat:UNDELIV err:000 text:part 3 of three$/);
  assert.equal(receipts[0].message_state, 5);

  await smsc.configure({ receipts: { onlyLastPart: false } });
  await esme.request("submit_sm", udhPart(1));
  await waitFor("a receipt for a first part", () => esme.receivedOf("deliver_sm").length === 3);
});

test("a receipt goes to a receiver of the submitter's system_id, waiting for one to bind when there is none", { skip }, async (t) => {
  const smsc = await smscFor(t, {
    accounts: [ACCOUNT, { system_id: "other", password: "other" }].map((a) => ({ systemId: a.system_id, password: a.password })),
  });
  const transmitter = await esmeOf(t, smsc, { command: "bind_transmitter", ...ACCOUNT });
  const otherReceiver = await esmeOf(t, smsc, { command: "bind_receiver", system_id: "other", password: "other" });
  const first = await transmitter.request("submit_sm", submit("255700000001", "kept", { registered_delivery: 1 }));
  const receiver = await esmeOf(t, smsc, { command: "bind_receiver", ...ACCOUNT });
  await waitFor("the kept receipt", () => receiver.receivedOf("deliver_sm").length === 1);
  const second = await transmitter.request("submit_sm", submit("255700000001", "direct", { registered_delivery: 1 }));
  await waitFor("the second receipt", () => receiver.receivedOf("deliver_sm").length === 2);
  assert.deepEqual(
    receiver.receivedOf("deliver_sm").map((pdu) => pdu.receipted_message_id),
    [first.message_id, second.message_id],
  );
  assert.equal(transmitter.receivedOf("deliver_sm").length + otherReceiver.receivedOf("deliver_sm").length, 0);
});

test("throttle(ms, status): submits are answered with that status (0x58 by default) and no id, and no receipt; throttle(0) ends it", { skip }, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc);
  await smsc.throttle(60_000);
  const throttled = await esme.request("submit_sm", submit("255700000001", "throttled", { registered_delivery: 1 }));
  await smsc.throttle(60_000, 0x14);
  const queueFull = await esme.request("submit_sm", submit("255700000001", "queue full", { registered_delivery: 1 }));
  await smsc.throttle(0);
  const accepted = await esme.request("submit_sm", submit("255700000001", "accepted", { registered_delivery: 1 }));
  assert.deepEqual(
    [throttled, queueFull, accepted].map((pdu) => pdu.command_status),
    [0x58, 0x14, 0],
  );
  assert.equal(throttled.message_id, undefined);
  assert.deepEqual(
    (await smsc.submits()).map(({ status, messageId }) => ({ status, messageId })),
    [
      { status: 0x58, messageId: null },
      { status: 0x14, messageId: null },
      { status: 0, messageId: accepted.message_id },
    ],
  );
  await waitFor("the receipt", () => esme.receivedOf("deliver_sm").length > 0);
  assert.deepEqual(
    esme.receivedOf("deliver_sm").map((pdu) => pdu.receipted_message_id),
    [accepted.message_id],
  );
});

test("slow(ms): each submit_sm is answered ms after it came while the others are read, and maxOutstanding counts the window", { skip }, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc);
  await smsc.slow(1_000);
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => esme.request("submit_sm", submit("255700000001", `windowed ${i}`))));
  assert.equal(new Set(answers.map((pdu) => pdu.message_id)).size, 20);
  assert.equal(await smsc.maxOutstanding(), 20);
  assert.equal(await smsc.maxOutstanding(1), 20);
  assert.equal(await smsc.maxOutstanding(2), 0);
  const pdus = await smsc.pdus();
  for (const answer of pdus.filter((pdu) => pdu.command === "submit_sm_resp")) {
    const submitted = pdus.find((pdu) => pdu.command === "submit_sm" && pdu.sequence === answer.sequence)!;
    assert.ok(answer.at - submitted.at >= 999, `submit ${answer.sequence} answered ${answer.at - submitted.at} ms after it came`);
  }
  await smsc.slow(0);
  assert.equal((await esme.request("submit_sm", submit("255700000001", "at once"))).command_status, 0);
  assert.equal(await smsc.maxOutstanding(), 20);
});

test("dropAfter(n): after the n-th submit_sm from then is read, every connection closes, the submits not answered yet unanswered", { skip }, async (t) => {
  const smsc = await smscFor(t);
  const first = await esmeOf(t, smsc);
  const second = await esmeOf(t, smsc);
  await smsc.slow(60_000);
  first.fire("submit_sm", submit("255700000001", "before dropAfter"));
  await waitFor("the first submit read", async () => (await smsc.submits()).length === 1);
  await smsc.dropAfter(2);
  first.fire("submit_sm", submit("255700000001", "first of two"));
  await waitFor("the second submit read", async () => (await smsc.submits()).length === 2);
  assert.equal(first.isClosed || second.isClosed, false, "still open after one of the two");
  second.fire("submit_sm", submit("255700000002", "second of two"));
  await Promise.all([first.closed, second.closed]);
  assert.deepEqual(await smsc.connections(), []);
  assert.deepEqual(
    (await smsc.submits()).map(({ connection, messageId, status }) => ({ connection, messageId, status })),
    [
      { connection: 1, messageId: null, status: null },
      { connection: 1, messageId: null, status: null },
      { connection: 2, messageId: null, status: null },
    ],
  );
  assert.equal(first.receivedOf("submit_sm_resp").length + second.receivedOf("submit_sm_resp").length, 0);
});

test("drop(): every SMPP connection closes now; a new one binds again", { skip }, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc);
  await smsc.drop();
  await esme.closed;
  await esmeOf(t, smsc);
  assert.deepEqual(await smsc.connections(), [{ connection: 2, bound: "transceiver", systemId: "rapidsms" }]);
});

test("deliver(): a deliver_sm with the MO's fields goes to a receiver-capable connection, and its deliver_sm_resp status is reported", { skip }, async (t) => {
  const smsc = await smscFor(t);
  await assert.rejects(
    smsc.deliver({ source: "255700000001", destination: "20880", shortMessage: Buffer.from("nobody bound") }),
    /no receiver-capable connection/,
  );
  await esmeOf(t, smsc, { command: "bind_transmitter", ...ACCOUNT });
  const esme = await esmeOf(t, smsc);
  const bytes = Buffer.from([0x00, 0x01, 0xfe, 0xff]);
  const answer = await smsc.deliver({
    source: "255700000001",
    destination: "20880",
    esmClass: 0x00,
    dataCoding: 4,
    shortMessage: bytes,
    tlvs: { [VENDOR_TAG]: Buffer.from("vendor") },
  });
  assert.deepEqual(answer, { status: 0 });
  const [mo] = esme.receivedOf("deliver_sm");
  assert.deepEqual(
    [mo.source_addr, mo.source_addr_ton, mo.source_addr_npi, mo.destination_addr, mo.esm_class, mo.data_coding],
    ["255700000001", 1, 1, "20880", 0, 4],
  );
  assert.deepEqual((mo.short_message as { message: Buffer }).message, bytes);
  assert.deepEqual(mo[VENDOR_TAG], Buffer.from("vendor"));

  esme.deliverStatus = 0x64;
  assert.deepEqual(await smsc.deliver({ source: "255700000001", destination: "20880", shortMessage: Buffer.from("refused") }), { status: 0x64 });
  esme.deliverStatus = "never";
  assert.deepEqual(await smsc.deliver({ source: "255700000001", destination: "20880", shortMessage: Buffer.from("unanswered") }), { status: "timeout" });
});

test("enquireLink() sends an enquire_link to every bound connection, whose answers are logged; the client's own is answered", { skip }, async (t) => {
  const smsc = await smscFor(t);
  await esmeOf(t, smsc);
  const second = await esmeOf(t, smsc, { command: "bind_receiver", ...ACCOUNT });
  await esmeOf(t, smsc, null);
  await smsc.enquireLink();
  const answers = await waitFor("both enquire_link_resp", async () => {
    const logged = (await smsc.pdus()).filter((pdu) => pdu.command === "enquire_link_resp" && pdu.direction === "in");
    return logged.length === 2 && logged;
  });
  assert.deepEqual(answers.map((pdu) => pdu.connection).sort(), [1, 2]);
  const own = await second.request("enquire_link");
  assert.equal(own.command, "enquire_link_resp");
  assert.equal(own.command_status, 0);
});

test("unbindAll() sends an unbind to every bound connection and closes each once its unbind_resp is in; a client's unbind is answered and closed", {
  skip,
}, async (t) => {
  const smsc = await smscFor(t);
  const first = await esmeOf(t, smsc);
  const second = await esmeOf(t, smsc);
  await smsc.unbindAll();
  await Promise.all([first.closed, second.closed]);
  assert.equal(first.receivedOf("unbind").length, 1);
  assert.deepEqual(await smsc.connections(), []);
  const logged = (await smsc.pdus())
    .filter((pdu) => pdu.command.startsWith("unbind"))
    .map(({ connection, direction, command }) => `${connection} ${direction} ${command}`);
  assert.deepEqual(logged.sort(), ["1 in unbind_resp", "1 out unbind", "2 in unbind_resp", "2 out unbind"]);

  const third = await esmeOf(t, smsc);
  const answer = await third.request("unbind");
  assert.equal(answer.command, "unbind_resp");
  await third.closed;
});

test("nackNext(): the next PDU is answered with a generic_nack 0x03 ESME_RINVCMDID, the one after as usual", { skip }, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc);
  await smsc.nackNext();
  const nacked = await esme.request("submit_sm", submit("255700000001", "nacked"));
  assert.equal(nacked.command, "generic_nack");
  assert.equal(nacked.command_status, 0x03);
  const accepted = await esme.request("submit_sm", submit("255700000001", "accepted"));
  assert.equal(accepted.command_status, 0);
  assert.deepEqual(
    (await smsc.submits()).map(({ status, messageId }) => ({ status, messageId })),
    [
      { status: 0x03, messageId: null },
      { status: 0, messageId: accepted.message_id },
    ],
  );
});

test("silent(ms): nothing is answered, not even enquire_link, while everything is read; silent(0) ends it", { skip }, async (t) => {
  const smsc = await smscFor(t);
  const esme = await esmeOf(t, smsc);
  await smsc.silent(60_000);
  esme.fire("enquire_link");
  esme.fire("submit_sm", submit("255700000001", "unheard"));
  await waitFor("both read", async () => (await smsc.pdus()).filter((pdu) => pdu.direction === "in").length === 3);
  await smsc.silent(0);
  const answer = await esme.request("enquire_link");
  assert.equal(answer.command_status, 0);
  assert.deepEqual(
    esme.received.map((pdu) => pdu.command),
    ["bind_transceiver_resp", "enquire_link_resp"],
  );
  assert.equal(answer.sequence_number, 4);
  assert.deepEqual(
    (await smsc.submits()).map(({ status, messageId }) => ({ status, messageId })),
    [{ status: null, messageId: null }],
  );
});
