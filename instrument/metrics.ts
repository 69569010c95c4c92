// The kit's metrics, with the seed's names, created through the OpenTelemetry metrics API:
// http_requests_total, http_request_duration_seconds, http_errors_total (server side, per request),
// operation_duration_seconds (monitor), and the optional trace-duration histogram (trace_duration_ms),
// recorded by a span processor when a service's part of a trace ends. Also where the kit's
// instruments and tracer come from: a handle's own providers, or the global ones.

import {
  metrics,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type Tracer,
} from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** Instrumentation scope name of every span and metric the kit creates. */
export const SCOPE_NAME = 'tusk-collector/instrument';

export const HTTP_REQUESTS_TOTAL = 'http_requests_total';
export const HTTP_REQUEST_DURATION_SECONDS = 'http_request_duration_seconds';
export const HTTP_ERRORS_TOTAL = 'http_errors_total';
export const OPERATION_DURATION_SECONDS = 'operation_duration_seconds';

/** Histogram buckets in seconds (5 ms .. 10 s). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Histogram buckets in milliseconds (5 ms .. 10 s). */
const MS_BUCKETS = SECONDS_BUCKETS.map((s) => s * 1000);

/** The instruments the helpers record into. */
export interface KitInstruments {
  /** Requests served, by http.method, http.route, http.status_code. */
  readonly requests: Counter;
  /** Server-side request duration in seconds, same attributes. */
  readonly requestDuration: Histogram;
  /** Requests answered with a 5xx or whose handler threw, same attributes. */
  readonly errors: Counter;
  /** monitor() durations in seconds, by operation and outcome (ok | error). */
  readonly operationDuration: Histogram;
}

/** createInstruments creates the kit's instruments on `meter`. */
export function createInstruments(meter: Meter): KitInstruments {
  return {
    requests: meter.createCounter(HTTP_REQUESTS_TOTAL, { description: 'HTTP requests served' }),
    requestDuration: meter.createHistogram(HTTP_REQUEST_DURATION_SECONDS, {
      description: 'Duration of served HTTP requests',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    errors: meter.createCounter(HTTP_ERRORS_TOTAL, {
      description: 'HTTP requests answered with a 5xx status or failed by an exception',
    }),
    operationDuration: meter.createHistogram(OPERATION_DURATION_SECONDS, {
      description: 'Duration of operations wrapped with monitor()',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
  };
}

/** What the helpers need: a tracer and the instruments. */
export interface Telemetry {
  readonly tracer: Tracer;
  readonly instruments: KitInstruments;
}

/** A source of Telemetry, read on every use (the global one can be registered after a helper was made). */
export type TelemetrySource = () => Telemetry;

/** boundTelemetry ties helpers to one tracer and meter (a handle's own providers). */
export function boundTelemetry(tracer: Tracer, meter: Meter): TelemetrySource {
  const t: Telemetry = { tracer, instruments: createInstruments(meter) };
  return () => t;
}

/**
 * globalTelemetry returns a source reading the globally registered providers (what initTracing
 * registers). The OpenTelemetry metrics API has no proxy provider, so instruments are created per
 * registered MeterProvider, once, and remembered in `cache` (held by the source, not by this module).
 */
export function globalTelemetry(): TelemetrySource {
  const cache = new WeakMap<MeterProvider, KitInstruments>();
  return () => {
    const provider = metrics.getMeterProvider();
    let instruments = cache.get(provider);
    if (!instruments) {
      instruments = createInstruments(provider.getMeter(SCOPE_NAME));
      cache.set(provider, instruments);
    }
    return { tracer: trace.getTracer(SCOPE_NAME), instruments };
  };
}

/**
 * TraceDurationProcessor records, in a histogram named by the [tracing] `metrics` key (the seed's
 * trace_duration_ms), the duration in milliseconds of every local root span: a span without parent,
 * or whose parent came from another process. That is this service's share of each trace (the whole
 * trace for the service where it starts). Attributes: operation (span name), span.kind, status (ok | error).
 * Only spans that are recorded (head-sampled) are seen.
 */
export class TraceDurationProcessor implements SpanProcessor {
  private readonly _histogram: Histogram;

  constructor(meter: Meter, name: string) {
    this._histogram = meter.createHistogram(name, {
      description: "Duration of this service's part of each trace (local root spans)",
      unit: 'ms',
      advice: { explicitBucketBoundaries: MS_BUCKETS },
    });
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    const parent = span.parentSpanContext;
    if (parent !== undefined && parent.isRemote !== true) return;
    this._histogram.record(hrTimeToMilliseconds(span.duration), {
      operation: span.name,
      'span.kind': SpanKind[span.kind].toLowerCase(),
      status: span.status.code === SpanStatusCode.ERROR ? 'error' : 'ok',
    });
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
