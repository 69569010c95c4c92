// An in-process ring of metric samples for the console's charts and live rates: every `intervalMs` it reads
// the pipeline's own series (tusk_*, not the process or span-metrics ones) from the Prometheus registry and
// keeps the last `windowMs` of them. No extra database; memory is bounded by samples x series.

import type { Registry } from 'prom-client';

/** Labels of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One sample: when, and the value of every series at that time. */
interface Sample {
  readonly t: number;
  readonly values: Map<string, number>;
}

/** A series as the ring knows it. */
interface SeriesInfo {
  readonly name: string;
  readonly labels: Labels;
}

/** A point of a rate or gauge chart: unix ms and value. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

/** Options of a MetricsRing. */
export interface MetricsRingOptions {
  /** Sampling period, ms. Default 5000. */
  readonly intervalMs?: number;
  /** How much history is kept, ms. Default 15 minutes. */
  readonly windowMs?: number;
  /** Which metric names are sampled. Default: tusk_* except tusk_process_*. */
  readonly include?: (name: string) => boolean;
  /** Upper bound on distinct series (new ones beyond it are ignored). Default 5000. */
  readonly maxSeries?: number;
  readonly now?: () => number;
}

export const DEFAULT_RING_INTERVAL_MS = 5000;
export const DEFAULT_RING_WINDOW_MS = 15 * 60 * 1000;

const defaultInclude = (name: string) => name.startsWith('tusk_') && !name.startsWith('tusk_process_');

function seriesKey(name: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
  return `${name}{${parts.join(',')}}`;
}

/** MetricsRing samples a prom-client registry into a bounded in-memory history. stop() is idempotent. */
export class MetricsRing {
  private readonly _samples: Sample[] = [];
  private readonly _series = new Map<string, SeriesInfo>();
  private readonly _intervalMs: number;
  private readonly _windowMs: number;
  private readonly _include: (name: string) => boolean;
  private readonly _maxSeries: number;
  private readonly _now: () => number;
  private _timer?: NodeJS.Timeout;
  private _sampling?: Promise<void>;

  constructor(
    private readonly _registry: Registry,
    opts: MetricsRingOptions = {},
  ) {
    this._intervalMs = opts.intervalMs ?? DEFAULT_RING_INTERVAL_MS;
    this._windowMs = opts.windowMs ?? DEFAULT_RING_WINDOW_MS;
    this._include = opts.include ?? defaultInclude;
    this._maxSeries = opts.maxSeries ?? 5000;
    this._now = opts.now ?? Date.now;
  }

  /** The sampling period, ms. */
  get intervalMs(): number {
    return this._intervalMs;
  }

  /** start takes a first sample now and then one per interval (the timer does not keep the process alive). */
  start(): void {
    if (this._timer) return;
    void this.sample();
    this._timer = setInterval(() => void this.sample(), this._intervalMs);
    this._timer.unref();
  }

  stop(): void {
    if (this._timer) clearInterval(this._timer);
    this._timer = undefined;
  }

  /** sample reads the registry once (exposed for tests); concurrent calls share one read. */
  sample(): Promise<void> {
    this._sampling ??= this._read().finally(() => (this._sampling = undefined));
    return this._sampling;
  }

  private async _read(): Promise<void> {
    const values = new Map<string, number>();
    for (const { name } of this._registry.getMetricsAsArray()) {
      const metric = this._include(name) ? this._registry.getSingleMetric(name) : undefined;
      if (metric === undefined) continue;
      const data = await metric.get();
      for (const v of data.values) {
        const seriesName = (v as { metricName?: string }).metricName ?? name;
        // Of a histogram only the buckets and the count are kept (quantiles and rates come from them).
        if (seriesName.endsWith('_sum')) continue;
        const labels: Record<string, string> = {};
        for (const [k, x] of Object.entries(v.labels)) if (x !== undefined) labels[k] = String(x);
        const key = seriesKey(seriesName, labels);
        if (!this._series.has(key)) {
          if (this._series.size >= this._maxSeries) continue;
          this._series.set(key, { name: seriesName, labels });
        }
        values.set(key, v.value);
      }
    }
    const t = this._now();
    this._samples.push({ t, values });
    while (this._samples.length > 0 && this._samples[0].t < t - this._windowMs) this._samples.shift();
  }

  /** Number of samples held. */
  get size(): number {
    return this._samples.length;
  }

