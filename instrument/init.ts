// initTracing: sets up the OpenTelemetry JS SDK for a Node service from a [tracing] section (the seed's
// tracing guide): resource with service.name, ParentBased(TraceIdRatioBased(sampling_rate)) head
// sampler, BatchSpanProcessor with an OTLP/HTTP protobuf exporter (tusk-collector by default) or the
// Jaeger exporter, W3C trace-context + baggage propagation, an AsyncLocalStorage context manager, a
// MeterProvider with a Prometheus endpoint, and a pino logger with log correlation. Returns a handle
// whose shutdown() flushes. Everything is built from the SDK packages; the kit only wires them.

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  diag,
  metrics,
  propagation,
  trace,
  DiagLogLevel,
  type DiagLogger,
  type Meter,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type * as JaegerModule from '@opentelemetry/exporter-jaeger';
import type * as OtlpProtoModule from '@opentelemetry/exporter-trace-otlp-proto';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type IMetricReader } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type BatchSpanProcessorOptions,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { DestinationStream, Logger } from 'pino';
import { resolveTracingConfig, type ResolveOptions, type TracingConfig, type TracingSection } from './config';
import { TracingRegistrationError } from './errors';
import {
  injectHeaders,
  makeTracedFetch,
  makeTracingMiddleware,
  makeWrapHandler,
  type HttpHandler,
  type HttpMiddleware,
  type HttpServerOptions,
} from './http';
import { correlationFields, createKitLogger, pinoMixin, type CorrelationFields } from './logs';
import { boundTelemetry, SCOPE_NAME, TraceDurationProcessor } from './metrics';
import { makeMonitor, recordError, type Monitor } from './monitor';

/** Timeout of one export request to the backend, in ms. */
const EXPORT_TIMEOUT_MS = 10_000;

/** Options of initTracing. Everything is optional; the [tracing] section is the configuration. */
export interface InitTracingOptions extends ResolveOptions {
  /** Replaces the backend exporter (tests: an InMemorySpanExporter; or any other SpanExporter). */
  spanExporter?: SpanExporter;
  /** BatchSpanProcessor tuning (queue size, batch size, delay). Default: the SDK's defaults. */
  batch?: Omit<BatchSpanProcessorOptions, 'exporter'>;
  /** Replace the Prometheus endpoint with these metric readers (e.g. a PeriodicExportingMetricReader with an OTLP metric exporter). */
  metricReaders?: IMetricReader[];
  /** Where the handle's logger writes. Default: stdout. */
  logDestination?: DestinationStream;
  /**
   * Register the providers, propagator and context manager as the process-wide OpenTelemetry globals
   * (what libraries and the free helper functions use). Default true. With false, only the handle's
   * own helpers are traced, and context does not follow async calls unless you install a context manager.
   */
  registerGlobal?: boolean;
}

/** The result of initTracing: the configured SDK, the helpers bound to it, and its shutdown. */
export interface TracingHandle {
  readonly config: TracingConfig;
  readonly tracer: Tracer;
  /** Meter for your own instruments (same MeterProvider, same Prometheus endpoint). */
  readonly meter: Meter;
  /** pino logger named after the service; with `correlation`, every line inside a span carries trace_id/span_id. */
  readonly logger: Logger;
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  /** URL of the Prometheus endpoint, when the kit runs one. */
  readonly metricsUrl: string | undefined;
  /** Request handler serving the Prometheus text (mount it yourself when `metrics_port: 0`). */
  readonly metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Resolves once the Prometheus endpoint listens; rejects if it could not (e.g. port in use). */
  readonly ready: Promise<void>;
  wrapHandler(handler: HttpHandler, options?: HttpServerOptions): (req: IncomingMessage, res: ServerResponse) => void;
  tracingMiddleware(options?: HttpServerOptions): HttpMiddleware;
  tracedFetch(input: string | URL, init?: RequestInit): Promise<Response>;
  injectHeaders: typeof injectHeaders;
  monitor: Monitor;
  recordError: typeof recordError;
  correlationFields(): CorrelationFields;
  pinoMixin: typeof pinoMixin;
  /** Exports every ended span and collects metrics now. */
  forceFlush(): Promise<void>;
  /** Flushes and exports what is buffered, stops the metrics endpoint and unregisters the globals. Idempotent. */
  shutdown(): Promise<void>;
}

function createSpanExporter(config: TracingConfig): SpanExporter {
  if (config.backend === 'jaeger') {
    // loaded only when used: the Jaeger exporter brings the thrift stack with it
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { JaegerExporter } = require('@opentelemetry/exporter-jaeger') as typeof JaegerModule;
    return new JaegerExporter({ endpoint: config.endpoint, flushTimeout: EXPORT_TIMEOUT_MS });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof OtlpProtoModule;
  return new OTLPTraceExporter({ url: config.endpoint, timeoutMillis: EXPORT_TIMEOUT_MS });
}

/** diagToLogger forwards the SDK's own warnings (export failures, dropped spans) to the handle's logger. */
function diagToLogger(logger: Logger): DiagLogger {
  const at =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) =>
      logger[level]({ component: 'opentelemetry', args: args.length > 0 ? args.map(String) : undefined }, message);
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('trace') };
}

