import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, connect } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { unlessInCi } from "../../../test/support/components.ts";
import { waitFor } from "../../../test/support/wait-for.ts";
import { type NetSmppSmsc, netSmppMissing, startNetSmppSmsc } from "../../../test/support/smpp-smsc.ts";
import { EchoApp } from "../../apps/echo.ts";
import type { PipelineSettings } from "../../pipeline/policy.ts";
import { openSqliteStore } from "../../store/sqlite.ts";
import type { Store } from "../../store/store.ts";
import { createTestRouter, type TestRouter } from "../../testing/harness.ts";
import { SmppBackend } from "./index.ts";
import type { SmppOptions } from "./options.ts";
import { TAGS } from "./pdu.ts";

// Against the SMSC on Debian's Net::SMPP (test/support/smpp/net-smpp-smsc.pl): binds, windows,
// throttling, dropped connections, receipts in every form SMSCs send them, MO in parts.
const skip = unlessInCi(netSmppMissing());

interface Rig {
  t: TestRouter;
  backend: SmppBackend;
  /** Sends `text` to each identity (one message each), resolves with the message ids. */
  send(identities: readonly string[], text?: string): Promise<string[]>;
  /** Waits until every message is S, D or E, and returns their transmissions. */
  settled(ids: readonly string[], timeoutMs?: number): Promise<{ status: string; attempts: number; error: string | null; externalId: string | null }[]>;
}

async function rig(smsc: NetSmppSmsc, options: Partial<SmppOptions> = {}, extra: { store?: Store; pipeline?: PipelineSettings } = {}): Promise<Rig> {
  const t = await createTestRouter({
    apps: [EchoApp],
    store: extra.store,
    pipeline: { baseDelayMs: 100, maxDelayMs: 500, ...extra.pipeline },
    backends: {
      smsc: {
        engine: SmppBackend,
        options: {
          host: "127.0.0.1",
          port: smsc.port,
          systemId: "rapidsms",
          password: "secret",
          sourceAddr: "CLINIC",
          reconnectMs: 50,
          maxReconnectMs: 200,
          ...options,
        },
      },
    },
  });
  const backend = t.backends.get("smsc") as SmppBackend;
  await waitFor("the binds", () => backend.health().status === "ok");
  return {
    t,
    backend,
    async send(identities, text = "hello") {
      const connections = await t.connections(identities, "smsc");
      const ids: string[] = [];
      for (const connection of connections) ids.push((await t.router.send(text, connection)).id);
      return ids;
    },
    async settled(ids, timeoutMs = 30_000) {
      return waitFor(
        "every message to settle",
        async () => {
          const records = await Promise.all(ids.map((id) => t.store.getMessage(id)));
          const transmissions = records.flatMap((r) => r?.transmissions ?? []);
          return transmissions.length === ids.length && transmissions.every((x) => ["S", "D", "E"].includes(x.status)) ? transmissions : undefined;
        },
        timeoutMs,
      );
    },
  };
}

const opensslMissing = () => (spawnSync("openssl", ["version"]).status === 0 ? false : "openssl is not installed (it makes the TLS front's certificate)");

/** A TLS server on loopback that hands each connection on to the SMSC: a certificate for localhost, self-signed. */
async function tlsFront(smscPort: number, dir: string): Promise<{ port: number; cert: string; close(): void }> {
  const key = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  const made = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  assert.equal(made.status, 0, "openssl made the certificate");
  const cert = readFileSync(certFile, "utf8");
  const server = createTlsServer({ key: readFileSync(key), cert }, (socket) => {
    const upstream = connect({ host: "127.0.0.1", port: smscPort });
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, cert, close: () => server.close() };
}

const numbers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `+2557${String(from + i).padStart(8, "0")}`);

