// Self-tracing: the pipeline traces its own work (receive, process, export) with the OpenTelemetry
// API, sampled, and ships those spans over OTLP to a backend of the operator's choice. Off by default.
// It refuses to send its spans into one of its own receivers unless told to (no feedback loop). The
// OTEL_* environment variables fill in what the pipeline file does not set (otel-env.ts).

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
import { resolveSelfTracing } from './otel-env';

/** Settings of self-tracing (the [service] self_tracing block). */
export interface SelfTracingSettings {
  enabled: boolean;
  sampling_rate: number;
  /** OTLP/HTTP traces URL; undefined when the file does not set it (then OTEL_EXPORTER_OTLP_* or the default). */
  endpoint?: string;
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
 * `serviceName` is `[service] name` when the file sets it (undefined: OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES decide). `ownEndpoints` are this process's receiver listen addresses, to refuse
 * a feedback loop. `warn` receives one line per malformed OTEL_* variable (which is then ignored).
 */
export function startSelfTracing(
  settings: SelfTracingSettings,
  serviceName: string | undefined,
  ownEndpoints: readonly string[],
  warn: (message: string) => void = () => undefined,
): SelfTracing | undefined {
  if (!settings.enabled) return undefined;
  const resolved = resolveSelfTracing({ serviceName, endpoint: settings.endpoint });
  for (const w of resolved.warnings) warn(`self-tracing: ${w}`);
  const from = resolved.urlFrom === 'config' ? 'service.self_tracing.endpoint' : resolved.urlFrom;
  const target = hostPortOf(resolved.url);
  if (!target)
    throw new PipelineError('ERR_SELF_TRACING_ENDPOINT', `${from} is not a URL: ${resolved.url}`, {
      retriable: false,
    });
  const loop = ownEndpoints.find((e) => samePort(e, target));
  if (loop && settings.allow_self_ingest !== true) {
    throw new PipelineError(
      'ERR_SELF_TRACING_LOOP',
      `self-tracing endpoint ${resolved.url} (${from}) is this collector's own receiver (${loop}); its spans would be fed back into its input. Point it at another backend, or set allow_self_ingest: true`,
      { retriable: false },
    );
  }
  // Compression: the exporter reads OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION itself.
  const exporter = new OTLPTraceExporter({
    url: resolved.url,
    headers: resolved.headers,
    timeoutMillis: resolved.timeoutMillis,
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resolved.resource),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampling_rate) }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
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
