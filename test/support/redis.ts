import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unlessInCi } from "./components.ts";
import { freePort } from "./free-port.ts";

const SERVER = "/usr/bin/redis-server";

/** Why Redis tests cannot run here, or false when they can. */
export const REDIS_MISSING: string | false = unlessInCi(existsSync(SERVER) ? false : "Redis is not installed: apt-get install redis-server (.ci/run does)");

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts a throw-away Redis on 127.0.0.1 (a free port, no persistence). */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-redis-"));
  const port = await freePort();
  const server = spawn(SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline) throw new Error("Redis did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      server.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
