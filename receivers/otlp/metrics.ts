// Prometheus metrics of the otlp receiver, registered on the service's registry (settings.metrics).
// Metrics are shared by every otlp receiver of a registry and told apart by the `receiver` label. The
// Collector-named series (otelcol_receiver_*) are derived from these at scrape time.

import { Counter, Gauge, type Registry } from 'prom-client';
import { RECEIVER_COLLECTOR_METRICS, declareCollectorMetrics } from '../../pipeline/sdk/collector-metrics';
import { registeredMetric } from '../../pipeline/sdk/metrics';
import type { OtlpSignal } from '../../pipeline/sdk/otlp';

/** Transport a request came in on. */
export type Transport = 'http' | 'grpc';

/**
 * RequestOutcome labels tusk_receiver_requests_total: success (all accepted), partial (some items
 * rejected), invalid (400 / INVALID_ARGUMENT: malformed), too_large (413 / RESOURCE_EXHAUSTED),
 * unauthenticated (401 / UNAUTHENTICATED), unsupported (404, 405, 415), refused (503 / UNAVAILABLE:
 * over the in-flight budget, shutting down, or downstream refused retriably), rejected (downstream
 * refused permanently).
 */
export type RequestOutcome =
  'success' | 'partial' | 'invalid' | 'too_large' | 'unauthenticated' | 'unsupported' | 'refused' | 'rejected';

/** ItemOutcome labels tusk_receiver_spans_total / tusk_receiver_log_records_total. */
export type ItemOutcome = 'accepted' | 'refused' | 'rejected';

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  return registeredMetric(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[]): Gauge<string> {
  return registeredMetric(registry, name, () => new Gauge({ name, help, labelNames, registers: [registry] }));
}

/** ReceiverMetrics records what one otlp receiver does. */
export class ReceiverMetrics {
  readonly requests: Counter<string>;
  readonly spans: Counter<string>;
  readonly logRecords: Counter<string>;
  readonly bytes: Counter<string>;
  readonly inflightBytes: Gauge<string>;

  constructor(
    registry: Registry,
    private readonly _receiver: string,
  ) {
    this.requests = counter(
      registry,
      'tusk_receiver_requests_total',
      'OTLP export requests by transport, signal and outcome.',
      ['receiver', 'transport', 'signal', 'outcome'],
    );
    this.spans = counter(
      registry,
      'tusk_receiver_spans_total',
      'Spans received: accepted (settled downstream), refused (retriable, the client resends) or rejected (never retried), with a reason.',
      ['receiver', 'transport', 'outcome', 'reason'],
    );
    this.logRecords = counter(
      registry,
      'tusk_receiver_log_records_total',
      'Log records received, by outcome and reason (as tusk_receiver_spans_total).',
      ['receiver', 'transport', 'outcome', 'reason'],
    );
    this.bytes = counter(
      registry,
      'tusk_receiver_bytes_total',
      'Request body bytes received on the wire (before decompression).',
      ['receiver', 'transport', 'signal'],
    );
    this.inflightBytes = gauge(
      registry,
      'tusk_receiver_inflight_bytes',
      'Request bytes held now, from arrival until the answer (bounded by max_inflight_bytes).',
      ['receiver'],
    );
    this.inflightBytes.set({ receiver: _receiver }, 0);
    declareCollectorMetrics(registry, RECEIVER_COLLECTOR_METRICS);
  }

  /** labels of the in-flight gauge for this receiver. */
  get inflightLabels(): Record<string, string> {
    return { receiver: this._receiver };
  }

  /** request counts one answered request; `signal` is 'unknown' for paths that are neither traces nor logs. */
  request(transport: Transport, signal: OtlpSignal | 'unknown', outcome: RequestOutcome): void {
    this.requests.inc({ receiver: this._receiver, transport, signal, outcome });
  }

  received(transport: Transport, signal: OtlpSignal, n: number): void {
    if (n > 0) this.bytes.inc({ receiver: this._receiver, transport, signal }, n);
  }

  /** items counts `n` spans or log records of a request that came in on `transport`, by outcome and reason. */
  items(transport: Transport, signal: OtlpSignal, outcome: ItemOutcome, reason: string, n: number): void {
    if (n <= 0) return;
    const labels = { receiver: this._receiver, transport, outcome, reason };
    (signal === 'traces' ? this.spans : this.logRecords).inc(labels, n);
  }
}
