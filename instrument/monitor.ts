// The seed's MonitorPerformance and error recording: monitor(operation, fn) wraps work in an active
// span, records its duration (operation_duration_seconds) and marks failures; recordError(span, err)
// puts an exception event and the ERROR status on a span. Works for sync and async functions.

import { SpanStatusCode, type Attributes, type Span, type SpanKind } from '@opentelemetry/api';
import type { TelemetrySource } from './metrics';

/** Options of monitor(). */
export interface MonitorOptions {
  /** Attributes set on the span when it starts. */
  attributes?: Attributes;
  /** Span kind. Default INTERNAL. */
  kind?: SpanKind;
}

/** The signature of monitor(). */
export type Monitor = <T>(operation: string, fn: (span: Span) => T, options?: MonitorOptions) => T;

/**
 * recordError records `err` on `span`: an `exception` event (type, message, stack), status ERROR with
 * the error's message, and the `error.type` attribute. Accepts any thrown value. Does not end the span.
 */
export function recordError(span: Span, err: unknown): void {
  if (err instanceof Error) {
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.setAttribute('error.type', err.name || 'Error');
    return;
  }
  const message = typeof err === 'string' ? err : safeString(err);
  span.recordException(message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute('error.type', typeof err);
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  } catch {
    return String(v);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/**
 * makeMonitor builds monitor() on a telemetry source. monitor runs `fn` inside a new active span named
 * `operation` (so logs and child spans inside it belong to it), ends the span when `fn` returns or, for
 * a promise, settles, and records the duration with outcome ok | error. A throw or rejection is recorded
 * on the span (recordError) and rethrown unchanged. Returns what `fn` returns (the same promise type for
 * async functions, resolving to the same value).
 */
export function makeMonitor(source: TelemetrySource): Monitor {
  return <T>(operation: string, fn: (span: Span) => T, options: MonitorOptions = {}): T => {
    const { tracer, instruments } = source();
    return tracer.startActiveSpan(
      operation,
      { attributes: options.attributes, kind: options.kind },
      (span: Span): T => {
        const started = performance.now();
        const finish = (outcome: 'ok' | 'error'): void => {
          instruments.operationDuration.record((performance.now() - started) / 1000, { operation, outcome });
          span.end();
        };
        let result: T;
        try {
          result = fn(span);
        } catch (err) {
          recordError(span, err);
          finish('error');
          throw err;
        }
        if (!isThenable(result)) {
          finish('ok');
          return result;
        }
        return Promise.resolve(result).then(
          (value) => {
            finish('ok');
            return value;
          },
          (err: unknown) => {
            recordError(span, err);
            finish('error');
            throw err;
          },
        ) as T;
      },
    );
  };
}
