import type { Metric } from "prom-client";

/**
 * Counters and histograms for the hot paths. prom-client's own hash and validate their labels on
 * every `inc` and `observe`, a child's too (about 1 µs each, measured); these keep plain numbers
 * in children made once per label combination, and hand prom-client's registry the values at
 * scrape time (as a metric of its own kind: `get()` returns what the registry formats).
 */
type Labels = Record<string, string>;

/** Children by their first and second label values, without building a key string per call. */
class Children<Child> {
  private readonly made = new Map<string, Map<string, Child>>();
  readonly all: Child[] = [];
  private readonly make: (a: string, b: string) => Child;

  constructor(make: (a: string, b: string) => Child) {
    this.make = make;
  }

  get(a: string, b: string): Child {
    let row = this.made.get(a);
    if (!row) {
      row = new Map();
      this.made.set(a, row);
    }
    let child = row.get(b);
    if (!child) {
      child = this.make(a, b);
      row.set(b, child);
      this.all.push(child);
    }
    return child;
  }
}

interface SeriesConfig {
  name: string;
  help: string;
  /** One or two label names. */
  labelNames: readonly [string] | readonly [string, string];
}

function labelsOf(names: SeriesConfig["labelNames"], a: string, b: string): Labels {
  return names.length === 1 ? { [names[0]]: a } : { [names[0]]: a, [names[1]]: b };
}

export class CounterChild {
  readonly labels: Labels;
  value = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }

  inc(): void {
    this.value++;
  }
}

export class LabelledCounter {
  readonly name: string;
  readonly help: string;
  private readonly children: Children<CounterChild>;

  constructor(config: SeriesConfig) {
    this.name = config.name;
    this.help = config.help;
    this.children = new Children((a, b) => new CounterChild(labelsOf(config.labelNames, a, b)));
  }

  child(a: string, b = ""): CounterChild {
    return this.children.get(a, b);
  }

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: "counter",
      aggregator: "sum",
      values: this.children.all.map((c) => ({ labels: c.labels, value: c.value })),
    };
  }
}

export class HistogramChild {
  readonly labels: Labels;
  private readonly bounds: readonly number[];
  /** Per bucket, not cumulative; a value above the last bound is in `count` only (+Inf). */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export class LabelledHistogram {
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly children: Children<HistogramChild>;

  constructor(config: SeriesConfig & { buckets: readonly number[] }) {
    this.name = config.name;
    this.help = config.help;
    this.bounds = [...config.buckets].sort((x, y) => x - y);
    this.children = new Children((a, b) => new HistogramChild(labelsOf(config.labelNames, a, b), this.bounds));
  }

  child(a: string, b = ""): HistogramChild {
    return this.children.get(a, b);
  }

  async get() {
    const values: { labels: Labels; value: number; metricName: string }[] = [];
    for (const child of this.children.all) {
      let cumulative = 0;
      for (const [i, bound] of this.bounds.entries()) {
        cumulative += child.counts[i];
        values.push({ labels: { ...child.labels, le: String(bound) }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...child.labels, le: "+Inf" }, value: child.count, metricName: `${this.name}_bucket` });
      values.push({ labels: child.labels, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels: child.labels, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: "histogram", aggregator: "sum", values };
  }
}

/** The registry formats any metric whose `get()` answers as prom-client's do; its types name only its own classes. */
export function asPromMetric(series: LabelledCounter | LabelledHistogram): Metric {
  return series as unknown as Metric;
}
