export interface BenchCommandOptions {
  quick?: boolean;
  soak?: boolean;
  rate?: number;
  out?: string;
}

/** `rapidsms bench`: runs the harness in bench/ (loaded only here: it needs the dev dependencies). */
export async function runBenchCommand(options: BenchCommandOptions): Promise<void> {
  const { runBench } = await import("../../bench/main.ts");
  process.exitCode = await runBench(options);
}
