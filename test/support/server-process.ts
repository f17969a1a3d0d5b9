import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
  output(): string;
}

/** Starts `rapidsms start` as a child process and resolves once it listens (or, as a worker, runs). */
export async function startServer(
  configPath: string,
  port = 0,
  env: NodeJS.ProcessEnv = {},
  role: "all" | "web" | "worker" = "all",
  /** More options of `rapidsms start`. */
  args: readonly string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN, "start", "--config", configPath, "--port", String(port), "--role", role, ...args], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /RapidSMS listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
      else if (output.includes("RapidSMS worker running")) resolve(0);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const actual = await listening;
    return { child, port: actual, url: `http://127.0.0.1:${actual}`, exited, output: () => output };
  } finally {
    clearTimeout(timeout);
  }
}
