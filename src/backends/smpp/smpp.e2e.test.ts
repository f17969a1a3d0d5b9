import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { unlessInCi } from "../../../test/support/components.ts";
import { docJsonBlocks } from "../../../test/support/doc-config.ts";
import { type GatewayE2E, startGatewayE2E } from "../../../test/support/gateway-e2e.ts";
import { type NetSmppSmsc, netSmppMissing, startNetSmppSmsc } from "../../../test/support/smpp-smsc.ts";
import { TAGS } from "./pdu.ts";

// `rapidsms start` with docs/gateways/smpp.md's config, bound to the Net::SMPP SMSC with the
// guide's credentials: MO → echo → submit_sm → receipt → D, bind state in /healthz, and a
// kill -9 between the parts of a long message.
const skip = unlessInCi(netSmppMissing());
const guide = docJsonBlocks(new URL("../../../docs/gateways/smpp.md", import.meta.url))[0] as {
  installedBackends: { operator: Record<string, unknown> };
  pipeline: Record<string, unknown>;
};
const { systemId, password } = guide.installedBackends.operator as { systemId: string; password: string };

let smsc: NetSmppSmsc;
let e2e: GatewayE2E;
before(async () => {
  if (skip) return;
  smsc = await startNetSmppSmsc({ accounts: [{ systemId, password }] });
  e2e = await startGatewayE2E({
    backends: () => ({ operator: { ...guide.installedBackends.operator, host: "127.0.0.1", port: smsc.port, reconnectMs: 100 } }),
    extra: { pipeline: guide.pipeline, logLevel: "info" },
  });
});
after(async () => {
  await e2e?.close();
  await smsc?.stop();
});

const health = async (token?: string) => {
  const response = await fetch(`${e2e.url}/healthz`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return (await response.json()) as {
    backends?: Record<string, { status: string; connections: { name: string; state: string }[]; counts?: Record<string, number> }>;
  };
};
const bound = async () => (await health()).backends?.operator.connections.every((c) => c.state === "bound");

test("the guide's config binds twice; /healthz shows the binds to anyone and the counters only with the API token", { skip }, async () => {
  await e2e.waitFor("both binds", bound);
  const open = await health();
  assert.deepEqual(
    open.backends?.operator.connections.map((c) => [c.name, c.state]),
    [
      ["transceiver 1", "bound"],
      ["transceiver 2", "bound"],
    ],
  );
  assert.equal(open.backends?.operator.counts, undefined, "no counters for whoever asks");
  const trusted = await health("e2e-api-token-0123456789");
  assert.equal(typeof trusted.backends?.operator.counts?.pdusSent, "number");
  assert.deepEqual(
    (await smsc.binds()).map((b) => [b.command, b.systemId, b.status]),
    [
      ["bind_transceiver", systemId, 0],
      ["bind_transceiver", systemId, 0],
    ],
  );
});

test("MO through the SMSC, the echo back as submit_sm, and its receipt makes it D", { skip }, async () => {
  await e2e.waitFor("both binds", bound);
  assert.deepEqual(await smsc.deliver({ source: "255700002001", destination: "15555", shortMessage: Buffer.from("echo from the field") }), { status: 0 });
  const [incoming] = e2e.messages().filter((m) => m.direction === "I");
  assert.equal(incoming.text, "echo from the field", "stored before deliver_sm_resp");
  const reply = await e2e.waitFor("the echo", () => e2e.messages().find((m) => m.direction === "O"));
  const done = await e2e.waitFor("D", async () => {
    const status = await e2e.status(reply.id);
    return status.status === "D" ? status : undefined;
  });
  const submit = (await smsc.submits()).find((s) => s.destinationAddr === "255700002001");
  assert.equal(submit?.shortMessage.toString("latin1"), "from the field");
  assert.equal(submit?.sourceAddr, "CLINIC");
  assert.equal(done.transmissions[0].identity, "+255700002001");
});

test("a part answered before kill -9 is kept: the message is whole once the last part comes to the restarted server", { skip }, async () => {
  await e2e.waitFor("both binds", bound);
  const sar = (n: number) => ({
    [TAGS.sar_msg_ref_num]: Buffer.from([0, 7]),
    [TAGS.sar_total_segments]: Buffer.from([2]),
    [TAGS.sar_segment_seqnum]: Buffer.from([n]),
  });
  assert.deepEqual(await smsc.deliver({ source: "255700002002", destination: "15555", shortMessage: Buffer.from("survives "), tlvs: sar(1) }), { status: 0 });
  e2e.server.child.kill("SIGKILL");
  await e2e.server.exited;
  await e2e.restart();
  await e2e.waitFor("both binds again", bound);
  assert.deepEqual(await smsc.deliver({ source: "255700002002", destination: "15555", shortMessage: Buffer.from("kill -9"), tlvs: sar(2) }), { status: 0 });
  assert.ok(e2e.messages().some((m) => m.direction === "I" && m.text === "survives kill -9"));
});
