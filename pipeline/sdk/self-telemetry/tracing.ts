// Self-tracing: the pipeline traces its own work (receive, process, export) with the OpenTelemetry
// API, sampled, and ships those spans over OTLP to a backend of the operator's choice. Off by default.
// It refuses to send its spans into one of its own receivers unless told to (no feedback loop).

import { context, propagation, trace, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { LogsConsumer, TracesConsumer } from '../component';
import type { LogBatch, TraceBatch } from '../trace-batch';
import { countBatchSpans } from '../trace-batch';
import { PipelineError } from '../errors';

/** Settings of self-tracing (the [service] self_tracing block). */
export interface SelfTracingSettings {
  enabled: boolean;
  sampling_rate: number;
  endpoint: string;
  allow_self_ingest?: boolean;
}

/** A running self-tracing setup; shutdown flushes. */
export interface SelfTracing {
  readonly tracer: Tracer;
  shutdown(): Promise<void>;
}

function hostPortOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return undefined;
  }
}

function samePort(a: string, b: string): boolean {
  const pa = a.slice(a.lastIndexOf(':') + 1);
  const pb = b.slice(b.lastIndexOf(':') + 1);
  const ha = a.slice(0, a.lastIndexOf(':'));
  const hb = b.slice(0, b.lastIndexOf(':'));
  const local = (h: string) => ['', '0.0.0.0', '::', '[::]', '127.0.0.1', 'localhost', '[::1]', '::1'].includes(h);
  return pa === pb && (ha === hb || (local(ha) && local(hb)));
}

/**
 * startSelfTracing installs a tracer provider, context manager and W3C propagator when enabled.
 * `ownEndpoints` are this process's receiver listen addresses, to refuse a feedback loop.
 */
export function startSelfTracing(
  settings: SelfTracingSettings,
  serviceName: string,
  ownEndpoints: readonly string[],
): SelfTracing | undefined {
  if (!settings.enabled) return undefined;
  const target = hostPortOf(settings.endpoint);
  if (!target)
    throw new PipelineError(
      'ERR_SELF_TRACING_ENDPOINT',
      `service.self_tracing.endpoint is not a URL: ${settings.endpoint}`,
      { retriable: false },
    );
  const loop = ownEndpoints.find((e) => samePort(e, target));
  if (loop && settings.allow_self_ingest !== true) {
    throw new PipelineError(
      'ERR_SELF_TRACING_LOOP',
      `service.self_tracing.endpoint ${settings.endpoint} is this collector's own receiver (${loop}); its spans would be fed back into its input. Point it at another backend, or set allow_self_ingest: true`,
      { retriable: false },
    );
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.namespace': 'tusk-collector' }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampling_rate) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.endpoint }) })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('tusk-collector'),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** tracedTraces wraps a consumer so each batch it gets runs inside a span named `operation`. */
export function tracedTraces<T extends TracesConsumer>(
  tracer: Tracer,
  operation: string,
  component: string,
  consumer: T,
  kind: SpanKind = SpanKind.INTERNAL,
): TracesConsumer {
  return {
    capabilities: consumer.capabilities,
    consumeTraces(batch: TraceBatch, signal?: AbortSignal): Promise<void> {
      return tracer.startActiveSpan(
        operation,
        {
          kind,
          attributes: {
            'tusk.component': component,
            'tusk.traces': batch.chunks.length,
            'tusk.spans': countBatchSpans(batch),
          },
        },
        async (span) => {
          try {
            await consumer.consumeTraces(batch, signal);
          } catch (err) {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
            throw err;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}

/** tracedLogs is tracedTraces for log batches. */
export function tracedLogs(tracer: Tracer, operation: string, component: string, consumer: LogsConsumer): LogsConsumer {
  return {
    consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
      return tracer.startActiveSpan(
        operation,
        { attributes: { 'tusk.component': component, 'tusk.log_chunks': batch.chunks.length } },
        async (span) => {
          try {
            await consumer.consumeLogs(batch, signal);
          } catch (err) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
            throw err;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}
