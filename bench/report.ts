import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BaselineResult, FixedRateResult, InboundResult, OutboundResult, SoakResult } from "./scenarios.ts";
import type { ThreadsCpuMs } from "./processes.ts";
import type { SmppResult } from "./smpp.ts";
import type { Spread, StartupResult } from "./startup.ts";
import type { SteadyResult } from "./steady.ts";
import type { StoreFloorResult } from "./store-floor.ts";
import type { FloorResult } from "./floor.ts";

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles; NaN for no values, which the sanity checks then refuse. */
export function summarize(values: number[]): Summary {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? NaN : sorted[sorted.length - 1] };
}

export interface Results {
  mode: "full" | "quick" | "soak" | "quick soak";
  /** `loadAverage`: the 1-minute load before and after the run; above ~2.5 after means something else competed for the cores. */
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; os: string; date: string; loadAverage: { before: number; after: number } };
  settings: object;
  /** What generated the load: the closed loop (baseline, inbound) and the open loop (fixed rate, steady, soak). */
  loadGenerator?: { closedLoop: "wrk" | "autocannon"; wrkThreads?: number; openLoop: "undici" };
  startup?: StartupResult;
  baseline?: BaselineResult;
  /** The store's calls per message alone, in-process: the floor under the server's CPU per message. */
  storeFloor?: StoreFloorResult;
  /** The durable echo loop with none of RapidSMS's code (bench/floor-server.js) under the same loads. */
  floor?: FloorResult;
  inbound?: InboundResult;
  fixedRate?: FixedRateResult;
  steady?: SteadyResult;
  outbound?: OutboundResult;
  smpp?: SmppResult;
  soak?: SoakResult;
  checks?: { failed: string[] };
}

type Row = [scenario: string, metric: string, value: string, ratio: string];

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : String(n));
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : String(n));
/** Where the CPU per message went: the main thread, the store's (Node worker threads), V8's GC helpers, the rest. */
const byThread = (t: ThreadsCpuMs): Row => [
  "",
  "  of it: main / store thread / V8 helpers / other (ms)",
  [t.main, t.workers, t.v8, t.other].map((n) => n.toFixed(3)).join(" / "),
  "",
];
const pct = (n: number) => `${(n * 100).toFixed(2)} %`;
const ratio = (value: number, base: number | undefined) => (base === undefined || !Number.isFinite(value / base) ? "" : `${(value / base).toFixed(2)}×`);

const spreadMs = (s: Spread) => `${ms(s.median)} / ${ms(s.max)}`;

/** The closed loop's generator as the table names it. */
function closedLoopName({ loadGenerator }: Results): string {
  if (!loadGenerator) return "autocannon";
  return loadGenerator.closedLoop === "wrk" ? `wrk -t${loadGenerator.wrkThreads}` : "autocannon";
}

