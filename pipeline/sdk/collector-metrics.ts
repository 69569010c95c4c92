// The OpenTelemetry Collector's own metric names (otelcol_*), so that dashboards and alerts written for the
// Collector work unchanged. Each Collector-named metric is derived at scrape time from one of our tusk_*
// series (a prom-client collect hook): nothing is counted twice on the hot path. The receiver and exporter
// conventions are declared here; a component with metrics of its own (the tail sampler) declares its mapping
// with declareCollectorMetrics when it registers them. Names, label names and help texts are those the
// Collector's Prometheus endpoint writes (docs/metrics.md lists each one and its source).

import { Counter, Gauge, type Registry } from 'prom-client';
import { registeredMetric } from './metrics';

/** SampleLabels are the labels of one sample of a source metric. */
export type SampleLabels = Readonly<Partial<Record<string, string | number>>>;

/** DerivedSample is one sample of a Collector-named metric. */
export interface DerivedSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** SourceSample is one sample of a source metric. */
export interface SourceSample {
  readonly labels: SampleLabels;
  readonly value: number;
}

/** CollectorMetric declares one Collector-named metric and how it follows from one of our metrics. */
export interface CollectorMetric {
  /** The name as the Collector's Prometheus endpoint writes it (counters end in `_total`). */
  readonly name: string;
  /** The Collector's help text. */
  readonly help: string;
  /** A counter is derived from a counter, a gauge from a gauge. */
  readonly type: 'counter' | 'gauge';
  /** The tusk_* metric it is derived from, on the same registry. */
  readonly source: string;
  /** Label names of the derived metric. Without `labels`, each copies the source sample's label of that name. */
  readonly labelNames: readonly string[];
  /** Computes the derived labels of a source sample when they are not plain copies. */
  readonly labels?: (source: SampleLabels) => Record<string, string>;
  /**
   * Which source samples count (default: all). A sample that does not still gives its label set a series
   * at 0, as the Collector writes e.g. refused spans = 0 beside the accepted ones.
   */
  readonly where?: (source: SampleLabels) => boolean;
}

/**
 * deriveSamples computes a Collector-named metric from the samples of its source: each sample's labels are
 * mapped, the samples `where` leaves out count 0, and samples that map to the same labels are summed.
 */
export function deriveSamples(metric: CollectorMetric, samples: readonly SourceSample[]): DerivedSample[] {
  const out = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const s of samples) {
    const labels =
      metric.labels?.(s.labels) ??
      Object.fromEntries(metric.labelNames.map((n) => [n, String(s.labels[n] ?? '')] as const));
    const key = JSON.stringify(metric.labelNames.map((n) => labels[n] ?? ''));
    const row = out.get(key) ?? { labels, value: 0 };
    if (metric.where === undefined || metric.where(s.labels)) row.value += s.value;
    out.set(key, row);
  }
  return [...out.values()];
}

async function sourceSamples(registry: Registry, name: string): Promise<SourceSample[]> {
  const source = registry.getSingleMetric(name);
  if (source === undefined) return [];
  return (await source.get()).values;
}

/**
 * declareCollectorMetrics registers the Collector-named `metrics` on `registry`, each computed from its
 * source when the registry is scraped. A name already registered is kept, so every instance of a
 * component may declare the same list.
 */
export function declareCollectorMetrics(registry: Registry, metrics: readonly CollectorMetric[]): void {
  const registers = [registry];
  for (const m of metrics) {
    const { name, help } = m;
    const labelNames = [...m.labelNames];
    registeredMetric(registry, name, () =>
      m.type === 'counter'
        ? new Counter({
            name,
            help,
            labelNames,
            registers,
            async collect() {
              const derived = deriveSamples(m, await sourceSamples(registry, m.source));
              this.reset();
              for (const d of derived) this.inc(d.labels, d.value);
            },
          })
        : new Gauge({
            name,
            help,
            labelNames,
            registers,
            async collect() {
              const derived = deriveSamples(m, await sourceSamples(registry, m.source));
              this.reset();
              for (const d of derived) this.set(d.labels, d.value);
            },
          }),
    );
  }
}

const accepted = (l: SampleLabels) => l.outcome === 'accepted';
const notAccepted = (l: SampleLabels) => l.outcome !== 'accepted';

/**
 * componentName is the Collector's component id for one of ours: the NAME of `receivers.NAME` (or
 * `exporters.NAME`, `processors.NAME`), e.g. `otlp` or `otlp/backup`; other values are kept.
 */
