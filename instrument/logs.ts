// Log correlation (the seed's CorrelateLogs): the trace_id / span_id of the active span as log fields,
// for pino (a mixin) and for any other logger (a plain function), plus the handle's pino logger.

import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';

/** The correlation fields of a log line: W3C ids as lowercase hex, trace_flags as two hex digits ("01" = sampled). */
export interface CorrelationFields {
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
}

/**
 * correlationFields returns `{ trace_id, span_id, trace_flags }` of the span active in the current
 * context, or `{}` outside any span. Works for unsampled spans too (their ids are still propagated).
 */
export function correlationFields(): CorrelationFields {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || !isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags.toString(16).padStart(2, '0') };
}

/** pinoMixin returns a pino `mixin` that adds correlationFields() to every line: `pino({ mixin: pinoMixin() })`. */
export function pinoMixin(): () => CorrelationFields {
  return correlationFields;
}

/** Options of the handle's logger. */
export interface KitLoggerOptions {
  serviceName: string;
  level: string;
  /** Add trace_id/span_id to every line. */
  correlation: boolean;
  /** Where lines go. Default: stdout (synchronous). */
  destination?: DestinationStream;
}

/** createKitLogger builds the pino logger a handle exposes: JSON lines with `service`, ISO time and, with correlation, the trace ids. */
export function createKitLogger(options: KitLoggerOptions): Logger {
  return pino(
    {
      name: options.serviceName,
      level: options.level,
      base: { service: options.serviceName, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: options.correlation ? pinoMixin() : undefined,
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
