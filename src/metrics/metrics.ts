import type { Gauge, Registry } from "prom-client";
import { asPromMetric, type HistogramChild, LabelledCounter, LabelledHistogram } from "./series.ts";
import type { QueueDepth } from "../store/store.ts";
import type { QueueJobCount } from "../queue/queue.ts";

/** What a backend's inbound request came to: stored, a gateway id seen before, a bad request (400), a bad token or signature (401/403). */
export type InboundOutcome = "accepted" | "duplicate" | "invalid" | "refused";
/** A processed inbound message: R, E (given up), or back to the queue to try again. */
export type ProcessedStatus = "R" | "E" | "retry";
/** A transmission's send attempt as recorded. */
export type SendOutcomeLabel = "sent" | "retry" | "failed" | "opted_out";
/** A delivery report: the status it carried when it matched a transmission, or why it did not. */
export type ReportLabel = "D" | "E" | "S" | "unmatched" | "kept";

/** What a scrape reads besides the counters: the store's backlog and the queue's own counts. */
export interface MetricSources {
  queueDepth(): Promise<QueueDepth>;
  /** Absent for a queue that has none to give. */
  queueJobs?: () => Promise<QueueJobCount[]>;
}

/**
 * The numbers a system keeps for Prometheus. The pipeline, the backends' port and the server call
 * these narrow methods; with metrics off they are no-ops (`NoMetrics`), so callers never branch.
 */
export interface Metrics {
  readonly enabled: boolean;
  inbound(backend: string, outcome: InboundOutcome): void;
  processed(status: ProcessedStatus): void;
  /** One transmission's attempt; `latencySeconds` from its claim to its outcome being recorded. */
  sent(backend: string, outcome: SendOutcomeLabel, latencySeconds: number): void;
  /** How long one `backend.send()` call took to answer (or fail, or time out). */
  gatewayAnswer(backend: string, seconds: number): void;
  report(backend: string, label: ReportLabel): void;
  /** An observer of one store method's latency, made once per method. */
  storeTimer(method: string): (seconds: number) => void;
  /** Where the scrape-time gauges come from; set once the store and queue are open. */
  watch(sources: MetricSources): void;
  /** The text exposition, read within `timeoutMs` (sources that take longer are marked down). */
  render(timeoutMs?: number): Promise<{ contentType: string; body: string }>;
}

/** Metrics off: every method does nothing. */
export class NoMetrics implements Metrics {
  readonly enabled = false;
  inbound(): void {}
  processed(): void {}
  sent(): void {}
  gatewayAnswer(): void {}
  report(): void {}
  storeTimer(): (seconds: number) => void {
    return () => {};
  }
  watch(): void {}
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: "text/plain; charset=utf-8", body: "" };
  }
}

/** From a local gateway's few ms to the 30 s a slow one may take before the send's deadline. */
export const GATEWAY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A claim waits its turn (pacing, earlier sends to the same people) besides the gateway's time. */
export const SEND_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** A store call: a fraction of a ms on SQLite to seconds on a database that struggles. */
export const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const DEFAULT_SCRAPE_TIMEOUT_MS = 2_000;

export interface PrometheusMetricsOptions {
  /** This process's role, a label on every series: processes of one deployment each serve their own. */
  role: string;
  /** The Node process metrics (`process_*`, `nodejs_*`); default true. */
  processMetrics?: boolean;
}

/** What a scrape needs of prom-client: a registry of its own with the gauges read at scrape time. */
interface Exposition {
  registry: Registry;
  inboundQueued: Gauge;
  inboundOldest: Gauge;
  transmissionsDue: Gauge;
  oldestDue: Gauge;
  queueJobs: Gauge<"queue" | "state">;
  sourceUp: Gauge<"source">;
}

/**
 * The metrics of one system, in a registry of its own (never prom-client's global one). The hot
 * paths count into series of RapidSMS's own (series.ts); prom-client, which formats them with the
 * gauges and the process metrics, is loaded at the first scrape. It and the OpenTelemetry API it
 * imports are some 90 modules, a tenth of a start's loading, for a server that may never be scraped.
 */
export class PrometheusMetrics implements Metrics {
  readonly enabled = true;
  private readonly options: PrometheusMetricsOptions;
  private sources: MetricSources | undefined;
  private exposition: Promise<Exposition> | undefined;
  private readonly inboundTotal: LabelledCounter;
  private readonly processedTotal: LabelledCounter;
  private readonly sendsTotal: LabelledCounter;
  private readonly sendLatency: LabelledHistogram;
  private readonly gatewaySeconds: LabelledHistogram;
  private readonly reportsTotal: LabelledCounter;
  private readonly storeSeconds: LabelledHistogram;

  constructor(options: PrometheusMetricsOptions) {
    this.options = options;
    this.inboundTotal = new LabelledCounter({
      name: "rapidsms_inbound_requests_total",
      help: "Inbound messages and requests to the backends' views, by backend and outcome (accepted, duplicate, invalid, refused)",
      labelNames: ["backend", "outcome"],
    });
    this.processedTotal = new LabelledCounter({
      name: "rapidsms_messages_processed_total",
      help: "Inbound messages processed by the apps, by status: R done, retry (failed, to be tried again), E given up",
      labelNames: ["status"],
    });
    this.sendsTotal = new LabelledCounter({
      name: "rapidsms_sends_total",
      help: "Send attempts of transmissions, by backend and outcome (sent, retry, failed, opted_out)",
      labelNames: ["backend", "outcome"],
    });
    this.sendLatency = new LabelledHistogram({
      name: "rapidsms_send_latency_seconds",
      help: "From a transmission's claim by a sender to its outcome being recorded (waiting its turn, the gateway, the store)",
      labelNames: ["backend"],
      buckets: SEND_LATENCY_BUCKETS,
    });
    this.gatewaySeconds = new LabelledHistogram({
      name: "rapidsms_gateway_answer_seconds",
      help: "How long a backend's send call took to answer (success, failure or timeout), once per call",
      labelNames: ["backend"],
      buckets: GATEWAY_BUCKETS,
    });
    this.reportsTotal = new LabelledCounter({
      name: "rapidsms_delivery_reports_total",
      help: "Delivery reports received, by backend and status (D, E, S; unmatched; kept until the send's answer names its id)",
      labelNames: ["backend", "status"],
    });
    this.storeSeconds = new LabelledHistogram({
      name: "rapidsms_store_call_seconds",
      help: "Store calls' latency, by store method",
      labelNames: ["method"],
      buckets: STORE_BUCKETS,
    });
  }