export function componentName(id: string | number | undefined): string {
  return String(id ?? '').replace(/^(receivers|processors|exporters)\./, '');
}

/** named copies `labelNames` of a sample, with `kind` (receiver, exporter) as the component's NAME. */
function named(kind: string, labelNames: readonly string[]): (l: SampleLabels) => Record<string, string> {
  return (l) => {
    const out: Record<string, string> = {};
    for (const n of labelNames) out[n] = n === kind ? componentName(l[n]) : String(l[n] ?? '');
    return out;
  };
}

const byReceiver = named('receiver', ['receiver', 'transport']);
const byExporter = named('exporter', ['exporter']);

/**
 * RECEIVER_COLLECTOR_METRICS are the Collector's receiver metrics, derived from tusk_receiver_spans_total and
 * tusk_receiver_log_records_total{receiver,transport,outcome,reason}: accepted is outcome "accepted", refused
 * is every other outcome (refused by the pipeline, rejected for good, or invalid items). `receiver` is the
 * component's NAME (`otlp`), as the Collector writes it.
 */
export const RECEIVER_COLLECTOR_METRICS: readonly CollectorMetric[] = [
  {
    name: 'otelcol_receiver_accepted_spans_total',
    help: 'Number of spans successfully pushed into the pipeline.',
    type: 'counter',
    source: 'tusk_receiver_spans_total',
    labelNames: ['receiver', 'transport'],
    labels: byReceiver,
    where: accepted,
  },
  {
    name: 'otelcol_receiver_refused_spans_total',
    help: 'Number of spans that could not be pushed into the pipeline.',
    type: 'counter',
    source: 'tusk_receiver_spans_total',
    labelNames: ['receiver', 'transport'],
    labels: byReceiver,
    where: notAccepted,
  },
  {
    name: 'otelcol_receiver_accepted_log_records_total',
    help: 'Number of log records successfully pushed into the pipeline.',
    type: 'counter',
    source: 'tusk_receiver_log_records_total',
    labelNames: ['receiver', 'transport'],
    labels: byReceiver,
    where: accepted,
  },
  {
    name: 'otelcol_receiver_refused_log_records_total',
    help: 'Number of log records that could not be pushed into the pipeline.',
    type: 'counter',
    source: 'tusk_receiver_log_records_total',
    labelNames: ['receiver', 'transport'],
    labels: byReceiver,
    where: notAccepted,
  },
];

/**
 * EXPORTER_COLLECTOR_METRICS are the Collector's exporter metrics, derived from the exporter helper's
 * tusk_exporter_* series, with `exporter` as the component's NAME (`jaeger`). Send failures sum both kinds
 * (retriable, permanent); the queue has no `data_type` label because one queue holds both signals.
 */
export const EXPORTER_COLLECTOR_METRICS: readonly CollectorMetric[] = [
  {
    name: 'otelcol_exporter_sent_spans_total',
    help: 'Number of spans successfully sent to destination.',
    type: 'counter',
    source: 'tusk_exporter_sent_spans_total',
    labelNames: ['exporter'],
    labels: byExporter,
  },
  {
    name: 'otelcol_exporter_send_failed_spans_total',
    help: 'Number of spans in failed attempts to send to destination.',
    type: 'counter',
    source: 'tusk_exporter_failed_spans_total',
    labelNames: ['exporter'],
    labels: byExporter,
  },
  {
    name: 'otelcol_exporter_sent_log_records_total',
    help: 'Number of log record successfully sent to destination.',
    type: 'counter',
    source: 'tusk_exporter_sent_log_records_total',
    labelNames: ['exporter'],
    labels: byExporter,
  },
  {
    name: 'otelcol_exporter_send_failed_log_records_total',
    help: 'Number of log records in failed attempts to send to destination.',
    type: 'counter',
    source: 'tusk_exporter_failed_log_records_total',
    labelNames: ['exporter'],
    labels: byExporter,
  },
  {
    name: 'otelcol_exporter_queue_size',
    help: 'Current size of the retry queue (in batches).',
    type: 'gauge',
    source: 'tusk_exporter_queue_size',
    labelNames: ['exporter'],
    labels: byExporter,
  },
  {
    name: 'otelcol_exporter_queue_capacity',
    help: 'Fixed capacity of the retry queue (in batches).',
    type: 'gauge',
    source: 'tusk_exporter_queue_capacity',
    labelNames: ['exporter'],
    labels: byExporter,
  },
];
