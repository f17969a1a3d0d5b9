import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.ts";

/** As commander gives them: the harness (bench/main.ts benchOptions) checks them, for npm run bench and this alike. */
export interface BenchCommandOptions {
  quick?: boolean;
  soak?: boolean;
  rate?: string;
  steadyRate?: string;
  out?: string;
  synchronous?: string;
  metrics?: string;
  from?: string;
  only?: string;
}

interface Harness {
  benchOptions(values: BenchCommandOptions): object;
  runBench(options: object): Promise<number>;
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
  const { benchOptions, runBench } = (await import(harness.href)) as Harness;
  let checked: object;
  try {
    checked = benchOptions(options);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  process.exitCode = await runBench(checked);
}