export function machineLine({ machine }: Results): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}, ${machine.date}, load average ${machine.loadAverage.before.toFixed(2)} before / ${machine.loadAverage.after.toFixed(2)} after`;
}

/** The results as a plain-text table; the last column is each figure divided by the baseline's matching figure. */
export function table(results: Results): string {
  const b = results.baseline;
  const rows: Row[] = [];
  if (b) {
    rows.push(
      ["baseline", `node:http hello req/s (${closedLoopName(results)})`, int(b.requestsPerSec), "1.00×"],
      ["", "latency p50 / p99 / max (ms)", `${ms(b.latencyMs.p50)} / ${ms(b.latencyMs.p99)} / ${ms(b.latencyMs.max)}`, ""],
      ["", `latency at ${int(b.fixedRate.rate)} req/s p50 / p99 (ms)`, `${ms(b.fixedRate.latencyMs.p50)} / ${ms(b.fixedRate.latencyMs.p99)}`, ""],
      ...(b.fixedRate.sustained ? [] : [["", `${int(b.fixedRate.rate)} req/s not sustained: run stopped 2 s behind`, "", ""] as Row]),
      ["", "CPU per request (ms)", ms(b.cpuMsPerRequest), ""],
      ["", "server / load generator CPU (cores)", `${b.serverCores.toFixed(2)} / ${b.loadgenCores.toFixed(2)}`, ""],
      ["", "peak RSS (MiB)", int(b.peakRssMiB), ""],
    );
  }
  const up = results.startup;
  if (up) {
    const { fresh, restart } = up;
    rows.push(
      [
        "startup (dist/)",
        `start → first 200, fresh database, median / max (ms, ${up.runs} runs)`,
        spreadMs(fresh.firstOkMs),
        ratio(fresh.firstOkMs.median, up.baselineFirstOkMs.median),
      ],
      ["", "start → first 200, restart on it, median / max (ms)", spreadMs(restart.firstOkMs), ratio(restart.firstOkMs.median, up.baselineFirstOkMs.median)],
      ["", "start → port accepting, fresh / restart median (ms)", `${ms(fresh.listeningMs.median)} / ${ms(restart.listeningMs.median)}`, ""],
      ["", "start → echo reply at the gateway, fresh / restart median (ms)", `${ms(fresh.firstReplyMs.median)} / ${ms(restart.firstReplyMs.median)}`, ""],
      ["", "node:http hello world start → first 200, median / max (ms)", spreadMs(up.baselineFirstOkMs), "1.00×"],
      [
        "",
        `RSS ${up.idleSeconds} s after the first 200, fresh / restart median (MiB)`,
        `${ms(fresh.idleRssMiB.median)} / ${ms(restart.idleRssMiB.median)}`,
        "",
      ],
      ["", "peak RSS by then, fresh / restart max (MiB)", `${ms(fresh.peakRssMiB.max)} / ${ms(restart.peakRssMiB.max)}`, ""],
      ["", "build before the run (node scripts/build.js, s)", (up.buildMs / 1000).toFixed(1), ""],
    );
  }
  const i = results.inbound;
  if (i) {
    rows.push(
      ["inbound", `accepted msg/s (${closedLoopName(results)})`, int(i.acceptedPerSec), ratio(i.acceptedPerSec, b?.requestsPerSec)],
      [
        "",
        "200 latency p50 / p99 / max (ms)",
        `${ms(i.latencyMs.p50)} / ${ms(i.latencyMs.p99)} / ${ms(i.latencyMs.max)}`,
        b ? `${ratio(i.latencyMs.p50, b.latencyMs.p50)} / ${ratio(i.latencyMs.p99, b.latencyMs.p99)}` : "",
      ],
      ["", "replies delivered/s (until the last)", int(i.repliesPerSec), ratio(i.repliesPerSec, b?.requestsPerSec)],
      ["", "replies delivered/s during the load", int(i.repliesDuringLoadPerSec), ratio(i.repliesDuringLoadPerSec, b?.requestsPerSec)],
      ["", "replies delivered / accepted", `${int(i.delivered)} / ${int(i.accepted)}`, ""],
      ["", "backlog drained after load (ms)", int(i.drainMs), ""],
      ["", "end-to-end p50 / p99 (ms)", i.endToEndMs ? `${ms(i.endToEndMs.p50)} / ${ms(i.endToEndMs.p99)}` : "n/a (wrk)", ""],
      ["", "errors", pct(i.errorRate), ""],
      ["", "CPU per message (ms)", ms(i.cpuMsPerMessage), ratio(i.cpuMsPerMessage, b?.cpuMsPerRequest)],
      byThread(i.cpuMsPerMessageByThread),
      ["", "server / load generator CPU (cores)", `${i.serverCores.toFixed(2)} / ${i.loadgenCores.toFixed(2)}`, ""],
      ["", "peak RSS (MiB)", int(i.peakRssMiB), ratio(i.peakRssMiB, b?.peakRssMiB)],
    );
  }
  const f = results.fixedRate;
  if (f) {
    rows.push(
      ["fixed rate", `achieved msg/s (target ${int(f.rate)}, ${f.seconds} s)`, int(f.achievedPerSec), ratio(f.achievedPerSec, b?.fixedRate.achievedPerSec)],
      ...(f.sustained ? [] : [["", `not sustained: stopped 2 s behind, after`, `${int(f.offered)} requests`, ""] as Row]),
      [
        "",
        "200 latency p50 / p99 / max (ms)",
        `${ms(f.latencyMs.p50)} / ${ms(f.latencyMs.p99)} / ${ms(f.latencyMs.max)}`,
        b ? `${ratio(f.latencyMs.p50, b.fixedRate.latencyMs.p50)} / ${ratio(f.latencyMs.p99, b.fixedRate.latencyMs.p99)}` : "",
      ],
      ["", "end-to-end p50 / p99 (ms)", `${ms(f.endToEndMs.p50)} / ${ms(f.endToEndMs.p99)}`, ""],
      ["", "replies delivered / accepted", `${int(f.delivered)} / ${int(f.accepted)}`, ""],
      ["", "errors", pct(f.errorRate), ""],
      ["", "peak RSS (MiB)", int(f.peakRssMiB), ratio(f.peakRssMiB, b?.peakRssMiB)],
    );
  }
  const sf = results.storeFloor;
  if (sf) {
    rows.push(
      ["store alone", `CPU per message, ${sf.shared.concurrency} at a time (ms; ${int(sf.shared.messagesPerSec)} msg/s)`, ms(sf.shared.cpuMsPerMessage), ""],
      ["", `CPU per message, one at a time (ms; ${int(sf.alone.messagesPerSec)} msg/s)`, ms(sf.alone.cpuMsPerMessage), ""],
    );
  }
  const fl = results.floor;
  if (fl) {
    const c = fl.closedLoop;
    const f1 = fl.fixedRate;
    rows.push(
      ["floor", "start → first 200 (ms) / idle RSS (MiB)", `${ms(fl.firstOkMs)} / ${int(fl.idleRssMiB)}`, ""],
      ["", `full loop, ${c.connections} connections (replies/s)`, int(c.repliesPerSec), ratio(c.repliesPerSec, b?.requestsPerSec)],
      ["", "  CPU per message (ms)", ms(c.cpuMsPerMessage), ratio(c.cpuMsPerMessage, b?.cpuMsPerRequest)],
      byThread(c.cpuMsPerMessageByThread),
      ["", `at ${int(f1.rate)} msg/s: 200 p99 / end-to-end p99 (ms)`, `${ms(f1.latencyMs.p99)} / ${ms(f1.endToEndMs.p99)}`, ""],
      ...(f1.sustained ? [] : [["", `${int(f1.rate)} msg/s not sustained: stopped 2 s behind`, "", ""] as Row]),
      ["", `at ${int(fl.steady.rate)} msg/s: CPU per message (ms)`, ms(fl.steady.cpuMsPerMessage), ""],
      byThread(fl.steady.cpuMsPerMessageByThread),
      [
        "",
        "replies delivered / accepted (closed loop, fixed rate, steady)",
        [c, f1, fl.steady].map((load) => `${int(load.delivered)} / ${int(load.accepted)}`).join(", "),
        "",
      ],
      ["", "peak RSS (MiB)", int(fl.peakRssMiB), ratio(fl.peakRssMiB, b?.peakRssMiB)],
    );
  }
  const st = results.steady;
  if (st) {
    rows.push(
      ["steady", `achieved msg/s (target ${int(st.rate)}, ${st.seconds} s)`, int(st.achievedPerSec), ""],
      ...(st.sustained ? [] : [["", "not sustained: stopped 2 s behind", "", ""] as Row]),
      ["", `idle cost (server CPU ms per s, ${st.idleSeconds} s of no load)`, ms(st.idleCpuMsPerSec), ""],
      ["", "CPU per message (ms)", ms(st.cpuMsPerMessage), ratio(st.cpuMsPerMessage, st.helloCpuMsPerRequest)],
      byThread(st.cpuMsPerMessageByThread),
      ["", `node:http hello world at ${int(st.rate)} req/s, CPU per request (ms)`, ms(st.helloCpuMsPerRequest), "1.00×"],
      ["", "server CPU (cores)", st.serverCores.toFixed(3), ""],
      ["", "200 latency p50 / p99 / max (ms)", `${ms(st.latencyMs.p50)} / ${ms(st.latencyMs.p99)} / ${ms(st.latencyMs.max)}`, ""],
      ["", "end-to-end p50 / p99 (ms)", `${ms(st.endToEndMs.p50)} / ${ms(st.endToEndMs.p99)}`, ""],
      ["", "replies delivered / accepted", `${int(st.delivered)} / ${int(st.accepted)}`, ""],
      ["", "errors", pct(st.errorRate), ""],
      ["", "RSS at the end / peak RSS (MiB)", `${int(st.rssMiB)} / ${int(st.peakRssMiB)}`, ""],
      ["", `again, after ${st.warm.warmupSeconds} s of the closed loop (V8 has compiled the hot code):`, "", ""],
      ["", "CPU per message (ms)", ms(st.warm.cpuMsPerMessage), ratio(st.warm.cpuMsPerMessage, st.helloCpuMsPerRequest)],
      byThread(st.warm.cpuMsPerMessageByThread),
      ["", "200 latency p50 / p99 / max (ms)", `${ms(st.warm.latencyMs.p50)} / ${ms(st.warm.latencyMs.p99)} / ${ms(st.warm.latencyMs.max)}`, ""],
      ["", "end-to-end p50 / p99 (ms)", `${ms(st.warm.endToEndMs.p50)} / ${ms(st.warm.endToEndMs.p99)}`, ""],
      ["", "replies delivered / accepted", `${int(st.warm.delivered)} / ${int(st.warm.accepted)}`, ""],
    );
  }
  const o = results.outbound;
  if (o) {
    rows.push(
      ["outbound", `sends/s (${int(o.messages)} messages)`, int(o.sendsPerSec), ratio(o.sendsPerSec, b?.requestsPerSec)],
      ["", "queued through the API/s", int(o.queuedPerSec), ratio(o.queuedPerSec, b?.requestsPerSec)],
      ["", "delivered / queued", `${int(o.delivered)} / ${int(o.messages)}`, ""],
      ["", "API errors", int(o.apiErrors), ""],
      ["", "CPU per message (ms)", ms(o.cpuMsPerMessage), ratio(o.cpuMsPerMessage, b?.cpuMsPerRequest)],
      ["", "peak RSS (MiB)", int(o.peakRssMiB), ratio(o.peakRssMiB, b?.peakRssMiB)],
    );
  }
  const smpp = results.smpp;
  if (smpp) {
    for (const w of smpp.outbound) {
      rows.push(
        [
          `smpp out, window ${w.window}`,
          `submit_sm/s (${int(w.messages)} messages, one bind)`,
          int(w.submitsPerSec),
          ratio(w.submitsPerSec, b?.requestsPerSec),
        ],
        ["", "queued through the API/s (bind held)", int(w.queuedPerSec), ratio(w.queuedPerSec, b?.requestsPerSec)],
        ["", "submitted / queued, duplicates", `${int(w.submitted)} / ${int(w.messages)}, ${int(w.duplicates)}`, ""],
        ...(w.apiErrors + w.resentUnconfirmed > 0
          ? [["", "API errors / resent unconfirmed", `${int(w.apiErrors)} / ${int(w.resentUnconfirmed)}`, ""] as Row]
          : []),
        ["", "CPU per message (ms)", ms(w.cpuMsPerMessage), ratio(w.cpuMsPerMessage, b?.cpuMsPerRequest)],
        ["", "peak RSS (MiB)", int(w.peakRssMiB), ratio(w.peakRssMiB, b?.peakRssMiB)],
      );
    }
    const m = smpp.mo;
    rows.push(
      ["smpp MO", `deliver_sm answered/s (${m.outstanding} unanswered at most)`, int(m.moPerSec), ratio(m.moPerSec, b?.requestsPerSec)],
      ["", `echo replies submitted/s (window ${m.window})`, int(m.repliesPerSec), ratio(m.repliesPerSec, b?.requestsPerSec)],
      ["", "answered / sent, refused", `${int(m.answered)} / ${int(m.sent)}, ${int(m.refused)}`, ""],
      ["", "replies / answered", `${int(m.replies)} / ${int(m.answered)}`, ""],
      ["", "reply backlog drained after the flood (ms)", int(m.drainMs), ""],
      ...(m.cut ? [["", `flood cut short: ${m.cut}`, "", ""] as Row] : []),
      ["", "end-to-end p50 / p99 (ms)", `${ms(m.endToEndMs.p50)} / ${ms(m.endToEndMs.p99)}`, ""],
      ["", "CPU per message (ms)", ms(m.cpuMsPerMessage), ratio(m.cpuMsPerMessage, b?.cpuMsPerRequest)],
      ["", "server CPU (cores)", m.serverCores.toFixed(2), ""],
      ["", "peak RSS (MiB)", int(m.peakRssMiB), ratio(m.peakRssMiB, b?.peakRssMiB)],
    );
  }
  const s = results.soak;
  if (s) {
    rows.push(
      [
        "soak",
        `RSS first / last / max (MiB, ${s.seconds} s at ${int(s.rate)} msg/s)`,
        `${s.firstMiB.toFixed(1)} / ${s.lastMiB.toFixed(1)} / ${s.maxMiB.toFixed(1)}`,
        "",
      ],
      ...(s.sustained ? [] : [["", `${int(s.rate)} msg/s not sustained: run stopped 2 s behind`, "", ""] as Row]),
      ["", "RSS slope whole run / second half (MiB/min)", `${s.slopeMiBPerMin.toFixed(2)} / ${s.secondHalfSlopeMiBPerMin.toFixed(2)}`, ""],
      ["", "replies delivered / accepted", `${int(s.delivered)} / ${int(s.accepted)}`, ""],
      ["", "200 latency p50 / p99 / max (ms)", `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p99)} / ${ms(s.latencyMs.max)}`, ""],
      ["", "end-to-end p50 / p99 (ms)", `${ms(s.endToEndMs.p50)} / ${ms(s.endToEndMs.p99)}`, ""],
      ["", "errors", pct(s.errorRate), ""],
    );
  }
  const { synchronous, code } = results.settings as { synchronous?: string; code?: string };
  const store = synchronous ? `server store: SQLite file, synchronous = ${synchronous.toUpperCase()}` : "";
  const runs = `server code: ${code === "sources" ? "TypeScript sources (--from sources)" : "dist/"} (start-up: always dist/); closed loop: ${closedLoopName(results)}, open loop: undici`;
  const issue = issueFigures(results);
  return [
    machineLine(results),
    store,
    runs,
    ...(issue.length > 0
      ? ["", "Issue 20 figures", render(["figure", "this run", "baseline", "floor (no code of ours)", "target"], issue, [1, 2, 3]), ""]
      : [""]),
    render(["scenario", "metric", "value", "× baseline"], rows, [2]),
  ].join("\n");
}

/** Columns padded to their widest cell, the `right` ones aligned right, under a header and a rule. */
function render(header: string[], rows: string[][], right: number[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The issue's six figures (figure, this run, the baseline's matching figure, target), as far as this run measured them. */
function issueFigures(results: Results): string[][] {
  const { baseline: b, inbound: i, fixedRate: f, steady: st, startup: up, storeFloor: sf, floor: fl } = results;
  const hello = b ? `hello world, ${closedLoopName(results)}` : "";
  const rows: string[][] = [];
  if (i) {
    const store = sf ? `; the store alone ${ms(sf.shared.cpuMsPerMessage)} ms` : "";
    rows.push([
      "server CPU per message, closed loop c=32",
      `${ms(i.cpuMsPerMessage)} ms`,
      b ? `${ms(b.cpuMsPerRequest)} ms (${hello})${store}` : "",
      fl ? `${ms(fl.closedLoop.cpuMsPerMessage)} ms` : "",
      "≤ 0.10 ms",
    ]);
  }
  if (st) {
    const store = sf ? `; the store alone, one at a time, ${ms(sf.alone.cpuMsPerMessage)} ms` : "";
    rows.push([
      `server CPU per message at a steady ${int(st.rate)} msg/s`,
      `${ms(st.warm.cpuMsPerMessage)} ms warm (${ms(st.cpuMsPerMessage)} in its first seconds)`,
      `${ms(st.helloCpuMsPerRequest)} ms (hello world at ${int(st.rate)} req/s)${store}`,
      fl ? `${ms(fl.steady.cpuMsPerMessage)} ms at ${int(fl.steady.rate)} msg/s` : "",
      "≤ 0.30 ms",
    ]);
  }
  if (i) {
    rows.push([
      "full loop, closed loop c=32 (replies delivered/s)",
      `${int(i.repliesPerSec)} msg/s`,
      b ? `${int(b.requestsPerSec)} req/s (${hello})` : "",
      fl ? `${int(fl.closedLoop.repliesPerSec)} msg/s` : "",
      "≥ 12,000 msg/s",
    ]);
  }
  if (f) {
    rows.push([
      `at ${int(f.rate)} msg/s: 200 latency p99 / end-to-end p99`,
      `${ms(f.latencyMs.p99)} / ${ms(f.endToEndMs.p99)} ms`,
      b ? `${ms(b.fixedRate.latencyMs.p99)} ms / – (hello world at ${int(b.fixedRate.rate)} req/s)` : "",
      fl ? `${ms(fl.fixedRate.latencyMs.p99)} / ${ms(fl.fixedRate.endToEndMs.p99)} ms at ${int(fl.fixedRate.rate)} msg/s` : "",
      "≤ 5 / ≤ 10 ms",
    ]);
  }
  if (up) {
    rows.push([
      "start → first 200 of a real message",
      `${ms(up.fresh.firstOkMs.median)} ms (median; max ${ms(up.fresh.firstOkMs.max)}; fresh database)`,
      `${ms(up.baselineFirstOkMs.median)} ms (hello world)`,
      fl ? `${ms(fl.firstOkMs)} ms (one start)` : "",
      "≤ 250 ms",
    ]);
  }
  const peaks = [i?.peakRssMiB, f?.peakRssMiB, st?.peakRssMiB].filter((peak) => peak !== undefined);
  if (up && peaks.length > 0) {
    rows.push([
      "idle RSS / peak RSS under load",
      `${ms(up.fresh.idleRssMiB.median)} / ${ms(Math.max(...peaks))} MiB`,
      b ? `– / ${ms(b.peakRssMiB)} MiB (hello world)` : "",
      fl ? `${ms(fl.idleRssMiB)} / ${ms(fl.peakRssMiB)} MiB` : "",
      "≤ 80 / ≤ 140 MiB",
    ]);
  }
  return rows;
}

/**
 * What must hold for the numbers to mean anything; never a speed threshold. Every number must be
 * finite, throughput positive, errors at most 1 %, and (nearly) every reply delivered.
 */
export function sanityFailures(results: Results): string[] {
  const failed: string[] = [];
  const visit = (value: unknown, path: string) => {
    if (typeof value === "number" && !Number.isFinite(value)) failed.push(`${path} is ${value}`);
    else if (value && typeof value === "object") for (const [key, inner] of Object.entries(value)) visit(inner, `${path}.${key}`);
  };
  const { machine: _machine, settings: _settings, mode: _mode, ...measured } = results;
  visit(measured, "results");
  const check = (ok: boolean, what: string) => ok || failed.push(what);
  const { baseline: b, inbound: i, fixedRate: f, outbound: o, smpp, soak: s, steady: st, startup: up, storeFloor: sf, floor: fl } = results;
  if (fl) {
    for (const [name, load] of [
      ["closed loop", fl.closedLoop],
      ["fixed rate", fl.fixedRate],
      ["steady", fl.steady],
    ] as const) {
      check(load.accepted > 0 && load.cpuMsPerMessage > 0, `floor, ${name}: zero throughput or no CPU`);
      check(load.errorRate <= 0.01, `floor, ${name}: ${pct(load.errorRate)} errors`);
      check(load.delivered >= 0.99 * load.accepted, `floor, ${name}: only ${load.delivered} of ${load.accepted} replies reached the gateway`);
    }
    check(fl.firstOkMs > 0 && fl.idleRssMiB > 0, "floor: no start time or no RSS");
  }
  if (sf) {
    for (const pass of [sf.shared, sf.alone])
      check(pass.messagesPerSec > 0 && pass.cpuMsPerMessage > 0, `store alone, ${pass.concurrency} at a time: zero throughput or no CPU`);
  }
  if (up) {
    for (const [kind, figures] of [
      ["fresh", up.fresh],
      ["restart", up.restart],
    ] as const) {
      check(figures.firstOkMs.median > 0 && figures.listeningMs.median > 0, `startup ${kind}: no start time`);
      check(figures.firstReplyMs.median >= figures.firstOkMs.median, `startup ${kind}: the echo reply came before the 200`);
      check(figures.idleRssMiB.median > 0 && figures.peakRssMiB.max > 0, `startup ${kind}: no RSS`);
    }
    check(up.baselineFirstOkMs.median > 0, "startup: no hello world start time");
  }
  if (st) {
    check(st.achievedPerSec > 0 && st.cpuMsPerMessage > 0, "steady: zero throughput or no CPU");
    check(st.idleCpuMsPerSec >= 0, "steady: negative idle CPU");
    check(st.helloCpuMsPerRequest > 0, "steady: the hello world used no CPU");
    check(st.errorRate === 0, `steady: ${pct(st.errorRate)} errors`);
    check(st.delivered >= st.accepted, `steady: only ${st.delivered} of ${st.accepted} replies reached the gateway`);
    check(st.rssMiB > 0 && st.peakRssMiB > 0, "steady: no RSS");
    check(st.warm.cpuMsPerMessage > 0 && st.warm.sustained, "steady, warm: no CPU, or the rate not sustained");
    check(st.warm.errorRate === 0, `steady, warm: ${pct(st.warm.errorRate)} errors`);
    check(st.warm.delivered >= st.warm.accepted, `steady, warm: only ${st.warm.delivered} of ${st.warm.accepted} replies reached the gateway`);
  }
  if (b) {
    check(b.requestsPerSec > 0, "baseline: no requests answered");
    check(b.errorRate <= 0.01, `baseline: ${pct(b.errorRate)} errors`);
  }
  if (i) {
    check(i.acceptedPerSec > 0 && i.repliesPerSec > 0, "inbound: zero throughput");
    check(i.errorRate <= 0.01, `inbound: ${pct(i.errorRate)} errors`);
    check(i.delivered >= 0.99 * i.accepted, `inbound: only ${i.delivered} of ${i.accepted} replies reached the gateway`);
  }
  if (f) {
    check(f.achievedPerSec > 0, "fixed rate: zero throughput");
    check(f.errorRate <= 0.01, `fixed rate: ${pct(f.errorRate)} errors`);
    check(f.delivered >= 0.99 * f.accepted, `fixed rate: only ${f.delivered} of ${f.accepted} replies reached the gateway`);
  }
  if (o) {
    check(o.sendsPerSec > 0, "outbound: zero throughput");
    check(o.apiErrors <= 0.01 * (o.messages / 100), `outbound: ${o.apiErrors} API errors`);
    check(o.delivered >= o.messages, `outbound: only ${o.delivered} of ${o.messages} identities reached the gateway`);
  }
  if (smpp) {
    for (const w of smpp.outbound) {
      check(w.submitsPerSec > 0, `smpp window ${w.window}: zero throughput`);
      check(w.apiErrors === 0, `smpp window ${w.window}: ${w.apiErrors} API errors`);
      check(
        w.submitted - w.duplicates >= w.messages,
        `smpp window ${w.window}: only ${w.submitted - w.duplicates} of ${w.messages} identities reached the SMSC`,
      );
    }
    const m = smpp.mo;
    check(m.moPerSec > 0 && m.repliesPerSec > 0, "smpp MO: zero throughput");
    check(m.cut === undefined, `smpp MO: ${m.cut}`);
    check(m.answered === m.sent && m.refused === 0, `smpp MO: ${m.answered} of ${m.sent} deliver_sm answered, ${m.refused} refused`);
    check(m.replies >= m.answered, `smpp MO: only ${m.replies} of ${m.answered} echo replies reached the SMSC`);
  }
  if (s) {
    check(s.samples.length >= 2, "soak: fewer than two RSS samples");
    check(s.errorRate <= 0.01, `soak: ${pct(s.errorRate)} errors`);
    check(s.delivered >= 0.99 * s.accepted, `soak: only ${s.delivered} of ${s.accepted} replies reached the gateway`);
  }
  return failed;
}

export function writeJson(path: string, results: Results): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
