import assert from "node:assert/strict";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { waitFor } from "../../../test/support/wait-for.ts";
import { createTestRouter } from "../../testing/harness.ts";
import { SmppBackend } from "./index.ts";
import type { SmppOptions } from "./options.ts";
import { decodePdu, encodePdu, type Pdu, PduFramer, shortMessageBody } from "./pdu.ts";

// SMSCs that misbehave on purpose, as no real one does on demand: a raw TCP peer that answers
// (or does not) as each test says. What is checked is the backend's behaviour, not the codec.

type Send = (pdu: Omit<Pdu, "status"> & { status?: number }) => void;
type Peer = (pdu: Pdu, send: Send, socket: Socket, connection: number) => void;

async function rawSmsc(peer: Peer): Promise<{ port: number; connections: () => number; received: Pdu[]; close(): void }> {
  let connections = 0;
  const received: Pdu[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const framer = new PduFramer();
    const send: Send = (pdu) => {
      if (!socket.destroyed) socket.write(encodePdu({ status: 0, ...pdu } as Pdu));
    };
    socket.on("data", (chunk) => {
      for (const frame of framer.push(chunk)) {
        const pdu = decodePdu(frame);
        received.push(pdu);
        peer(pdu, send, socket, connection);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    received,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

const bindOk = (pdu: Pdu, send: Send) => send({ command: "bind_transceiver_resp", sequence: pdu.sequence, body: { systemId: "HOSTILE" } });

async function backendOn(port: number, options: Partial<SmppOptions> = {}, maxAttempts = 10) {
  const t = await createTestRouter({
    pipeline: { maxAttempts },
    backends: {
      smsc: {
        engine: SmppBackend,
        options: {
          host: "127.0.0.1",
          port,
          systemId: "rapidsms",
          password: "secret",
          responseTimeoutMs: 300,
          reconnectMs: 50,
          maxReconnectMs: 400,
          ...options,
        },
      },
    },
  });
  return { t, backend: t.backends.get("smsc") as SmppBackend };
}

describe("smpp backend against hostile SMSCs", () => {
  it("a bind answered by a response of another command is no bind and no crash: it times out and binds again", async () => {
    const smsc = await rawSmsc((pdu, send, _socket, connection) => {
      if (pdu.command !== "bind_transceiver") return;
      if (connection === 1) send({ command: "enquire_link_resp", sequence: pdu.sequence, body: null });
      else if (connection === 2) send({ command: "generic_nack", sequence: pdu.sequence, body: null });
      else bindOk(pdu, send);
    });
    const { t, backend } = await backendOn(smsc.port);
    try {
      await waitFor("bound on the third connection", () => backend.health().status === "ok");
      assert.equal(smsc.connections(), 3, "neither the wrong response nor a generic_nack with status 0 counted as bound");
    } finally {
      await t.close();
      smsc.close();
    }
  });

  it("more deliver_sm at once than it handles are answered ESME_RTHROTTLED, the others stored", async () => {
    const answers: number[] = [];
    const smsc = await rawSmsc((pdu, send, socket) => {
      if (pdu.command === "bind_transceiver") {
        bindOk(pdu, send);
        // 100 MO in one write: all of them arrive before any is stored.
        const burst = Array.from({ length: 100 }, (_, i) =>
          encodePdu({
            command: "deliver_sm",
            status: 0,
            sequence: 1_000 + i,
            body: shortMessageBody({
              sourceAddrTon: 1,
              sourceAddrNpi: 1,
              sourceAddr: `25570000${String(i).padStart(4, "0")}`,
              destinationAddr: "15555",
              shortMessage: Buffer.from(`mo ${i}`),
            }),
          }),
        );
        setTimeout(() => socket.write(Buffer.concat(burst)), 50);
      } else if (pdu.command === "deliver_sm_resp") answers.push(pdu.status);
    });
    const { t, backend } = await backendOn(smsc.port);
    try {
      await waitFor("every deliver_sm answered", () => answers.length === 100);
      const throttled = answers.filter((s) => s === 0x58).length;
      assert.equal(answers.filter((s) => s === 0).length + throttled, 100);
      assert.equal(throttled, 100 - 64, "64 handled at once, the rest asked to come again");
      assert.equal(backend.health().counts.inboundThrottled, throttled);
      assert.equal((await t.store.listMessages({ direction: "I", limit: 200 })).length, 64);
    } finally {
      await t.close();
      smsc.close();
    }
  });

  it("submit_sm that are never answered: sent three times at most, then failed as unconfirmed; the silent bind is started afresh", async () => {
    const smsc = await rawSmsc((pdu, send) => {
      if (pdu.command === "bind_transceiver") bindOk(pdu, send);
    });
    const { t, backend } = await backendOn(smsc.port, {}, 1);
    try {
      await waitFor("bound", () => backend.health().status === "ok");
      const [connection] = await t.connections(["+255700000001"], "smsc");
      const msg = await t.router.send("hello", connection);
      const record = await waitFor("E", async () => {
        const m = await t.store.getMessage(msg.id);
        return m?.status === "E" ? m : undefined;
      });
      assert.match(record.transmissions[0].error ?? "", /the SMSC may or may not have taken the submit_sm: it went 3 times without an answer/);
      assert.equal(smsc.received.filter((p) => p.command === "submit_sm").length, 3);
      assert.equal(backend.health().counts.resentUnconfirmed, 2);
      assert.equal(backend.health().counts.abandoned, 1);
      await waitFor("a fresh bind after 3 silent submits", () => smsc.connections() >= 2);
    } finally {
      await t.close();
      smsc.close();
    }
  });

  it("a PDU trickled in and never finished: enquire_link finds the link dead", async () => {
    const smsc = await rawSmsc((pdu, send, socket, connection) => {
      if (pdu.command !== "bind_transceiver") return;
      bindOk(pdu, send);
      if (connection > 1) return;
      const header = Buffer.alloc(4);
      header.writeUInt32BE(60_000);
      socket.write(header);
      const trickle = setInterval(() => (socket.destroyed ? clearInterval(trickle) : socket.write(Buffer.of(0))), 50);
    });
    const { t, backend } = await backendOn(smsc.port, { enquireLinkMs: 200 });
    try {
      await waitFor("a second bind", () => smsc.connections() >= 2);
      await waitFor("bound again", () => backend.health().status === "ok");
    } finally {
      await t.close();
      smsc.close();
    }
  });

  it("a bind the SMSC drops as soon as it is made comes back ever more slowly, not every few ms", async () => {
    const smsc = await rawSmsc((pdu, send, socket) => {
      if (pdu.command !== "bind_transceiver") return;
      bindOk(pdu, send);
      setTimeout(() => socket.destroy(), 5);
    });
    const { t } = await backendOn(smsc.port, { reconnectMs: 20, maxReconnectMs: 5_000 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // 20, 40, 80, 160, 320, 640 ms (half of each random): at most about 8 in 1.5 s; without the backoff, dozens.
      assert.ok(smsc.connections() <= 9, `${smsc.connections()} binds in 1.5 s`);
    } finally {
      await t.close();
      smsc.close();
    }
  });

  it("closing waits for the answers to the submits in the window before it unbinds", async () => {
    const smsc = await rawSmsc((pdu, send) => {
      if (pdu.command === "bind_transceiver") bindOk(pdu, send);
      else if (pdu.command === "submit_sm")
        setTimeout(() => send({ command: "submit_sm_resp", sequence: pdu.sequence, body: { messageId: `id${pdu.sequence}` } }), 200);
      else if (pdu.command === "unbind") send({ command: "unbind_resp", sequence: pdu.sequence, body: null });
    });
    const { t, backend } = await backendOn(smsc.port, { responseTimeoutMs: 2_000 });
    try {
      await waitFor("bound", () => backend.health().status === "ok");
      const sending = backend.send({ id: "m1", text: "hi", identities: ["+255700000001", "+255700000002"], context: {} });
      await waitFor("both submits in the window", () => smsc.received.filter((p) => p.command === "submit_sm").length === 2);
      await backend.close();
      const result = await sending;
      assert.deepEqual(Object.keys(result.externalIds ?? {}).sort(), ["+255700000001", "+255700000002"]);
      const order = smsc.received.map((p) => p.command);
      assert.equal(order.at(-1), "unbind", "the unbind came after both answers were in");
    } finally {
      await t.close();
      smsc.close();
    }
  });
});
