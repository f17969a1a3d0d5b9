/**
 * `npm run bench [-- --quick] [--soak] [--rate N] [--steady-rate N] [--from dist|sources] [--synchronous full|normal]
 * [--metrics on|off] [--out PATH]`: the server as a child process on SQLite, a fake Kannel (and for
 * the SMPP scenario a fake SMSC) in another, and the load from wrk or from here; see docs/performance.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { closedLoopGenerator, closedLoopThreads } from "./load.ts";
import { killChildren, type ServerCode } from "./processes.ts";
import { sanityFailures, table, writeJson, type Results } from "./report.ts";
import { baseline, FakeKannel, FULL, inbound, latencyAtRate, outbound, QUICK, soak, type Context } from "./scenarios.ts";
import { SMPP_FULL, SMPP_QUICK, smpp } from "./smpp.ts";
import { buildDist, startup } from "./startup.ts";
import { floor } from "./floor.ts";
import { steady } from "./steady.ts";
import { storeFloor } from "./store-floor.ts";

/** The scenarios of a full run, in the order they run; `--only` picks some of them. */
export const SCENARIOS = ["startup", "baseline", "store", "floor", "inbound", "fixed-rate", "steady", "outbound", "smpp"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  /** Runs these scenarios alone (the figures of the others are missing from the table). */
  only?: Scenario[];
  quick?: boolean;
  soak?: boolean;
  out?: string;
  /** Overrides the fixed rate (msg/s) of the latency and soak scenarios. */
  rate?: number;
  /** The server's SQLite sync mode; default full, as `npm start` runs. */
  synchronous?: "full" | "normal";
  /** The server's `metrics` setting; default on. */
  metrics?: boolean;
  /** Overrides the rate (msg/s) of the steady scenario (default 150). */
  steadyRate?: number;
  /** Which code the server runs in every scenario but start-up (always dist); default dist. */
  from?: ServerCode;
}

/** Runs the benchmark, prints the table, writes the JSON; resolves with the exit code (1 if a number is not sane). */
export async function runBench(options: BenchOptions): Promise<number> {
  const settings = {
    ...(options.quick ? QUICK : FULL),
    ...(options.rate ? { rate: options.rate, soakRate: options.rate } : {}),
    ...(options.synchronous ? { synchronous: options.synchronous } : {}),
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    ...(options.steadyRate ? { steadyRate: options.steadyRate } : {}),
    ...(options.from ? { code: options.from } : {}),
  };
  const smppSettings = options.quick ? SMPP_QUICK : SMPP_FULL;
  const started = new Date();
  const out = options.out ?? fileURLToPath(new URL(`./results/${started.toISOString().replace(/[:.]/g, "-")}.json`, import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "rapidsms-bench-"));
  const cleanUp = () => {
    killChildren();
    rmSync(dir, { recursive: true, force: true });
  };
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`bench: ${signal}, stopping\n`);
    cleanUp();
    process.exit(130);
  };
  process.on("exit", cleanUp);
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  const results: Results = {
    mode: options.soak ? (options.quick ? "quick soak" : "soak") : options.quick ? "quick" : "full",
    machine: {
      cpu: cpus()[0]?.model.trim() ?? "unknown",
      cores: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      os: `${process.platform} ${release()}`,
      date: started.toISOString(),
      loadAverage: { before: loadavg()[0], after: NaN },
    },
    settings: options.soak ? settings : { ...settings, smpp: smppSettings },
    loadGenerator: { closedLoop: closedLoopGenerator(), wrkThreads: closedLoopThreads(), openLoop: "undici" },
  };
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  try {
    const buildMs = !options.soak || settings.code === "dist" ? buildDist(log) : Number.NaN;
    const context: Context = { dir, fake: await FakeKannel.start(), settings, log };
    if (options.soak) {
      results.soak = await soak(context);
    } else {
      const runs = (name: Scenario) => !options.only || options.only.includes(name);
      if (runs("startup")) results.startup = await startup(context, buildMs);
      if (runs("baseline")) results.baseline = await baseline(context);
      if (runs("store")) results.storeFloor = storeFloor(context);
      if (runs("floor")) results.floor = await floor(context);
      if (runs("inbound")) results.inbound = await inbound(context);
      if (runs("fixed-rate")) results.fixedRate = await latencyAtRate(context);
      if (runs("steady")) results.steady = await steady(context);
      if (runs("outbound")) results.outbound = await outbound(context);
      if (runs("smpp")) results.smpp = await smpp(context, smppSettings);
    }
  } finally {
    cleanUp();
    process.off("exit", cleanUp);
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
  results.machine.loadAverage.after = loadavg()[0];
  const failed = sanityFailures(results);
  results.checks = { failed };
  writeJson(out, results);
  process.stdout.write(`${table(results)}\n\nJSON: ${out}\n`);
  log(`finished in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`);
  if (failed.length === 0) return 0;
  process.stderr.write(`bench: numbers not sane:\n${failed.map((f) => `  - ${f}`).join("\n")}\n`);
  return 1;
}

/** The options as given on a command line (`npm run bench -- …` or `rapidsms bench …`), checked; throws saying what is wrong. */
export function benchOptions(values: {
  quick?: boolean;
  soak?: boolean;
  out?: string;
  rate?: string;
  synchronous?: string;
  metrics?: string;
  steadyRate?: string;
  from?: string;
  only?: string;
}): BenchOptions {
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0)) throw new Error(`--rate: expected a positive number of messages per second, got ${values.rate}`);
  const { synchronous } = values;
  if (synchronous !== undefined && synchronous !== "full" && synchronous !== "normal")
    throw new Error(`--synchronous: expected full or normal, got ${synchronous}`);
  if (values.metrics !== undefined && values.metrics !== "on" && values.metrics !== "off")
    throw new Error(`--metrics: expected on or off, got ${values.metrics}`);
  const metrics = values.metrics === undefined ? undefined : values.metrics === "on";
  const steadyRate = values.steadyRate === undefined ? undefined : Number(values.steadyRate);
  if (steadyRate !== undefined && !(steadyRate > 0))
    throw new Error(`--steady-rate: expected a positive number of messages per second, got ${values.steadyRate}`);
  const { from } = values;
  if (from !== undefined && from !== "dist" && from !== "sources") throw new Error(`--from: expected dist or sources, got ${from}`);
  const only = values.only?.split(",").map((name) => name.trim());
  const unknown = only?.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown?.length) throw new Error(`--only: unknown scenario ${unknown.join(", ")}; the scenarios are ${SCENARIOS.join(", ")}`);
  return { ...values, rate, synchronous, metrics, steadyRate, from, only: only as Scenario[] | undefined };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      soak: { type: "boolean" },
      out: { type: "string" },
      rate: { type: "string" },
      synchronous: { type: "string" },
      metrics: { type: "string" },
      "steady-rate": { type: "string" },
      from: { type: "string" },
      only: { type: "string" },
    },
  });
  process.exitCode = await runBench(benchOptions({ ...values, steadyRate: values["steady-rate"] }));
}