/** registerGlobals installs the globals, undoing what it did when one is already taken. */
function registerGlobals(tracerProvider: TracerProvider, meterProvider: MeterProvider, logger: Logger): void {
  const undo: Array<() => void> = [];
  const fail = (what: string): never => {
    for (const u of undo.reverse()) u();
    throw new TracingRegistrationError(what);
  };
  const cm = new AsyncLocalStorageContextManager();
  cm.enable();
  if (!context.setGlobalContextManager(cm)) {
    cm.disable();
    fail('context manager');
  }
  undo.push(() => context.disable());
  const propagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  if (!propagation.setGlobalPropagator(propagator)) fail('propagator');
  undo.push(() => propagation.disable());
  if (!trace.setGlobalTracerProvider(tracerProvider)) fail('tracer provider');
  undo.push(() => trace.disable());
  if (!metrics.setGlobalMeterProvider(meterProvider)) fail('meter provider');
  diag.setLogger(diagToLogger(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

function unregisterGlobals(): void {
  metrics.disable();
  trace.disable();
  propagation.disable();
  context.disable();
  diag.disable();
}

/**
 * initTracing sets up tracing, metrics and log correlation for this process from a [tracing] section:
 * `fileOrSection` is the path of a .tsk file (its [tracing] section, or `options.section`, is read with
 * our parser now, @env from `options.env` or process.env) or an already-parsed section object. Throws
 * ConfigError (every problem, with file:line:col) for a bad section, TracingRegistrationError when
 * another SDK already owns the globals. The seed's example file works unchanged:
 *
 *     [tracing]
 *     backend: jaeger
 *     endpoint: @env("JAEGER_ENDPOINT")
 *     sampling_rate: @env("SAMPLING_RATE", 0.1)
 *     service_name: @env("SERVICE_NAME")
 *     metrics: @metrics("trace_duration_ms", 0)
 *     correlation: @go("tracing.CorrelateLogs")
 */
export function initTracing(fileOrSection: string | TracingSection, options: InitTracingOptions = {}): TracingHandle {
  const config = resolveTracingConfig(fileOrSection, options);
  const registerGlobal = options.registerGlobal !== false;
  const logger = createKitLogger({
    serviceName: config.serviceName,
    level: config.logLevel,
    correlation: config.correlation,
    destination: options.logDestination,
  });
  const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': config.serviceName }));

  // metrics first: the trace-duration processor records into this provider
  let prometheus: PrometheusExporter | undefined;
  let ready: Promise<void> = Promise.resolve();
  let readers = options.metricReaders;
  if (readers === undefined) {
    let settle: (err?: Error | void) => void = () => {};
    ready = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    ready.catch(() => {}); // reported through the promise to whoever awaits it, never as an unhandled rejection
    const serve = config.metricsPort !== 0;
    prometheus = new PrometheusExporter(
      { host: config.metricsHost, port: config.metricsPort, preventServerStart: !serve },
      (err) => {
        if (err) logger.error({ err, port: config.metricsPort }, 'metrics endpoint failed to start');
        settle(err);
      },
    );
    if (!serve) settle();
    readers = [prometheus];
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const meter = meterProvider.getMeter(SCOPE_NAME);

  const spanProcessors: SpanProcessor[] = [
    new BatchSpanProcessor({ ...options.batch, exporter: options.spanExporter ?? createSpanExporter(config) }),
  ];
  if (config.traceDurationMetric !== undefined)
    spanProcessors.push(new TraceDurationProcessor(meter, config.traceDurationMetric));
  const tracerProvider = new TracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplingRate) }),
    spanProcessors,
  });
  const tracer = tracerProvider.getTracer(SCOPE_NAME);

  if (registerGlobal) {
    try {
      registerGlobals(tracerProvider, meterProvider, logger);
    } catch (err) {
      void Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      throw err;
    }
  }

  const source = boundTelemetry(tracer, meter);
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      const results = await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      if (registerGlobal) unregisterGlobals();
      logger.flush?.();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    })();
    return stopping;
  };

  return {
    config,
    tracer,
    meter,
    logger,
    tracerProvider,
    meterProvider,
    metricsUrl:
      prometheus && config.metricsPort !== 0
        ? `http://${config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost}:${config.metricsPort}/metrics`
        : undefined,
    metricsHandler: prometheus ? (req, res) => prometheus!.getMetricsRequestHandler(req, res) : undefined,
    ready,
    wrapHandler: makeWrapHandler(source),
    tracingMiddleware: makeTracingMiddleware(source),
    tracedFetch: makeTracedFetch(source),
    injectHeaders,
    monitor: makeMonitor(source),
    recordError,
    correlationFields,
    pinoMixin,
    forceFlush: async () => {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    shutdown,
  };
}