describe("smpp backend against Net::SMPP", { skip }, () => {
  let smsc: NetSmppSmsc;
  let dir: string;
  before(async () => {
    smsc = await startNetSmppSmsc();
    dir = mkdtempSync(join(tmpdir(), "rapidsms-smpp-tls-"));
  });
  after(async () => {
    await smsc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends with the configured addresses and gets D from the TLV receipt of the hex id", async () => {
    const r = await rig(smsc, { sourceAddr: "15555", destAddrTon: 1, destAddrNpi: 1 });
    try {
      const [id] = await r.send(["+255700000001"], "hello clinic");
      await waitFor("D", async () => (await r.t.store.getMessage(id))?.status === "D");
      const submit = (await smsc.submits()).find((s) => s.destinationAddr === "255700000001");
      assert.ok(submit);
      assert.deepEqual([submit.sourceAddr, submit.sourceAddrTon, submit.sourceAddrNpi], ["15555", 0, 1]);
      assert.deepEqual([submit.destAddrTon, submit.destAddrNpi, submit.registeredDelivery, submit.dataCoding], [1, 1, 1, 0]);
      assert.equal(submit.shortMessage.toString("latin1"), "hello clinic");
      const record = await r.t.store.getMessage(id);
      assert.equal(record?.transmissions[0].externalId, submit.messageId);
    } finally {
      await r.t.close();
    }
  });

  it("a receipt that overtakes its submit_sm_resp is kept and matched once the answer is recorded", async () => {
    await smsc.configure({ receipts: { when: "before" } });
    const r = await rig(smsc);
    try {
      const ids = await r.send(numbers(20, 100));
      await waitFor("all D", async () => (await Promise.all(ids.map((id) => r.t.store.getMessage(id)))).every((m) => m?.status === "D"));
    } finally {
      await r.t.close();
      await smsc.configure({ receipts: { when: "after" } });
    }
  });

  it("messageIdFormat hex: text-only receipts with the decimal id match the hex submit_sm_resp", async () => {
    await smsc.configure({ receipts: { form: "text", idBase: "decimal" } });
    const r = await rig(smsc, { messageIdFormat: "hex" });
    try {
      const ids = await r.send(numbers(5, 200));
      await waitFor("all D", async () => (await Promise.all(ids.map((id) => r.t.store.getMessage(id)))).every((m) => m?.status === "D"));
      const record = await r.t.store.getMessage(ids[0]);
      const submit = (await smsc.submits()).find((s) => s.destinationAddr === numbers(1, 200)[0].slice(1));
      assert.equal(record?.transmissions[0].externalId, BigInt(`0x${submit?.messageId}`).toString(16), "recorded in one spelling");
    } finally {
      await r.t.close();
      await smsc.configure({ receipts: { form: "tlv", idBase: "same" } });
    }
  });

  it("an UNDELIV receipt makes the transmission E with the SMSC's state", async () => {
    await smsc.configure({ receipts: { stat: "UNDELIV" } });
    const r = await rig(smsc);
    try {
      const [id] = await r.send(["+255700000300"]);
      const record = await waitFor("E", async () => {
        const m = await r.t.store.getMessage(id);
        return m?.status === "E" ? m : undefined;
      });
      assert.match(record.transmissions[0].error ?? "", /UNDELIV/);
    } finally {
      await r.t.close();
      await smsc.configure({ receipts: { stat: "DELIVRD" } });
    }
  });

  it("a long message whose SMSC sends only the last part's receipt is D with that one", async () => {
    await smsc.configure({ receipts: { onlyLastPart: true } });
    const r = await rig(smsc, { longMessages: "sar" });
    try {
      const [id] = await r.send(["+255700000400"], "b".repeat(400));
      await waitFor("D", async () => (await r.t.store.getMessage(id))?.status === "D");
      const parts = (await smsc.submits()).filter((s) => s.destinationAddr === "255700000400");
      assert.equal(parts.length, 3);
      assert.deepEqual(
        parts.map((p) => [p.tlvs[TAGS.sar_total_segments]?.[0], p.tlvs[TAGS.sar_segment_seqnum]?.[0]]),
        [
          [3, 1],
          [3, 2],
          [3, 3],
        ],
      );
    } finally {
      await r.t.close();
      await smsc.configure({ receipts: { onlyLastPart: false } });
    }
  });

  it("keeps no more than `window` submits outstanding on a bind, and fills it", async () => {
    await smsc.slow(150);
    const r = await rig(smsc, { window: 4 });
    try {
      const ids = await r.send(numbers(24, 500));
      const transmissions = await r.settled(ids);
      assert.ok(transmissions.every((x) => x.status === "S" || x.status === "D"));
      const connection = (await smsc.binds()).at(-1)!.connection;
      assert.equal(await smsc.maxOutstanding(connection), 4);
    } finally {
      await smsc.slow(0);
      await r.t.close();
    }
  });

  it("waits out 2 s of ESME_RTHROTTLED without a failed attempt, then sends everything", async () => {
    const r = await rig(smsc, { throttleMs: 100, maxThrottleMs: 400 });
    try {
      await smsc.throttle(2_000);
      const ids = await r.send(numbers(30, 600));
      const transmissions = await r.settled(ids);
      assert.deepEqual(new Set(transmissions.map((x) => x.status === "E")), new Set([false]));
      assert.ok(
        transmissions.every((x) => x.attempts === 1),
        "a throttle is not a failed attempt",
      );
      assert.ok(r.backend.health().counts.throttled > 0);
    } finally {
      await r.t.close();
    }
  });

  it("ESME_RMSGQFUL is waited out the same way", async () => {
    const r = await rig(smsc, { throttleMs: 100, maxThrottleMs: 400 });
    try {
      await smsc.throttle(800, 0x14);
      const transmissions = await r.settled(await r.send(numbers(5, 700)));
      assert.ok(transmissions.every((x) => x.status !== "E" && x.attempts === 1));
    } finally {
      await r.t.close();
    }
  });

  it("a connection dropped with 10 submits in the window: each is sent again on the next bind, counted, none lost", async () => {
    await smsc.slow(300);
    const r = await rig(smsc, { window: 10 });
    try {
      const before = (await smsc.submits()).length;
      await smsc.dropAfter(10);
      const ids = await r.send(numbers(40, 800));
      const transmissions = await r.settled(ids);
      assert.ok(
        transmissions.every((x) => x.status === "S" || x.status === "D"),
        JSON.stringify(transmissions.filter((x) => x.status === "E")),
      );
      const submits = (await smsc.submits()).slice(before);
      const perDestination = new Map<string, number>();
      for (const s of submits) perDestination.set(s.destinationAddr, (perDestination.get(s.destinationAddr) ?? 0) + 1);
      const twice = [...perDestination.values()].filter((n) => n > 1).length;
      const { resentUnconfirmed } = r.backend.health().counts;
      assert.equal(resentUnconfirmed, 10, "the window's 10 had no answer and went again");
      assert.equal(twice, resentUnconfirmed, "only the unconfirmed ones reached the SMSC twice");
      assert.ok(r.backend.health().connections.every((c) => c.state === "bound"));
    } finally {
      await smsc.slow(0);
      await r.t.close();
    }
  });

  it("an SMSC that goes silent is found dead by enquire_link, and the bind comes back", async () => {
    const r = await rig(smsc, { enquireLinkMs: 200, responseTimeoutMs: 300 });
    try {
      const binds = (await smsc.binds()).length;
      await smsc.silent(1_000);
      await waitFor("a new bind", async () => (await smsc.binds()).length > binds);
      await waitFor("bound again", () => r.backend.health().status === "ok");
      const transmissions = await r.settled(await r.send(numbers(3, 900)));
      assert.ok(transmissions.every((x) => x.status !== "E"));
    } finally {
      await r.t.close();
    }
  });

  it("answers the SMSC's enquire_link and unbind, and binds again after an unbind", async () => {
    const r = await rig(smsc);
    try {
      const binds = (await smsc.binds()).length;
      await smsc.enquireLink();
      await waitFor("enquire_link_resp", async () => (await smsc.pdus()).some((p) => p.direction === "in" && p.command === "enquire_link_resp"));
      await smsc.unbindAll();
      await waitFor("unbind_resp", async () => (await smsc.pdus()).some((p) => p.direction === "in" && p.command === "unbind_resp"));
      await waitFor("a new bind", async () => (await smsc.binds()).length > binds);
    } finally {
      await r.t.close();
    }
  });

  it("unbinds on shutdown", async () => {
    const r = await rig(smsc);
    const before = (await smsc.pdus()).filter((p) => p.direction === "in" && p.command === "unbind").length;
    await r.t.close();
    await waitFor("the unbind", async () => (await smsc.pdus()).filter((p) => p.direction === "in" && p.command === "unbind").length > before);
  });

  it("a generic_nack for a submit_sm is a failure that names it, not a hang", async () => {
    const r = await rig(smsc);
    try {
      await smsc.nackNext();
      const [transmission] = await r.settled(await r.send(["+255700000950"]));
      assert.equal(transmission.status, "E");
      assert.match(transmission.error ?? "", /ESME_RINVCMDID/);
    } finally {
      await r.t.close();
    }
  });

  it("ESME_RINVDSTADR fails the recipient for good; ESME_RSYSERR is retried and then sent", async () => {
    const r = await rig(smsc);
    try {
      await smsc.throttle(60_000, 0x0b);
      const [refused] = await r.settled(await r.send(["+255700000960"]));
      assert.deepEqual([refused.status, refused.attempts], ["E", 1]);
      assert.match(refused.error ?? "", /submit_sm_resp ESME_RINVDSTADR \(0x0b\)/);
      await smsc.throttle(300, 0x08);
      const [retried] = await r.settled(await r.send(["+255700000961"]));
      assert.equal(retried.status === "S" || retried.status === "D", true, retried.error ?? "");
      assert.ok(retried.attempts > 1, "a system error is a failed attempt, tried again");
    } finally {
      await smsc.throttle(0);
      await r.t.close();
    }
  });

  it("binds over TLS to an SMSC behind a TLS front, and names the certificate problem when the CA is not the SMSC's", {
    skip: unlessInCi(opensslMissing()),
  }, async () => {
    const front = await tlsFront(smsc.port, dir);
    try {
      const r = await rig(smsc, { port: front.port, host: "127.0.0.1", tls: { ca: front.cert, servername: "localhost", rejectUnauthorized: true } });
      try {
        const [sent] = await r.settled(await r.send(["+255700000970"]));
        assert.notEqual(sent.status, "E");
      } finally {
        await r.t.close();
      }
      const t = await createTestRouter({
        backends: {
          smsc: { engine: SmppBackend, options: { host: "127.0.0.1", port: front.port, systemId: "rapidsms", password: "secret", tls: true, reconnectMs: 50 } },
        },
      });
      try {
        const backend = t.backends.get("smsc") as SmppBackend;
        const problems = await waitFor("the certificate problem", () => backend.health().problems?.join());
        assert.match(problems, /certificate/i);
      } finally {
        await t.close();
      }
    } finally {
      front.close();
    }
  });

  it("a wrong password: one refused bind, the option named, no reconnect storm", async () => {
    const t = await createTestRouter({
      backends: {
        smsc: {
          engine: SmppBackend,
          options: { host: "127.0.0.1", port: smsc.port, systemId: "rapidsms", password: "nope", reconnectMs: 10, maxReconnectMs: 20 },
        },
      },
    });
    try {
      const backend = t.backends.get("smsc") as SmppBackend;
      const before = (await smsc.binds()).length;
      await waitFor("refused", () => backend.health().connections[0].state === "refused");
      await new Promise((resolve) => setTimeout(resolve, 500));
      const attempts = (await smsc.binds()).slice(before);
      assert.deepEqual(
        attempts.map((b) => b.status),
        [0x0e],
      );
      assert.match(backend.health().problems?.join() ?? "", /fix the backend's password option/);
    } finally {
      await t.close();
    }
  });

  it("an unknown system_id is refused naming systemId", async () => {
    const t = await createTestRouter({
      backends: { smsc: { engine: SmppBackend, options: { host: "127.0.0.1", port: smsc.port, systemId: "nobody", password: "secret" } } },
    });
    try {
      const backend = t.backends.get("smsc") as SmppBackend;
      await waitFor("refused", () => backend.health().connections[0].state === "refused");
      assert.match(backend.health().problems?.join() ?? "", /does not know system_id "nobody": fix the backend's systemId option/);
    } finally {
      await t.close();
    }
  });
});

describe("smpp backend: MO from Net::SMPP", { skip }, () => {
  let smsc: NetSmppSmsc;
  let dir: string;
  before(async () => {
    smsc = await startNetSmppSmsc();
    dir = mkdtempSync(join(tmpdir(), "rapidsms-smpp-"));
  });
  after(async () => {
    await smsc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const inbound = async (t: TestRouter) => (await t.store.listMessages({ direction: "I", limit: 100 })).map((m) => m.text);

  it("answers deliver_sm once stored, decodes UCS-2, and the echo goes back to the sender", async () => {
    const r = await rig(smsc);
    try {
      const text = "echo Привет";
      const ucs2 = Buffer.from(text, "utf16le").swap16();
      assert.deepEqual(await smsc.deliver({ source: "255700001001", destination: "15555", dataCoding: 8, shortMessage: ucs2 }), { status: 0 });
      assert.deepEqual(await inbound(r.t), [text]);
      const [stored] = await r.t.store.listMessages({ direction: "I", limit: 1 });
      assert.equal(stored.fields.to, "15555");
      const echo = await waitFor("the echo", async () => (await smsc.submits()).find((s) => s.destinationAddr === "255700001001"));
      assert.equal(echo.dataCoding, 8);
      assert.equal(echo.shortMessage.swap16().toString("utf16le"), "Привет");
    } finally {
      await r.t.close();
    }
  });

  it("reassembles UDH parts that come out of order into one message", async () => {
    const r = await rig(smsc);
    try {
      const udh = (n: number) => Buffer.from([5, 0, 3, 0x42, 2, n]);
      const part2 = Buffer.concat([udh(2), Buffer.from(" second half")]);
      const part1 = Buffer.concat([udh(1), Buffer.from("first half,")]);
      assert.deepEqual(await smsc.deliver({ source: "255700001002", destination: "15555", esmClass: 0x40, shortMessage: part2 }), { status: 0 });
      assert.deepEqual(await inbound(r.t), [], "no message until it is whole");
      assert.deepEqual(await smsc.deliver({ source: "255700001002", destination: "15555", esmClass: 0x40, shortMessage: part1 }), { status: 0 });
      assert.deepEqual(await inbound(r.t), ["first half, second half"]);
    } finally {
      await r.t.close();
    }
  });

  it("reassembles SAR parts, and a restart between them loses nothing", async () => {
    const file = join(dir, "sar.db");
    const sar = (n: number) => ({
      [TAGS.sar_msg_ref_num]: Buffer.from([0x01, 0x02]),
      [TAGS.sar_total_segments]: Buffer.from([2]),
      [TAGS.sar_segment_seqnum]: Buffer.from([n]),
    });
    const first = await rig(smsc, {}, { store: openSqliteStore(file) });
    assert.deepEqual(await smsc.deliver({ source: "255700001003", destination: "15555", shortMessage: Buffer.from("kept across "), tlvs: sar(1) }), {
      status: 0,
    });
    await first.t.close();
    const second = await rig(smsc, {}, { store: openSqliteStore(file) });
    try {
      assert.deepEqual(await smsc.deliver({ source: "255700001003", destination: "15555", shortMessage: Buffer.from("a restart"), tlvs: sar(2) }), {
        status: 0,
      });
      assert.deepEqual(await inbound(second.t), ["kept across a restart"]);
    } finally {
      await second.t.close();
    }
  });

  it("a message no store can take is refused for good (ESME_RX_P_APPN), not nacked to be sent again", async () => {
    const r = await rig(smsc);
    try {
      const nul = Buffer.from("bad\u0000text", "latin1");
      assert.deepEqual(await smsc.deliver({ source: "255700001004", destination: "15555", dataCoding: 3, shortMessage: nul }), { status: 0x65 });
      assert.deepEqual(await inbound(r.t), []);
    } finally {
      await r.t.close();
    }
  });
});
