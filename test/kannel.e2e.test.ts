import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { unlessInCi } from "./support/components.ts";
import { freePort } from "./support/free-port.ts";
import { startServer, type ServerProcess } from "./support/server-process.ts";

const run = promisify(execFile);
const RIG = process.env.KANNEL_RIG ?? resolve(fileURLToPath(new URL("../", import.meta.url)), "../shared/kannel");
const INSTALLED = existsSync("/usr/sbin/bearerbox") && existsSync("/usr/lib/kannel/test/fakesmsc") && existsSync(join(RIG, "start.sh"));
const SKIP = unlessInCi(INSTALLED ? false : `Kannel or its rig is missing: run ${RIG}/install.sh (.ci/run does)`);

const ASCII = 500;
const GSM_EXTENSION = 10;
const UCS2 = 10;
const TOTAL = ASCII + GSM_EXTENSION + UCS2;

const dir = mkdtempSync(join(tmpdir(), "rapidsms-kannel-"));
const env = { ...process.env, STATE_DIR: join(dir, "kannel"), KANNEL_PORT_BASE: "23400" };
let server: ServerProcess | undefined;

const rig = (script: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}) =>
  run("bash", [join(RIG, script), ...args], { env: { ...env, ...extra }, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });

before(async () => {
  if (SKIP) return;
  const port = await freePort();
  const configPath = join(dir, "rapidsms.config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      installedBackends: {
        kannel: {
          engine: "kannel",
          sendsmsUrl: "http://127.0.0.1:23413/cgi-bin/sendsms",
          sendsmsParams: { username: "e2e", password: "e2e-secret", from: "15555" },
          deliveryReportUrl: `http://127.0.0.1:${port}`,
        },
      },
      apps: ["echo", "default"],
      database: "sqlite:./kannel.db",
      logLevel: "warn",
    }),
  );
  server = await startServer(configPath, port);
  await rig("start.sh", [], { APP_URL: `http://127.0.0.1:${port}/backend/kannel/` });
});

after(async () => {
  if (SKIP) return;
  await rig("stop.sh").catch(() => undefined);
  server?.child.kill("SIGTERM");
  if (server) await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

test(`real Kannel: ${TOTAL} MO (ASCII, a GSM extension character, UCS-2 with emoji) get their exact echo at the handset and two DLRs each`, {
  skip: SKIP,
  timeout: 300_000,
}, async (t) => {
  const started = Date.now();
  // Random senders (fakesmsc -z 1 rebuilds the text from its words, so it has single spaces).
  const injected = await rig("inject.sh", [String(ASCII), "echo hello world"], { RANDOMIZE: "1", WAIT_MT: String(ASCII) });
  await rig("inject.sh", [String(GSM_EXTENSION), "echo price:  5€ {ok}"], { WAIT_MT: String(GSM_EXTENSION) });
  await rig("inject.sh", [String(UCS2), "echo Habari 😀 Ωμέγα"], { MSG_TYPE: "ucs2", WAIT_MT: String(UCS2) });
  const loopSeconds = (Date.now() - started) / 1000;

  const mt = (await rig("mt.sh")).stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { to: string; type: string; text: string });
  const byText = new Map<string, number>();
  for (const m of mt) byText.set(`${m.type} ${m.text}`, (byText.get(`${m.type} ${m.text}`) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(byText), {
    "text hello world": ASCII,
    "text price:  5€ {ok}": GSM_EXTENSION,
    "ucs-2 Habari 😀 Ωμέγα": UCS2,
  });

  const db = new DatabaseSync(join(dir, "kannel.db"), { readOnly: true });
  const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
  const deliveredWithin = async (ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const delivered = count("select count(*) as n from transmissions t join messages m on m.id = t.message_id where m.direction = 'O' and t.status = 'D'");
      if (delivered >= TOTAL || Date.now() > deadline) return delivered;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const delivered = await deliveredWithin(30_000);
  const reports = count("select count(*) as n from delivery_reports");
  const submitted = count("select count(*) as n from delivery_reports where detail like '8 SMSC submit%'");
  const segments = db.prepare("select segments, count(*) as n from transmissions where segments is not null group by segments").all();
  const received = count("select count(*) as n from messages where direction = 'I' and status = 'R'");
  db.close();
  t.diagnostic(`${injected.stdout.trim()}`);
  t.diagnostic(
    `whole loop: ${TOTAL} messages in ${loopSeconds.toFixed(2)} s = ${(TOTAL / loopSeconds).toFixed(0)} msg/s (MO → Kannel → server → echo → sendsms → Kannel → handset)`,
  );
  t.diagnostic(
    `inbound processed ${received}; transmissions delivered (D) ${delivered}; delivery reports ${reports} (${submitted} SMSC submit); segments ${JSON.stringify(segments)}`,
  );
  assert.equal(received, TOTAL);
  assert.equal(delivered, TOTAL, "every reply's transmission ends D");
  assert.equal(reports, 2 * TOTAL, "both DLRs (8 then 1) recorded for each reply");
  assert.equal(submitted, TOTAL);
});