  private async expose(): Promise<Exposition> {
    const { collectDefaultMetrics, Gauge, Registry } = await import("prom-client");
    const registry = new Registry();
    const registers = [registry];
    registry.setDefaultLabels({ role: this.options.role });
    // The event-loop lag is sampled by a timer: at prom-client's default of every 10 ms, it was nine
    // in ten of an idle server's wake-ups. Every 100 ms still shows the stalls worth an alert.
    if (this.options.processMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    for (const series of [this.inboundTotal, this.processedTotal, this.sendsTotal, this.sendLatency, this.gatewaySeconds, this.reportsTotal, this.storeSeconds])
      registry.registerMetric(asPromMetric(series));
    return {
      registry,
      inboundQueued: new Gauge({ name: "rapidsms_inbound_queued", help: "Inbound messages accepted and not yet processed (read at scrape)", registers }),
      inboundOldest: new Gauge({
        name: "rapidsms_inbound_oldest_seconds",
        help: "Age of the oldest inbound message accepted and not yet processed; 0 when there is none",
        registers,
      }),
      transmissionsDue: new Gauge({
        name: "rapidsms_transmissions_due",
        help: "Outbound transmissions due now: queued and due, or claimed by a worker whose lease ran out (read at scrape)",
        registers,
      }),
      oldestDue: new Gauge({
        name: "rapidsms_transmissions_oldest_due_seconds",
        help: "How long the transmission due the longest has been due; 0 when none is",
        registers,
      }),
      queueJobs: new Gauge({
        name: "rapidsms_queue_jobs",
        help: "The queue's own counts by queue and state: BullMQ's waiting, active, delayed, failed; the embedded queue's places active and free in this process",
        labelNames: ["queue", "state"],
        registers,
      }),
      sourceUp: new Gauge({
        name: "rapidsms_metrics_source_up",
        help: "1 when the scrape read this source (store, queue) in time, else 0 (its gauges are NaN then)",
        labelNames: ["source"],
        registers,
      }),
    };
  }

  inbound(backend: string, outcome: InboundOutcome): void {
    this.inboundTotal.child(backend, outcome).inc();
  }

  processed(status: ProcessedStatus): void {
    this.processedTotal.child(status).inc();
  }

  sent(backend: string, outcome: SendOutcomeLabel, latencySeconds: number): void {
    this.sendsTotal.child(backend, outcome).inc();
    this.sendLatency.child(backend).observe(latencySeconds);
  }

  gatewayAnswer(backend: string, seconds: number): void {
    this.gatewaySeconds.child(backend).observe(seconds);
  }

  report(backend: string, label: ReportLabel): void {
    this.reportsTotal.child(backend, label).inc();
  }

  storeTimer(method: string): (seconds: number) => void {
    const child: HistogramChild = this.storeSeconds.child(method);
    return (seconds) => child.observe(seconds);
  }

  watch(sources: MetricSources): void {
    this.sources = sources;
  }

  async render(timeoutMs = DEFAULT_SCRAPE_TIMEOUT_MS): Promise<{ contentType: string; body: string }> {
    this.exposition ??= this.expose();
    const exposition = await this.exposition;
    await this.readSources(exposition, timeoutMs);
    return { contentType: exposition.registry.contentType, body: await exposition.registry.metrics() };
  }

  /** Both sources at once, each within the deadline: a store or Redis that hangs must not hang the scrape. */
  private async readSources(gauges: Exposition, timeoutMs: number): Promise<void> {
    const sources = this.sources;
    if (!sources) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    const inTime = <T>(read: () => Promise<T>) => Promise.race([read().catch(() => "late" as const), late]);
    const [depth, jobs] = await Promise.all([inTime(() => sources.queueDepth()), sources.queueJobs ? inTime(sources.queueJobs) : undefined]);
    clearTimeout(timer);
    const { inboundQueued, inboundOldest, transmissionsDue, oldestDue, queueJobs, sourceUp } = gauges;
    if (depth === "late") {
      sourceUp.labels("store").set(0);
      for (const gauge of [inboundQueued, inboundOldest, transmissionsDue, oldestDue]) gauge.set(Number.NaN);
    } else {
      sourceUp.labels("store").set(1);
      inboundQueued.set(depth.inboundQueued);
      inboundOldest.set(depth.inboundOldestSeconds);
      transmissionsDue.set(depth.transmissionsDue);
      oldestDue.set(depth.oldestDueSeconds);
    }
    if (jobs === undefined) return;
    queueJobs.reset();
    if (jobs === "late") {
      sourceUp.labels("queue").set(0);
      return;
    }
    sourceUp.labels("queue").set(1);
    for (const { queue, state, count } of jobs) queueJobs.labels(queue, state).set(count);
  }
}

/** A system's metrics: Prometheus's when `enabled`, else the no-op. */
export function createMetrics(enabled: boolean, options: PrometheusMetricsOptions): Metrics {
  return enabled ? new PrometheusMetrics(options) : new NoMetrics();
}