  private _keys(name: string, match: (l: Labels) => boolean): string[] {
    const out: string[] = [];
    for (const [key, s] of this._series) if (s.name === name && match(s.labels)) out.push(key);
    return out;
  }

  /** has tells whether any series of `name` matching `match` was ever sampled. */
  has(name: string, match: (l: Labels) => boolean = () => true): boolean {
    return this._keys(name, match).length > 0;
  }

  /** latest sums the newest values of the matching series (a gauge now); 0 when none. */
  latest(name: string, match: (l: Labels) => boolean = () => true): number {
    const last = this._samples[this._samples.length - 1];
    if (!last) return 0;
    let sum = 0;
    for (const k of this._keys(name, match)) sum += last.values.get(k) ?? 0;
    return sum;
  }

  /** latestBy lists the newest value of each matching series with its labels. */
  latestBy(name: string, match: (l: Labels) => boolean = () => true): Array<{ labels: Labels; value: number }> {
    const last = this._samples[this._samples.length - 1];
    if (!last) return [];
    return this._keys(name, match).map((k) => ({
      labels: this._series.get(k)!.labels,
      value: last.values.get(k) ?? 0,
    }));
  }

  /** rate is the per-second increase of the matching counters over the last `windowMs` (default two intervals). */
  rate(name: string, match: (l: Labels) => boolean = () => true, windowMs = 2 * this._intervalMs): number {
    const n = this._samples.length;
    if (n < 2) return 0;
    const last = this._samples[n - 1];
    let first = this._samples[n - 2];
    for (let i = n - 2; i >= 0 && this._samples[i].t >= last.t - windowMs; i--) first = this._samples[i];
    return this._between(this._keys(name, match), first, last);
  }

  /** rateSeries is the per-second increase of the matching counters between consecutive samples. */
  rateSeries(name: string, match: (l: Labels) => boolean = () => true): Point[] {
    const keys = this._keys(name, match);
    const out: Point[] = [];
    for (let i = 1; i < this._samples.length; i++)
      out.push({ t: this._samples[i].t, v: this._between(keys, this._samples[i - 1], this._samples[i]) });
    return out;
  }

  /** gaugeSeries is the sum of the matching gauges at every sample. */
  gaugeSeries(name: string, match: (l: Labels) => boolean = () => true): Point[] {
    const keys = this._keys(name, match);
    return this._samples.map((s) => ({ t: s.t, v: keys.reduce((sum, k) => sum + (s.values.get(k) ?? 0), 0) }));
  }

  /**
   * quantile estimates a quantile (0..1) of a histogram from its bucket increases over `windowMs`, or undefined
   * when nothing was observed in the window. `name` is the histogram's base name.
   */
  quantile(name: string, q: number, match: (l: Labels) => boolean = () => true, windowMs = 60_000): number | undefined {
    const n = this._samples.length;
    if (n < 2) return undefined;
    const last = this._samples[n - 1];
    let first = this._samples[n - 2];
    for (let i = n - 2; i >= 0 && this._samples[i].t >= last.t - windowMs; i--) first = this._samples[i];
    const byLe = new Map<number, number>();
    for (const k of this._keys(`${name}_bucket`, match)) {
      const le = Number(this._series.get(k)!.labels.le === '+Inf' ? Infinity : this._series.get(k)!.labels.le);
      const inc = Math.max(0, (last.values.get(k) ?? 0) - (first.values.get(k) ?? 0));
      byLe.set(le, (byLe.get(le) ?? 0) + inc);
    }
    const bounds = [...byLe.keys()].sort((a, b) => a - b);
    const total = bounds.length > 0 ? byLe.get(bounds[bounds.length - 1])! : 0;
    if (total <= 0) return undefined;
    const rank = q * total;
    let prevBound = 0;
    let prevCount = 0;
    for (const b of bounds) {
      const c = byLe.get(b)!;
      if (c >= rank) {
        if (b === Infinity) return prevBound;
        // Linear interpolation inside the bucket, as Prometheus' histogram_quantile does.
        return c === prevCount ? b : prevBound + ((b - prevBound) * (rank - prevCount)) / (c - prevCount);
      }
      prevBound = b;
      prevCount = c;
    }
    return prevBound;
  }

  private _between(keys: readonly string[], a: Sample, b: Sample): number {
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) return 0;
    let inc = 0;
    for (const k of keys) {
      const x = b.values.get(k) ?? 0;
      const y = a.values.get(k) ?? 0;
      inc += x >= y ? x - y : x; // a counter that went down was reset: count what it has now
    }
    return inc / dt;
  }
}
