// spanmetrics: RED metrics from the spans that pass, then the batch goes on unchanged. Every span counts in
// the OpenTelemetry Collector spanmetrics connector's names (traces_span_metrics_calls_total,
// traces_span_metrics_duration_seconds); only requests, i.e. SERVER and CONSUMER spans, count in
// http_requests_total, http_errors_total and http_request_duration_seconds; root spans in
// trace_duration_ms. Placed before tail_sampling, it measures ALL traffic, not only what is kept.

import { Counter, Histogram } from 'prom-client';
import type { Capabilities, ComponentSettings, Processor, ProcessorNext } from '../../pipeline/sdk/component';
import type { LogBatch, TraceBatch } from '../../pipeline/sdk/trace-batch';
import { indexTraceChunk } from '../../pipeline/sdk/otlp/index';
import { once } from '../../pipeline/sdk/component';
import type { SpanMetricsConfig } from './config';
import { registeredMetric } from '../../pipeline/sdk/metrics';

const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
/** The Collector connector's span_kind label values, by OTLP kind. */
const CONNECTOR_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
/** The Collector connector's status_code label values, by OTLP status code. */
const CONNECTOR_STATUS = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const CONNECTOR_LABELS = ['service_name', 'span_name', 'span_kind', 'status_code'] as const;
const KIND_SERVER = 2;
const KIND_CONSUMER = 5;
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
  private readonly _calls: Counter<(typeof CONNECTOR_LABELS)[number]>;
  private readonly _callDuration: Histogram<(typeof CONNECTOR_LABELS)[number]>;
  private readonly _series = new Set<string>();
  private readonly _maxSeries: number;

  constructor(
    settings: ComponentSettings,
    config: SpanMetricsConfig,
    private readonly _next: ProcessorNext,
  ) {
    const registers = [settings.metrics];
    this._maxSeries = config.max_series;
    const m = settings.metrics;
    this._requests = registeredMetric(
      m,
      'http_requests_total',
      () =>
        new Counter({
          name: 'http_requests_total',
          help: 'Requests (SERVER and CONSUMER spans) seen before sampling, by service, operation, kind and status.',
          labelNames: LABELS,
          registers,
        }),
    );
    this._errors = registeredMetric(
      m,
      'http_errors_total',
      () =>
        new Counter({
          name: 'http_errors_total',
          help: 'Requests (SERVER and CONSUMER spans) with status ERROR seen before sampling.',
          labelNames: LABELS,
          registers,
        }),
    );
    this._duration = registeredMetric(
      m,
      'http_request_duration_seconds',
      () =>
        new Histogram({
          name: 'http_request_duration_seconds',
          help: 'Request (SERVER and CONSUMER span) durations before sampling, in seconds.',
          labelNames: LABELS,
          buckets: config.duration_buckets,
          registers,
        }),
    );
    this._calls = registeredMetric(
      m,
      'traces_span_metrics_calls_total',
      () =>
        new Counter({
          name: 'traces_span_metrics_calls_total',
          help: "Spans of every kind seen before sampling (the Collector spanmetrics connector's calls).",
          labelNames: CONNECTOR_LABELS,
          registers,
        }),
    );
    this._callDuration = registeredMetric(
      m,
      'traces_span_metrics_duration_seconds',
      () =>
        new Histogram({
          name: 'traces_span_metrics_duration_seconds',
          help: "Durations of spans of every kind before sampling, in seconds (the connector's duration).",
          labelNames: CONNECTOR_LABELS,
          buckets: config.duration_buckets,
          registers,
        }),
    );
    this._traceDuration = registeredMetric(
      settings.metrics,
      'trace_duration_ms',
      () =>
        new Histogram({
          name: 'trace_duration_ms',
          help: 'Root span durations before sampling, in milliseconds.',
          labelNames: ['service', 'operation'],
          buckets: config.trace_duration_buckets,
          registers,
        }),
    );
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
        const operation = this._operation(span.service, span.name, kind, status);
        const durationUs = Math.max(0, span.endUs - span.startUs);
        const connector = {
          service_name: span.service,
          span_name: operation,
          span_kind: CONNECTOR_KINDS[span.kind] ?? CONNECTOR_KINDS[0],
          status_code: CONNECTOR_STATUS[span.statusCode] ?? CONNECTOR_STATUS[0],
        };
        this._calls.inc(connector);
        this._callDuration.observe(connector, durationUs / 1e6);
        const labels = { service: span.service, operation, kind, status };
        if (span.kind === KIND_SERVER || span.kind === KIND_CONSUMER) {
          this._requests.inc(labels);
          if (span.statusCode === 2) this._errors.inc(labels);
          this._duration.observe(labels, durationUs / 1e6);
        }
        if (span.parentSpanId === '')
          this._traceDuration.observe({ service: span.service, operation }, durationUs / 1000);
      }
    }
    return this._next.consumeTraces(batch, signal);
  }

  consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
    return this._next.consumeLogs ? this._next.consumeLogs(batch, signal) : Promise.resolve();
  }
}
