// The service's structured logger (pino, JSON lines). Levels are written as strings ("level":"info"), as
// log pipelines and the Collector's own logs expect. When self-tracing is on, each line carries the
// trace_id/span_id of the active context (the seed's CorrelateLogs).

import pino, { type Logger } from 'pino';
import { trace } from '@opentelemetry/api';

/** createLogger builds the root logger; `destination` defaults to stderr so stdout stays for data. */
export function createLogger(
  level: string,
  name = 'tusk-collector',
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = trace.getActiveSpan()?.spanContext();
        return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
      },
    },
    destination,
  );
}
