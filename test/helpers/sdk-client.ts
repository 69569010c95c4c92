// A real OpenTelemetry JS SDK client (BasicTracerProvider + the official OTLP exporters) that sends
// hand-shaped traces with chosen durations and statuses, for end-to-end tests.

import { SpanKind, SpanStatusCode, context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

/** A client bound to one service name. */
export interface SdkClient {
  readonly tracer: Tracer;
  /** Sends what was ended so far and waits for the receiver's answer. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** createProtoClient makes a provider for `service` exporting OTLP/HTTP protobuf to `url` (…/v1/traces). */
export function createProtoClient(
  service: string,
  url: string,
  exporter: SpanExporter = new ProtoExporter({ url, timeoutMillis: 15_000 }),
): SdkClient {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'e2e' }),
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, maxQueueSize: 8192, scheduledDelayMillis: 100 }),
    ],
  });
  const tracer = provider.getTracer('tusk-e2e', '1.0.0');
  return { tracer, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

/** Shape of a synthetic trace: a root with `children` child spans. */
export interface TraceShape {
  rootName: string;
  durationMs: number;
  children: number;
  /** Index of the child that ends with status ERROR, if any. */
  errorChild?: number;
}

/** sendTrace records one trace with explicit times and returns its trace id. */
export function sendTrace(tracer: Tracer, shape: TraceShape): string {
  const start = Date.now() - shape.durationMs - 50;
  const root: Span = tracer.startSpan(shape.rootName, {
    kind: SpanKind.SERVER,
    startTime: start,
    attributes: { 'http.method': 'GET', 'http.status_code': 200, 'e2e.children': shape.children },
  });
  const ctx = trace.setSpan(context.active(), root);
  const step = shape.durationMs / (shape.children + 1);
  for (let i = 0; i < shape.children; i++) {
    const child = tracer.startSpan(
      `step-${i}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: start + step * i,
        attributes: { 'step.index': i, 'step.ok': i !== shape.errorChild, 'step.weight': 0.5 + i },
      },
      ctx,
    );
    if (i === shape.errorChild) {
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'injected failure' });
      child.addEvent('exception', { 'exception.message': 'injected failure' });
    }
    child.end(start + step * (i + 1));
  }
  root.end(start + shape.durationMs);
  return root.spanContext().traceId;
}
