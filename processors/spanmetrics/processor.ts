// spanmetrics: counts every span that passes (requests, errors, duration per service, operation, kind
// and status) in the seed's metric shapes, then hands the batch on unchanged. Placed before
// tail_sampling, it measures ALL traffic, not only what is kept.

import { Counter, Histogram } from 'prom-client';
import type { Capabilities, ComponentSettings, Processor, ProcessorNext } from '../../pipeline/sdk/component';
import type { LogBatch, TraceBatch } from '../../pipeline/sdk/trace-batch';
import { indexTraceChunk } from '../../pipeline/sdk/otlp/index';
import { once } from '../../pipeline/sdk/component';
import type { SpanMetricsConfig } from './config';
import { registeredMetric } from '../../pipeline/sdk/metrics';

const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_NAMES = ['unset', 'ok', 'error'];
const LABELS = ['service', 'operation', 'kind', 'status'] as const;
/** The operation label value that stands for every series past max_series. */
export const OVERFLOW_OPERATION = '__overflow__';

/** SpanMetricsProcessor records RED metrics for each span and forwards batches untouched. */
export class SpanMetricsProcessor implements Processor {
  readonly capabilities: Capabilities = { mutatesData: false };
  private readonly _requests: Counter<(typeof LABELS)[number]>;
  private readonly _errors: Counter<(typeof LABELS)[number]>;
  private readonly _duration: Histogram<(typeof LABELS)[number]>;
  private readonly _traceDuration: Histogram<'service' | 'operation'>;
  private readonly _series = new Set<string>();
  private readonly _maxSeries: number;

  constructor(settings: ComponentSettings, config: SpanMetricsConfig, private readonly _next: ProcessorNext) {
    const registers = [settings.metrics];
    this._maxSeries = config.max_series;
    this._requests = registeredMetric(settings.metrics, 'http_requests_total', () => new Counter({ name: 'http_requests_total', help: 'Spans seen before sampling, by service, operation, kind and status.', labelNames: LABELS, registers }));
    this._errors = registeredMetric(settings.metrics, 'http_errors_total', () => new Counter({ name: 'http_errors_total', help: 'Spans with status ERROR seen before sampling.', labelNames: LABELS, registers }));
    this._duration = registeredMetric(settings.metrics, 'http_request_duration_seconds', () => new Histogram({ name: 'http_request_duration_seconds', help: 'Span durations before sampling, in seconds.', labelNames: LABELS, buckets: config.duration_buckets, registers }));
    this._traceDuration = registeredMetric(settings.metrics, 'trace_duration_ms', () => new Histogram({ name: 'trace_duration_ms', help: 'Root span durations before sampling, in milliseconds.', labelNames: ['service', 'operation'], buckets: config.trace_duration_buckets, registers }));
  }

  async start(): Promise<void> {}

  readonly shutdown = once(async () => {});

  private _operation(service: string, operation: string, kind: string, status: string): string {
    const key = `${service}\u0000${operation}\u0000${kind}\u0000${status}`;
    if (this._series.has(key)) return operation;
    if (this._series.size >= this._maxSeries) return OVERFLOW_OPERATION;
    this._series.add(key);
    return operation;
  }

  consumeTraces(batch: TraceBatch, signal?: AbortSignal): Promise<void> {
    for (const chunk of batch.chunks) {
      let spans;
      try {
        spans = indexTraceChunk(chunk.data);
      } catch {
        continue; // malformed chunks are refused downstream with a permanent error; nothing to count
      }
      for (const span of spans) {
        const kind = KIND_NAMES[span.kind] ?? 'unspecified';
        const status = STATUS_NAMES[span.statusCode] ?? 'unset';
        const labels = { service: span.service, operation: this._operation(span.service, span.name, kind, status), kind, status };
        this._requests.inc(labels);
        if (span.statusCode === 2) this._errors.inc(labels);
        const durationUs = Math.max(0, span.endUs - span.startUs);
        this._duration.observe(labels, durationUs / 1e6);
        if (span.parentSpanId === '') this._traceDuration.observe({ service: span.service, operation: labels.operation }, durationUs / 1000);
      }
    }
    return this._next.consumeTraces(batch, signal);
  }

  consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
    return this._next.consumeLogs ? this._next.consumeLogs(batch, signal) : Promise.resolve();
  }
}
