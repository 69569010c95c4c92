// Prometheus metrics every exporter reports (prom-client, on the service registry from settings.metrics).
// Metrics are shared by all exporters of a registry and told apart by the `exporter` label (component id).
// The Collector-named series (otelcol_exporter_*) are derived from these at scrape time.

import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { EXPORTER_COLLECTOR_METRICS, declareCollectorMetrics } from '../collector-metrics';
import { registeredMetric } from '../metrics';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** ExporterMetrics is one exporter's view of the shared exporter metrics, pre-bound to its `exporter` label. */
export class ExporterMetrics {
  private readonly _sent: Counter<'exporter'>;
  private readonly _failed: Counter<'exporter' | 'kind'>;
  private readonly _deadLettered: Counter<'exporter'>;
  private readonly _deadLetteredLogs: Counter<'exporter'>;
  private readonly _queueSize: Gauge<'exporter'>;
  private readonly _queueBytes: Gauge<'exporter'>;
  private readonly _queueCapacity: Gauge<'exporter'>;
  private readonly _latency: Histogram<'exporter' | 'outcome'>;
  private readonly _retries: Counter<'exporter'>;
  private readonly _sentLogs: Counter<'exporter'>;
  private readonly _failedLogs: Counter<'exporter' | 'kind'>;

  constructor(
    registry: Registry,
    private readonly _exporter: string,
  ) {
    const registers = [registry];
    this._sent = registeredMetric(
      registry,
      'tusk_exporter_sent_spans_total',
      () =>
        new Counter({
          name: 'tusk_exporter_sent_spans_total',
          help: 'Spans the backend accepted.',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._failed = registeredMetric(
      registry,
      'tusk_exporter_failed_spans_total',
      () =>
        new Counter({
          name: 'tusk_exporter_failed_spans_total',
          help: 'Spans whose export failed: kind=retriable (handed back to the sender after retries) or permanent (rejected for good).',
          labelNames: ['exporter', 'kind'],
          registers,
        }),
    );
    this._deadLettered = registeredMetric(
      registry,
      'tusk_exporter_dead_lettered_spans_total',
      () =>
        new Counter({
          name: 'tusk_exporter_dead_lettered_spans_total',
          help: 'Permanently rejected spans written to the dead-letter topic.',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._deadLetteredLogs = registeredMetric(
      registry,
      'tusk_exporter_dead_lettered_log_records_total',
      () =>
        new Counter({
          name: 'tusk_exporter_dead_lettered_log_records_total',
          help: 'Permanently rejected log records written to the dead-letter topic.',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._queueSize = registeredMetric(
      registry,
      'tusk_exporter_queue_size',
      () =>
        new Gauge({
          name: 'tusk_exporter_queue_size',
          help: 'Batches waiting in the sending queue.',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._queueBytes = registeredMetric(
      registry,
      'tusk_exporter_queue_bytes',
      () =>
        new Gauge({
          name: 'tusk_exporter_queue_bytes',
          help: 'Encoded bytes waiting in the sending queue.',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._queueCapacity = registeredMetric(
      registry,
      'tusk_exporter_queue_capacity',
      () =>
        new Gauge({
          name: 'tusk_exporter_queue_capacity',
          help: 'Batches the sending queue may hold (0 = bounded by bytes only).',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._latency = registeredMetric(
      registry,
      'tusk_exporter_send_latency_seconds',
      () =>
        new Histogram({
          name: 'tusk_exporter_send_latency_seconds',
          help: 'Duration of one request to the backend (one attempt), by outcome.',
          labelNames: ['exporter', 'outcome'],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    );
    this._retries = registeredMetric(
      registry,
      'tusk_exporter_retries_total',
      () =>
        new Counter({
          name: 'tusk_exporter_retries_total',
          help: 'Requests retried after a retriable failure.',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._sentLogs = registeredMetric(
      registry,
      'tusk_exporter_sent_log_records_total',
      () =>
        new Counter({
          name: 'tusk_exporter_sent_log_records_total',
          help: 'Log records the backend accepted.',
          labelNames: ['exporter'],
          registers,
        }),
    );
    this._failedLogs = registeredMetric(
      registry,
      'tusk_exporter_failed_log_records_total',
      () =>
        new Counter({
          name: 'tusk_exporter_failed_log_records_total',
          help: 'Log records whose export failed: kind=retriable (handed back to the sender) or permanent (rejected for good).',
          labelNames: ['exporter', 'kind'],
          registers,
        }),
    );
    declareCollectorMetrics(registry, EXPORTER_COLLECTOR_METRICS);
  }

  /** sent counts spans the backend accepted. */
  sent(spans: number): void {
    if (spans > 0) this._sent.inc(this._l(), spans);
  }

  /** failed counts spans that failed for good (permanent) or were handed back to the sender (retriable). */
  failed(spans: number, kind: 'retriable' | 'permanent'): void {
    if (spans > 0) this._failed.inc({ ...this._l(), kind }, spans);
  }

  /** sentLogRecords counts log records the backend accepted. */
  sentLogRecords(records: number): void {
    if (records > 0) this._sentLogs.inc(this._l(), records);
  }

  /** failedLogRecords counts log records that failed for good (permanent) or were handed back to the sender (retriable). */
  failedLogRecords(records: number, kind: 'retriable' | 'permanent'): void {
    if (records > 0) this._failedLogs.inc({ ...this._l(), kind }, records);
  }

  /** deadLettered counts spans written to the dead-letter topic. */
  deadLettered(spans: number): void {
    if (spans > 0) this._deadLettered.inc(this._l(), spans);
  }

  /** deadLetteredLogRecords counts log records written to the dead-letter topic. */
  deadLetteredLogRecords(records: number): void {
    if (records > 0) this._deadLetteredLogs.inc(this._l(), records);
  }

  /** queue reports the waiting batches and bytes. */
  queue(waiting: number, bytes: number): void {
    this._queueSize.set(this._l(), waiting);
    this._queueBytes.set(this._l(), bytes);
  }

  /** queueCapacity reports the configured capacity. */
  queueCapacity(batches: number): void {
    this._queueCapacity.set(this._l(), batches);
  }

  /** attempt records one request's duration in seconds and outcome. */
  attempt(seconds: number, outcome: 'success' | 'failure'): void {
    this._latency.observe({ ...this._l(), outcome }, seconds);
  }

  /** retried counts one retry. */
  retried(): void {
    this._retries.inc(this._l());
  }

  private _l(): Labels<'exporter'> {
    return { exporter: this._exporter };
  }
}
