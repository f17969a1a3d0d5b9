import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { type NpmSmsc, type SmppPdu, type SmppSession, smppPackage, startNpmSmsc } from "./smpp-npm-smsc.ts";

const LOGIN = { system_id: "rapidsms", password: "secret" };
const RECEIPT = /^id:(\w+) sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} stat:DELIVRD err:000 text:(.*)$/;

async function started(t: TestContext, options?: Parameters<typeof startNpmSmsc>[0]): Promise<NpmSmsc> {
  const smsc = await startNpmSmsc(options);
  t.after(() => smsc.stop());
  return smsc;
}

/** A client of the `smpp` package's own, connected; it answers every deliver_sm with `deliverStatus` (0 unless changed) and keeps them. */
async function client(t: TestContext, smsc: NpmSmsc) {
  const session = smppPackage.connect({ host: "127.0.0.1", port: smsc.port });
  session.on("error", () => {});
  const delivered: SmppPdu[] = [];
  const waiters = new Map<number, (pdu: SmppPdu) => void>();
  let taken = 0;
  const state = { deliverStatus: 0 as number | undefined, closed: false };
  const closed = new Promise<void>((resolve) => session.once("close", resolve)).then(() => {
    state.closed = true;
  });
  session.on("deliver_sm", (pdu) => {
    if (state.deliverStatus !== undefined) session.send(pdu.response({ command_status: state.deliverStatus }));
    delivered.push(pdu);
    waiters.get(delivered.length - 1)?.(pdu);
  });
  await new Promise<void>((resolve) => session.once("connect", resolve));
  t.after(() => session.destroy());
  return {
    session,
    state,
    closed,
    call: (
      command: "bind_transmitter" | "bind_receiver" | "bind_transceiver" | "submit_sm" | "enquire_link" | "unbind",
      fields: Record<string, unknown> = {},
    ) => new Promise<SmppPdu>((resolve) => session[command](fields, resolve)),
    send: (command: string, fields: Record<string, unknown> = {}) =>
      new Promise<SmppPdu>((resolve) => session.send(new smppPackage.PDU(command, fields), resolve)),
    /** The next deliver_sm this client receives (or the first not yet taken). */
    nextDeliver: () =>
      new Promise<SmppPdu>((resolve) => {
        const index = taken++;
        if (index < delivered.length) resolve(delivered[index]);
        else waiters.set(index, resolve);
      }),
  };
}

const textOf = (pdu: SmppPdu) => (pdu.short_message as { message: string }).message;

test("binds with the right system_id and password; a wrong password is ESME_RINVPASWD, a wrong system_id ESME_RINVSYSID, and the session closes", async (t) => {
  const smsc = await started(t);
  const good = await client(t, smsc);
  assert.equal((await good.call("bind_transceiver", LOGIN)).command_status, 0);
  const badPassword = await client(t, smsc);
  assert.equal((await badPassword.call("bind_transmitter", { ...LOGIN, password: "guess" })).command_status, 0x0e);
  await badPassword.closed;
  const badSystem = await client(t, smsc);
  assert.equal((await badSystem.call("bind_receiver", { ...LOGIN, system_id: "other" })).command_status, 0x0f);
  await badSystem.closed;
  assert.deepEqual(smsc.binds(), [
    { command: "bind_transceiver", systemId: "rapidsms", status: 0 },
    { command: "bind_transmitter", systemId: "rapidsms", status: 0x0e },
    { command: "bind_receiver", systemId: "other", status: 0x0f },
  ]);
  assert.equal(good.state.closed, false, "the good bind stays up");
});

test("takes its credentials from the options, and refuses a second bind on one session with ESME_RALYBND", async (t) => {
  const smsc = await started(t, { systemId: "clinic", password: "pw" });
  const c = await client(t, smsc);
  assert.equal((await c.call("bind_transmitter", LOGIN)).command_status, 0x0f);
  const d = await client(t, smsc);
  assert.equal((await d.call("bind_transmitter", { system_id: "clinic", password: "pw" })).command_status, 0);
  assert.equal((await d.call("bind_receiver", { system_id: "clinic", password: "pw" })).command_status, 0x05);
});

