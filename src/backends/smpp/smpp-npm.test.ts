import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type NpmSmsc, startNpmSmsc } from "../../../test/support/smpp-npm-smsc.ts";
import { waitFor } from "../../../test/support/wait-for.ts";
import { EchoApp } from "../../apps/echo.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import { SmppBackend } from "./index.ts";
import type { SmppOptions } from "./options.ts";

// The `smpp` npm package's server: an SMSC nobody here wrote, speaking to our own codec and session.

async function routerOn(smsc: NpmSmsc, options: Partial<SmppOptions> = {}): Promise<{ t: TestRouter; backend: SmppBackend }> {
  const t = await createTestRouter({
    apps: [EchoApp],
    backends: {
      smsc: {
        engine: SmppBackend,
        options: { host: "127.0.0.1", port: smsc.port, systemId: "rapidsms", password: "secret", sourceAddr: "CLINIC", ...options },
      },
    },
  });
  const backend = t.backends.get("smsc") as SmppBackend;
  await waitFor("the bind", () => backend.health().status === "ok");
  return { t, backend };
}

describe("smpp backend against the smpp package's SMSC", () => {
  let smsc: NpmSmsc;
  let t: TestRouter;
  let backend: SmppBackend;
  before(async () => {
    smsc = await startNpmSmsc({ receipts: true, messageIds: "hex" });
    ({ t, backend } = await routerOn(smsc));
  });
  after(async () => {
    await t.close();
    await smsc.stop();
  });

  it("binds as a transceiver with the configured credentials", () => {
    assert.deepEqual(smsc.binds(), [{ command: "bind_transceiver", systemId: "rapidsms", status: 0 }]);
    assert.deepEqual(
      backend.health().connections.map((c) => [c.name, c.state]),
      [["transceiver 1", "bound"]],
    );
  });

  it("sends a submit_sm per recipient, the + dropped, and records the SMSC's id; its receipt makes it D", async () => {
    const [connection] = await t.connections(["+255700000001"], "smsc");
    const msg = await t.router.send("hello clinic", connection);
    const record = await waitFor("the receipt", async () => {
      const r = await t.store.getMessage(msg.id);
      return r?.status === "D" ? r : undefined;
    });
    const submit = smsc.submits().find((s) => s.pdu.destination_addr === "255700000001");
    assert.ok(submit, "the SMSC got the submit_sm");
    assert.equal(submit.pdu.source_addr, "CLINIC");
    assert.equal(submit.pdu.source_addr_ton, 5);
    assert.equal(submit.pdu.dest_addr_ton, 1);
    assert.equal(submit.pdu.registered_delivery, 1);
    assert.equal((submit.pdu.short_message as { message: string }).message, "hello clinic");
    assert.equal(record.transmissions[0].externalId, submit.messageId, "the id as the SMSC wrote it (auto)");
  });

  it("receives an MO deliver_sm, answers it once stored, and the echo goes back as a submit_sm", async () => {
    const before = smsc.submits().length;
    const status = await smsc.deliver({
      source_addr: "255700000002",
      source_addr_ton: 1,
      destination_addr: "15555",
      data_coding: 0,
      short_message: "echo hi there",
    });
    assert.equal(status, 0);
    const [stored] = await t.store.listMessages({ direction: "I", limit: 1 });
    assert.equal(stored.text, "echo hi there");
    assert.equal(stored.fields.to, "15555");
    const reply = await waitFor("the echo", () =>
      smsc
        .submits()
        .slice(before)
        .find((s) => s.pdu.destination_addr === "255700000002"),
    );
    assert.equal((reply.pdu.short_message as { message: string }).message, "hi there");
  });

  it("sends a long text as UDH parts with one reference, and is D once every part's receipt came", async () => {
    const [connection] = await t.connections(["+255700000003"], "smsc");
    const text = "a".repeat(300);
    const msg = await t.router.send(text, connection);
    const record = await waitFor("every part's receipt", async () => {
      const r = await t.store.getMessage(msg.id);
      return r?.status === "D" ? r : undefined;
    });
    const parts = smsc.submits().filter((s) => s.pdu.destination_addr === "255700000003");
    assert.equal(parts.length, 2);
    assert.equal(record.transmissions[0].segments, 2);
    const udhs = parts.map((p) => (p.pdu.short_message as { udh: Buffer[] }).udh[0]);
    assert.equal(udhs[0][2], udhs[1][2], "one reference");
    assert.deepEqual(
      udhs.map((u) => [u[3], u[4]]),
      [
        [2, 1],
        [2, 2],
      ],
    );
  });
});

describe("smpp backend: binds the SMSC refuses", () => {
  it("a wrong password is one clear error naming the option, and no reconnect storm", async () => {
    const smsc = await startNpmSmsc();
    const { t, backend } = await (async () => {
      const t = await createTestRouter({
        backends: {
          smsc: {
            engine: SmppBackend,
            options: { host: "127.0.0.1", port: smsc.port, systemId: "rapidsms", password: "wrong", reconnectMs: 20, maxReconnectMs: 40 },
          },
        },
      });
      return { t, backend: t.backends.get("smsc") as SmppBackend };
    })();
    try {
      const health = await waitFor("the refusal", () => (backend.health().connections[0].state === "refused" ? backend.health() : undefined));
      assert.equal(health.status, "down");
      assert.match(health.problems?.[0] ?? "", /refused the password for system_id "rapidsms": fix the backend's password option \(ESME_RINVPASWD \(0x0e\)\)/);
      // With a 20 ms reconnect, a storm would bind dozens of times in this wait.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(smsc.binds().length, 1);
      assert.doesNotMatch(JSON.stringify(health), /wrong/, "the password itself is shown nowhere");
    } finally {
      await t.close();
      await smsc.stop();
    }
  });

  it("transmitter-receiver mode binds transmitters and one receiver, and MO comes through the receiver", async () => {
    const smsc = await startNpmSmsc();
    const { t, backend } = await routerOn(smsc, { bindMode: "transmitter-receiver", binds: 2 });
    try {
      assert.deepEqual(
        smsc
          .binds()
          .map((b) => b.command)
          .sort(),
        ["bind_receiver", "bind_transmitter", "bind_transmitter"],
      );
      assert.deepEqual(
        backend.health().connections.map((c) => c.name),
        ["transmitter 1", "transmitter 2", "receiver 1"],
      );
      assert.equal(await smsc.deliver({ source_addr: "255700000009", destination_addr: "15555", data_coding: 0, short_message: "hello" }), 0);
      const [stored] = await t.store.listMessages({ direction: "I", limit: 1 });
      assert.equal(stored.text, "hello");
    } finally {
      await t.close();
      await smsc.stop();
    }
  });
});
