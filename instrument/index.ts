// tusk-collector/instrument: the instrumentation kit for Node services (the seed's tracing guide).
// initTracing(file) sets up the OpenTelemetry SDK from a [tracing] section; the helpers below trace
// HTTP servers and clients, wrap work in spans, record errors and correlate logs. The free functions
// use the globally registered OpenTelemetry providers (what initTracing registers); a handle carries
// the same helpers bound to its own providers. See docs/instrumentation.md.

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  makeTracedFetch,
  makeTracingMiddleware,
  makeWrapHandler,
  type HttpHandler,
  type HttpMiddleware,
  type HttpServerOptions,
} from './http';
import { globalTelemetry } from './metrics';
import { makeMonitor, type Monitor } from './monitor';

export { initTracing, type InitTracingOptions, type TracingHandle } from './init';
export {
  resolveTracingConfig,
  loadTracingSection,
  tracingParseHooks,
  DEFAULT_OTLP_ENDPOINT,
  DEFAULT_JAEGER_ENDPOINT,
  DEFAULT_SAMPLING_RATE,
  DEFAULT_METRICS_PORT,
  DEFAULT_METRICS_HOST,
  DEFAULT_TRACE_DURATION_METRIC,
  METRICS_MARKER,
  type TracingConfig,
  type TracingSection,
  type ResolveOptions,
  type LoadedSection,
} from './config';
export { ConfigError, TracingRegistrationError, type ConfigIssue } from './errors';
export {
  injectHeaders,
  type HeaderCarrier,
  type HttpHandler,
  type HttpMiddleware,
  type HttpServerOptions,
} from './http';
export { correlationFields, pinoMixin, type CorrelationFields } from './logs';
export { recordError, type Monitor, type MonitorOptions } from './monitor';
export {
  SCOPE_NAME,
  HTTP_REQUESTS_TOTAL,
  HTTP_REQUEST_DURATION_SECONDS,
  HTTP_ERRORS_TOTAL,
  OPERATION_DURATION_SECONDS,
  TraceDurationProcessor,
} from './metrics';

const globals = globalTelemetry();

/**
 * wrapHandler(handler) returns a node:http handler running `handler` inside a SERVER span that continues
 * the caller's W3C trace context, and records http_requests_total, http_request_duration_seconds and
 * http_errors_total. Use it as `http.createServer(wrapHandler(handler))`. Uses the global providers.
 */
export const wrapHandler: (
  handler: HttpHandler,
  options?: HttpServerOptions,
) => (req: IncomingMessage, res: ServerResponse) => void = makeWrapHandler(globals);

/** tracingMiddleware() is wrapHandler as a Connect/Express middleware: `app.use(tracingMiddleware())`. */
export const tracingMiddleware: (options?: HttpServerOptions) => HttpMiddleware = makeTracingMiddleware(globals);

/** tracedFetch(url, init) is fetch() inside a CLIENT span whose context is injected into the request headers. */
export const tracedFetch: (input: string | URL, init?: RequestInit) => Promise<Response> = makeTracedFetch(globals);

/**
 * monitor(operation, fn) runs fn inside an active span, records operation_duration_seconds and marks a
 * throw or rejection as an error (then rethrows it). Sync and async functions alike.
 */
export const monitor: Monitor = makeMonitor(globals);
