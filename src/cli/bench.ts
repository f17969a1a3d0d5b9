import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.ts";

export interface BenchCommandOptions {
  quick?: boolean;
  soak?: boolean;
  rate?: number;
  out?: string;
  synchronous?: "full" | "normal";
}

/**
 * `rapidsms bench`: runs the harness in bench/, which only a checkout has (it needs the dev
 * dependencies), so it is found at run time rather than imported: the installed package has none.
 */
export async function runBenchCommand(options: BenchCommandOptions): Promise<void> {
  const harness = new URL("../../bench/main.ts", import.meta.url);
  if (!existsSync(fileURLToPath(harness))) {
    throw new ConfigError("rapidsms bench runs from a checkout of rapidsms-ts (git clone, npm install, npm run bench), not from the installed package");
  }
  const { runBench } = (await import(harness.href)) as { runBench: (options: BenchCommandOptions) => Promise<number> };
  process.exitCode = await runBench(options);
}
