// W3C trace context across tiers in Kafka message headers (self-tracing): the Kafka exporter writes
// the active context of the call that produced a message; the Kafka receiver starts its consume span
// with links to the contexts of the messages it delivers. Free when self-tracing is off: the global
// propagator is then a no-op with no fields, and nothing is read or written.

import { context, propagation, trace, SpanKind, type Link } from '@opentelemetry/api';

/** A Kafka header set as kafkajs hands it over. */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** tracePropagationActive tells whether a propagator is installed (self-tracing on). */
export function tracePropagationActive(): boolean {
  return propagation.fields().length > 0;
}

/** currentTraceHeaders returns the active trace context as Kafka headers, or undefined when there is none to send. */
export function currentTraceHeaders(): Record<string, string> | undefined {
  if (!tracePropagationActive() || !trace.getActiveSpan()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

const headerGetter = {
  keys: (carrier: KafkaHeaders) => Object.keys(carrier),
  get: (carrier: KafkaHeaders, key: string): string | undefined => {
    const v = carrier[key];
    const one = Array.isArray(v) ? v[0] : v;
    return one === undefined ? undefined : one.toString();
  },
};

/** linksFromHeaders turns the trace contexts found in message headers into span links (distinct, bounded). */
export function linksFromHeaders(headers: readonly (KafkaHeaders | undefined)[], max = 32): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const h of headers) {
    if (!h || links.length >= max) continue;
    const ctx = trace.getSpanContext(propagation.extract(context.active(), h, headerGetter));
    if (!ctx || seen.has(ctx.spanId)) continue;
    seen.add(ctx.spanId);
    links.push({ context: ctx });
  }
  return links;
}

/** withConsumeSpan runs `fn` inside a CONSUMER span linked to the producers' contexts. */
export function withConsumeSpan<T>(
  name: string,
  links: Link[],
  attributes: Record<string, string | number>,
  fn: () => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer('tusk-collector');
  return tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER, links, attributes }, async (span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}
