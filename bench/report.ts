import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BaselineResult, FixedRateResult, InboundResult, OutboundResult, SoakResult } from "./scenarios.ts";
import type { SmppResult } from "./smpp.ts";

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
  baseline?: BaselineResult;
  inbound?: InboundResult;
  fixedRate?: FixedRateResult;
  outbound?: OutboundResult;
  smpp?: SmppResult;
  soak?: SoakResult;
  checks?: { failed: string[] };
}

type Row = [scenario: string, metric: string, value: string, ratio: string];

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : String(n));
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : String(n));
const pct = (n: number) => `${(n * 100).toFixed(2)} %`;
const ratio = (value: number, base: number | undefined) => (base === undefined || !Number.isFinite(value / base) ? "" : `${(value / base).toFixed(2)}×`);

export function machineLine({ machine }: Results): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}, ${machine.date}, load average ${machine.loadAverage.before.toFixed(2)} before / ${machine.loadAverage.after.toFixed(2)} after`;
}

/** The results as a plain-text table; the last column is each figure divided by the baseline's matching figure. */
export function table(results: Results): string {
  const b = results.baseline;
  const rows: Row[] = [];
  if (b) {
    rows.push(
      ["baseline", "node:http hello req/s", int(b.requestsPerSec), "1.00×"],
      ["", "latency p50 / p99 / max (ms)", `${ms(b.latencyMs.p50)} / ${ms(b.latencyMs.p99)} / ${ms(b.latencyMs.max)}`, ""],
      ["", `latency at ${int(b.fixedRate.rate)} req/s p50 / p99 (ms)`, `${ms(b.fixedRate.latencyMs.p50)} / ${ms(b.fixedRate.latencyMs.p99)}`, ""],
      ...(b.fixedRate.sustained ? [] : [["", `${int(b.fixedRate.rate)} req/s not sustained: run stopped 2 s behind`, "", ""] as Row]),
      ["", "CPU per request (ms)", ms(b.cpuMsPerRequest), ""],
      ["", "server / load generator CPU (cores)", `${b.serverCores.toFixed(2)} / ${b.loadgenCores.toFixed(2)}`, ""],
      ["", "peak RSS (MiB)", int(b.peakRssMiB), ""],
    );
  }
  const i = results.inbound;
  if (i) {
    rows.push(
      ["inbound", "accepted msg/s", int(i.acceptedPerSec), ratio(i.acceptedPerSec, b?.requestsPerSec)],
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
      ["", "end-to-end p50 / p99 (ms)", `${ms(i.endToEndMs.p50)} / ${ms(i.endToEndMs.p99)}`, ""],
      ["", "errors", pct(i.errorRate), ""],
      ["", "CPU per message (ms)", ms(i.cpuMsPerMessage), ratio(i.cpuMsPerMessage, b?.cpuMsPerRequest)],
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
  const all: Row[] = [["scenario", "metric", "value", "× baseline"], ...rows];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...all.map((row) => row[c].length)));
  const line = (row: Row) =>
    row
      .map((cell, c) => (c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  const synchronous = (results.settings as { synchronous?: string }).synchronous;
  const store = synchronous ? `server store: SQLite file, synchronous = ${synchronous.toUpperCase()}` : "";
  return [machineLine(results), store, "", line(all[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
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
  const { baseline: b, inbound: i, fixedRate: f, outbound: o, smpp, soak: s } = results;
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
