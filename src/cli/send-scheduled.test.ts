import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { startServer, type ServerProcess } from "../../test/support/server-process.ts";
import { waitFor } from "../../test/support/wait-for.ts";

const repo = resolve(import.meta.dirname, "../..");
const cli = join(repo, "src/cli/main.ts");
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !["PORT", "HOST", "RAPIDSMS_CONFIG", "RAPIDSMS_DATABASE", "DATABASE_URL", "LOG_LEVEL"].includes(key)),
);

interface Transmission {
  identity: string;
  status: string;
  error: string | null;
  sentAt: string | null;
  nextAttemptAt: string | null;
}
interface Message {
  id: string;
  status: string;
  sendAt: string | null;
  transmissions: Transmission[];
}

/** `rapidsms start` and `rapidsms send` as people run them: two processes on one SQLite file, the sends stored by the CLI and sent by the server. */
describe("rapidsms send --at and --file through a running rapidsms start", () => {
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-send-scheduled-"));
  const configPath = join(dir, "rapidsms.config.json");
  let server: ServerProcess;
  before(async () => {
    writeFileSync(configPath, JSON.stringify({ installedBackends: { db: { engine: "database" } }, apps: ["echo"], database: "sqlite:./rapidsms.db" }));
    server = await startServer(configPath);
  });
  after(async () => {
    server?.child.kill("SIGTERM");
    if (server) await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  async function send(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [cli, "send", ...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, "close")) as [number | null];
    return { code, stdout, stderr };
  }
  const message = async (id: string): Promise<Message> => (await fetch(`${server.url}/api/messages/${id}`)).json() as Promise<Message>;
  const settled = (id: string) =>
    waitFor(`message ${id} to be sent`, async () => ((m) => (m.status === "S" || m.status === "E" ? m : undefined))(await message(id)));

  test("send --at stores the message at once; the server sends it at its time, not before", async () => {
    const due = new Date(Math.ceil((Date.now() + 3_000) / 1_000) * 1_000);
    const at = new Date(due.getTime() + 2 * 60 * 60_000).toISOString().replace(".000Z", "+02:00");
    const result = await send(["--backend", "db", "--to", "111,112", "--at", at, "see you at the clinic"]);
    assert.equal(result.code, 0, result.stderr);
    const [, id] = /^message ([0-9a-f]{32}): scheduled for (\S+); the server \(rapidsms start\) sends it then$/m.exec(result.stdout) ?? [];
    assert.ok(id, result.stdout);
    assert.match(result.stdout, new RegExp(`scheduled for ${due.toISOString().replace(/\./g, "\\.")}`));
    const waiting = await message(id);
    assert.equal(waiting.sendAt, due.toISOString());
    const done = await settled(id);
    assert.equal(done.status, "S");
    assert.deepEqual(done.transmissions.map((t) => t.identity).sort(), ["111", "112"]);
    for (const t of done.transmissions) assert.ok(Date.parse(t.sentAt!) >= due.getTime(), `${t.identity} sent at ${t.sentAt}, due ${due.toISOString()}`);
  });

  test("send --file queues every number of a CSV once, says what it skipped and refused, and the server sends them; a rerun queues nothing again", async () => {
    const file = join(dir, "recipients.csv");
    const tooLong = "9".repeat(101);
    writeFileSync(
      file,
      [
        "name,phone,district",
        "Amina,+255700000001,Ilala",
        "Baraka,+255700000002,Temeke",
        `Bad,${tooLong},Kinondoni`,
        "",
        "Amina twice,+255700000001,Ilala",
        "Chausiku, +255700000003 ,Ubungo",
        "",
      ].join("\n"),
    );
    const result = await send(["--file", file, "--backend", "db", "Vaccination day is Saturday"]);
    assert.equal(result.code, 1, "a refused row makes the exit code 1");
    assert.match(result.stdout, /^queued 3 of 3 recipient\(s\)$/m, "plain progress lines when not on a terminal");
    assert.ok(result.stdout.includes(`${file}: read column "phone"\n`), result.stdout);
    assert.match(result.stdout, /^queued 3 recipient\(s\) in 1 message\(s\)$/m);
    assert.match(result.stdout, /^skipped 1 duplicate\(s\)$/m);
    assert.match(result.stdout, /^refused 1 row\(s\):\n {2}line 4: "9{40}": Longer than 100 characters \(101\)\.$/m);
    const [, id] = /^message id\(s\): ([0-9a-f]{32})$/m.exec(result.stdout) ?? [];
    assert.ok(id, result.stdout);
    const done = await settled(id);
    assert.deepEqual(done.transmissions.map((t) => [t.identity, t.status]).sort(), [
      ["+255700000001", "S"],
      ["+255700000002", "S"],
      ["+255700000003", "S"],
    ]);
    const again = await send(["--file", file, "--backend", "db", "Vaccination day is Saturday"]);
    assert.match(again.stdout, /^queued 0 recipient\(s\) in 0 message\(s\)$/m);
    assert.match(again.stdout, /^already queued by an earlier run of this command: 3 recipient\(s\), not queued again/m);
    assert.equal((await message(id)).transmissions.length, 3);
  });

  test("send --file --at schedules every number; DELETE /api/messages/<id> cancels them before their time", async () => {
    const file = join(dir, "later.csv");
    writeFileSync(file, "+255700000011\n+255700000012\n");
    const at = new Date(Date.now() + 60 * 60_000).toISOString();
    const result = await send(["--file", file, "--backend", "db", "--at", at, "Reminder"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no header, read the first column/);
    assert.match(result.stdout, new RegExp(`queued 2 recipient\\(s\\) in 1 message\\(s\\), to be sent at ${at.replace(/\./g, "\\.")}`));
    const [, id] = /^message id\(s\): ([0-9a-f]{32})$/m.exec(result.stdout) ?? [];
    const scheduled = await message(id);
    assert.deepEqual(
      scheduled.transmissions.map((t) => [t.status, t.nextAttemptAt]),
      [
        ["Q", at],
        ["Q", at],
      ],
    );
    const cancel = await fetch(`${server.url}/api/messages/${id}`, { method: "DELETE" });
    assert.equal(cancel.status, 200);
    assert.deepEqual(await cancel.json(), { id, status: "E", cancelled: 2, sending: 0, sent: 0, failed: 0 });
    const cancelled = await message(id);
    assert.deepEqual(
      cancelled.transmissions.map((t) => [t.status, t.error]),
      [
        ["E", "cancelled"],
        ["E", "cancelled"],
      ],
    );
    assert.equal((await fetch(`${server.url}/api/messages/${id}`, { method: "DELETE" })).status, 409);
  });

  test("a rerun of send --file --at after its time has come queues nothing a second time", async () => {
    const file = join(dir, "soon.csv");
    writeFileSync(file, "+255700000021\n+255700000022\n");
    const at = new Date(Date.now() + 1_500).toISOString();
    const first = await send(["--file", file, "--backend", "db", "--at", at, "Clinic tomorrow"]);
    assert.equal(first.code, 0, first.stderr);
    const [, id] = /^message id\(s\): ([0-9a-f]{32})$/m.exec(first.stdout) ?? [];
    assert.ok(id, first.stdout);
    assert.equal((await settled(id)).status, "S");
    assert.ok(Date.now() > Date.parse(at));
    // The operator runs the very same command again (it was killed before its summary, say).
    const again = await send(["--file", file, "--backend", "db", "--at", at, "Clinic tomorrow"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^queued 0 recipient\(s\) in 0 message\(s\)$/m);
    assert.match(again.stdout, /^already queued by an earlier run of this command: 2 recipient\(s\), not queued again/m);
    assert.match(again.stdout, new RegExp(`^message id\\(s\\): ${id}$`, "m"));
    const listed = (await (await fetch(`${server.url}/api/messages?direction=O&text=${encodeURIComponent("Clinic tomorrow")}`)).json()) as {
      messages?: Message[];
    };
    assert.deepEqual(
      listed.messages?.map((m) => m.id),
      [id],
    );
  });

  test("send --at refuses a time without a zone, and --wait with --at, with one line and exit code 2", async () => {
    const noZone = await send(["--backend", "db", "--to", "111", "--at", "2026-12-24T08:00:00", "x"]);
    assert.equal(noZone.code, 2);
    assert.match(noZone.stderr, /^rapidsms: send --at "2026-12-24T08:00:00": expected an ISO 8601 date and time with a time zone/);
    const both = await send(["--backend", "db", "--file", "x.csv", "--at", "2027-01-01T00:00:00Z", "--wait", "x"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--wait waits for sends made now/);
  });
});