test("answers submit_sm with increasing decimal ids and keeps the package's decoded fields", async (t) => {
  const smsc = await started(t);
  const c = await client(t, smsc);
  await c.call("bind_transmitter", LOGIN);
  const first = await c.call("submit_sm", { source_addr: "1234", destination_addr: "255700000001", short_message: "Hello €" });
  const second = await c.call("submit_sm", { destination_addr: "255700000002", data_coding: 8, short_message: Buffer.from("03a9", "hex") });
  assert.deepEqual([first.command_status, first.message_id, second.message_id], [0, "1", "2"]);
  const submits = smsc.submits();
  assert.deepEqual(
    submits.map((s) => s.messageId),
    ["1", "2"],
  );
  assert.equal(submits[0].pdu.destination_addr, "255700000001");
  assert.equal(submits[0].pdu.source_addr, "1234");
  assert.equal((submits[0].pdu.short_message as { message: string }).message, "Hello €");
  assert.equal(submits[1].pdu.data_coding, 8);
  assert.equal((submits[1].pdu.short_message as { message: string }).message, "Ω");
});

test("with messageIds hex, ids are 8 upper-case hex digits, still increasing", async (t) => {
  const smsc = await started(t, { messageIds: "hex" });
  const c = await client(t, smsc);
  await c.call("bind_transceiver", LOGIN);
  const ids: unknown[] = [];
  for (let i = 0; i < 11; i++) ids.push((await c.call("submit_sm", { destination_addr: "1", short_message: "x" })).message_id);
  assert.deepEqual(ids.slice(-3), ["00000009", "0000000A", "0000000B"]);
  assert.deepEqual(
    smsc.submits().map((s) => s.messageId),
    ids,
  );
});

test("a submit_sm before a bind, or from a receiver, is ESME_RINVBNDSTS and is not kept", async (t) => {
  const smsc = await started(t);
  const c = await client(t, smsc);
  assert.equal((await c.call("submit_sm", { destination_addr: "1", short_message: "x" })).command_status, 0x04);
  await c.call("bind_receiver", LOGIN);
  assert.equal((await c.call("submit_sm", { destination_addr: "1", short_message: "x" })).command_status, 0x04);
  assert.deepEqual(smsc.submits(), []);
});

test("answers enquire_link, answers unbind and then closes the session", async (t) => {
  const smsc = await started(t);
  const c = await client(t, smsc);
  assert.equal((await c.call("enquire_link")).command_status, 0, "before a bind too");
  await c.call("bind_transceiver", LOGIN);
  const link = await c.call("enquire_link");
  assert.deepEqual([link.command, link.command_status], ["enquire_link_resp", 0]);
  const unbound = await c.call("unbind");
  assert.deepEqual([unbound.command, unbound.command_status], ["unbind_resp", 0]);
  await c.closed;
});

test("a command it does not serve is ESME_RINVCMDID", async (t) => {
  const smsc = await started(t);
  const c = await client(t, smsc);
  await c.call("bind_transceiver", LOGIN);
  const answer = await c.send("query_sm", { message_id: "1" });
  assert.deepEqual([answer.command, answer.command_status], ["query_sm_resp", 0x03]);
});

test("with receipts, a submit_sm asking for one gets a text receipt deliver_sm after its answer, back to the sender", async (t) => {
  const smsc = await started(t, { receipts: true });
  const c = await client(t, smsc);
  await c.call("bind_transceiver", LOGIN);
  await c.call("submit_sm", { source_addr: "1234", destination_addr: "255700000001", short_message: "no receipt wanted" });
  const asked = await c.call("submit_sm", {
    source_addr: "1234",
    destination_addr: "255700000001",
    registered_delivery: 1,
    short_message: "Habari ya leo, rafiki yangu",
  });
  const receipt = await c.nextDeliver();
  assert.equal(receipt.esm_class, 0x04);
  assert.deepEqual([receipt.source_addr, receipt.destination_addr], ["255700000001", "1234"]);
  const [, id, text] = RECEIPT.exec(textOf(receipt)) ?? [];
  assert.equal(id, asked.message_id, "the first receipt is the second submit's: the first asked for none");
  assert.equal(text, "Habari ya leo, rafik", "the first 20 characters");
  assert.equal(receipt.receipted_message_id, undefined, "text form only");
});

