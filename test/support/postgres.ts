import { execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unlessInCi } from "./components.ts";
import { freePort } from "./free-port.ts";

const BIN = existsSync("/usr/lib/postgresql")
  ? readdirSync("/usr/lib/postgresql")
      .map((v) => `/usr/lib/postgresql/${v}/bin`)
      .find((bin) => existsSync(`${bin}/initdb`))
  : undefined;

/** Why PostgreSQL tests cannot run here, or false when they can. */
export const POSTGRES_MISSING: string | false = unlessInCi(BIN ? false : "PostgreSQL is not installed: apt-get install postgresql (.ci/run does)");

export interface PostgresServer {
  /** A URL to the `postgres` database, as superuser. */
  url: string;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL on 127.0.0.1 (a free port, a temp folder, trust auth, fsync off
 * for speed). Run as root, it runs the server as the `postgres` user, as PostgreSQL requires.
 */
export async function startPostgres(): Promise<PostgresServer> {
  if (!BIN) throw new Error(String(POSTGRES_MISSING));
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-pg-"));
  const data = join(dir, "data");
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(execFileSync("id", ["-u", "postgres"]).toString()) : undefined;
  const gid = asRoot ? Number(execFileSync("id", ["-g", "postgres"]).toString()) : undefined;
  if (asRoot) chownSync(dir, uid!, gid!);
  const run = (command: string, args: string[]) => execFileSync(`${BIN}/${command}`, args, { uid, gid, stdio: "pipe" });
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const server = spawn(
    `${BIN}/postgres`,
    [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ],
    { uid, gid, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  server.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      run("pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-q"]);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    async createDatabase(name) {
      run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      // Smart shutdown first: connections that are closing finish closing, instead of getting
      // "terminating connection due to administrator command" (an uncaught error in a client that
      // a pool has just ended). One still open after 3 s is cut (fast shutdown).
      server.kill("SIGTERM");
      const fast = setTimeout(() => server.kill("SIGINT"), 3_000);
      await exited;
      clearTimeout(fast);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
