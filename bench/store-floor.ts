/**
 * The store alone: the three calls the server makes per message of the echo loop (accept it
 * claimed, complete it with its reply's transmission claimed, record the send), on the same
 * SQLite file settings and code as the server, in a process of its own with no HTTP, no store
 * thread, no router and no metrics. It is the floor under the server's CPU per message: what the
 * durable part of a message costs here, 32 at a time (group commits shared, as under the closed
 * loop) and one at a time (a commit and a sync each, as at a light steady rate).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Store } from "../src/store/store.ts";
import type { ServerCode } from "./processes.ts";
import type { Context } from "./scenarios.ts";

export interface StoreFloorPass {
  concurrency: number;
  messages: number;
  messagesPerSec: number;
  cpuMsPerMessage: number;
}

export interface StoreFloorResult {
  synchronous: "full" | "normal";
  shared: StoreFloorPass;
  alone: StoreFloorPass;
}

const WARMUP = 500;

/** Runs the store alone in a child process (its own CPU clock), 32 at a time and then one at a time. */
export function storeFloor(context: Context): StoreFloorResult {
  const { settings, log, dir } = context;
  const shared = settings.connections;
  const [many, few] = settings.seconds >= 10 ? [20_000, 2_000] : [3_000, 300];
  log(`store alone: ${many} messages ${shared} at a time, ${few} one at a time (SQLite synchronous = ${settings.synchronous}, from ${settings.code})`);
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), settings.code, settings.synchronous, mkdtempSync(join(dir, "store-floor-")), String(shared), String(many), String(few)],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (child.status !== 0) throw new Error(`the store-alone child failed (${child.status ?? child.signal})`);
  const [sharedPass, alonePass] = JSON.parse(child.stdout) as [StoreFloorPass, StoreFloorPass];
  return { synchronous: settings.synchronous, shared: sharedPass, alone: alonePass };
}

async function open(code: ServerCode, synchronous: "full" | "normal", dir: string): Promise<Store> {
  const module = (await import(code === "dist" ? "../dist/store/sqlite.js" : "../src/store/sqlite.ts")) as typeof import("../src/store/sqlite.ts");
  return module.openSqliteStore(join(dir, "floor.db"), { synchronous });
}

async function pass(store: Store, concurrency: number, messages: number, first: number): Promise<StoreFloorPass> {
  const [connection] = await store.lookupConnections({ backend: "kannel", identities: ["1112223333"] });
  let claims = 0;
  const claim = () => ({ token: `floor#${++claims}`, until: Date.now() + 60_000 });
  const one = async (n: number) => {
    const id = `in-${n}`;
    const held = claim();
    await store.acceptIncoming({ message: { id, text: "echo hello", fields: {}, connection }, dedupeWindowMs: 0, claim: held });
    const reply = { id: `out-${n}`, text: "hello", fields: {}, context: { inResponseTo: id }, inResponseTo: id, connections: [connection] };
    const { claimed } = await store.completeIncoming({ id, token: held.token, replies: [reply], claimReplies: claim() });
    await store.recordAttempts({
      outcomes: claimed.map((t) => ({ transmissionId: t.id, token: t.token, attempt: t.attempt, status: "S" as const, durationMs: 1, messageId: t.messageId })),
    });
  };
  let next = first;
  const end = first + messages;
  const lane = async () => {
    while (next < end) await one(next++);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  return { concurrency, messages, messagesPerSec: messages / seconds, cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / messages };
}

if (import.meta.main) {
  const [code, synchronous, dir, shared, many, few] = process.argv.slice(2);
  const store = await open(code as ServerCode, synchronous as "full" | "normal", dir);
  await store.migrate();
  await pass(store, Number(shared), WARMUP, 0);
  const sharedPass = await pass(store, Number(shared), Number(many), WARMUP);
  const alonePass = await pass(store, 1, Number(few), WARMUP + Number(many));
  await store.close();
  process.stdout.write(JSON.stringify([sharedPass, alonePass]));
}