test("without receipts, no receipt follows a submit_sm that asks for one", async (t) => {
  const smsc = await started(t);
  const c = await client(t, smsc);
  await c.call("bind_transceiver", LOGIN);
  await c.call("submit_sm", { destination_addr: "1", registered_delivery: 1, short_message: "x" });
  assert.equal(await smsc.deliver({ source_addr: "255700000001", destination_addr: "1234", data_coding: 0, short_message: "a reply" }), 0);
  assert.equal(textOf(await c.nextDeliver()), "a reply", "the first deliver_sm is the reply, not a receipt");
});

test("a transmitter's receipt goes to a receiver, held until one binds", async (t) => {
  const smsc = await started(t, { receipts: true });
  const transmitter = await client(t, smsc);
  await transmitter.call("bind_transmitter", LOGIN);
  const asked = await transmitter.call("submit_sm", { destination_addr: "1", registered_delivery: 1, short_message: "x" });
  const receiver = await client(t, smsc);
  await receiver.call("bind_receiver", LOGIN);
  assert.equal(RECEIPT.exec(textOf(await receiver.nextDeliver()))?.[1], asked.message_id);
});

test("deliver sends a deliver_sm to the bound receiver and resolves with its deliver_sm_resp status", async (t) => {
  const smsc = await started(t);
  const c = await client(t, smsc);
  await c.call("bind_receiver", LOGIN);
  assert.equal(await smsc.deliver({ source_addr: "255700000001", destination_addr: "1234", data_coding: 0, short_message: "Habari €" }), 0);
  const delivered = await c.nextDeliver();
  assert.deepEqual([delivered.source_addr, delivered.destination_addr, delivered.data_coding, textOf(delivered)], ["255700000001", "1234", 0, "Habari €"]);
  c.state.deliverStatus = 0x08;
  assert.equal(await smsc.deliver({ source_addr: "1", destination_addr: "2", data_coding: 8, short_message: Buffer.from("03a9", "hex") }), 0x08);
  assert.equal(textOf(await c.nextDeliver()), "Ω");
});

test("deliver rejects when no receiver-capable session is bound", async (t) => {
  const smsc = await started(t);
  await assert.rejects(smsc.deliver({ short_message: "x" }), /no receiver or transceiver is bound/);
  const c = await client(t, smsc);
  await c.call("bind_transmitter", LOGIN);
  await assert.rejects(smsc.deliver({ short_message: "x" }), /no receiver or transceiver is bound/);
});

test("deliver rejects when the session closes before answering", async (t) => {
  const smsc = await started(t);
  const c = await client(t, smsc);
  c.state.deliverStatus = undefined;
  await c.call("bind_transceiver", LOGIN);
  const answer = smsc.deliver({ short_message: "x" });
  await c.nextDeliver();
  c.session.destroy();
  await assert.rejects(answer, /closed before its deliver_sm_resp/);
});

test("stop closes the bound sessions and the port", async () => {
  const smsc = await startNpmSmsc();
  const session: SmppSession = smppPackage.connect({ host: "127.0.0.1", port: smsc.port });
  session.on("error", () => {});
  await new Promise<void>((resolve) => session.once("connect", resolve));
  const closed = new Promise<void>((resolve) => session.once("close", resolve));
  await smsc.stop();
  await closed;
  const refused = smppPackage.connect({ host: "127.0.0.1", port: smsc.port });
  const error = await new Promise<Error>((resolve) => refused.on("error", resolve));
  assert.match(error.message, /ECONNREFUSED/);
});
