// HTTP helpers (the seed's PropagateTrace), on node:http and fetch:
// - server: wrapHandler(handler) / tracingMiddleware() extract the W3C context from the request, run
//   the handler inside a SERVER span and record the request metrics;
// - client: tracedFetch(url, init) opens a CLIENT span and injects its context; injectHeaders(headers)
//   only injects (for clients other than fetch).

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  trace,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapSetter,
  type Attributes,
  type Context,
  type Span,
  type TextMapSetter,
} from '@opentelemetry/api';
import type { TelemetrySource } from './metrics';
import { recordError } from './monitor';

/** A node:http request handler; it may return a promise. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => unknown;
/** A Connect/Express-style middleware. */
export type HttpMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Options of the server helpers. */
export interface HttpServerOptions {
  /**
   * The route of a request: a low-cardinality template such as "/orders/:id". Names the span
   * ("POST /orders/:id") and labels the metrics (http.route). Default: the path without the query.
   * Set it when paths carry ids: the tail sampler keeps latency statistics per (service, span name).
   */
  route?: (req: IncomingMessage) => string;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.search(/[?#]/);
  return q === -1 ? raw : raw.slice(0, q);
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

interface ServerExchange {
  span: Span;
  ctx: Context;
  /** Remembers a handler failure; it is recorded on the span when the response ends. */
  fail(err: unknown): void;
}

/** startServerSpan extracts the remote context, opens the SERVER span and arranges its end with the response. */
function startServerSpan(
  source: TelemetrySource,
  options: HttpServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): ServerExchange {
  const { tracer, instruments } = source();
  const method = (req.method ?? 'GET').toUpperCase();
  const route = options.route ? options.route(req) : pathOf(req.url);
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const host = header(req.headers.host) ?? 'localhost';
  const attributes: Attributes = {
    'http.method': method,
    'http.url': `${encrypted ? 'https' : 'http'}://${host}${req.url ?? '/'}`,
    'http.route': route,
    'http.target': req.url ?? '/',
  };
  const ua = header(req.headers['user-agent']);
  if (ua !== undefined) attributes['http.user_agent'] = ua;
  // only the request's headers decide the parent, never whatever context the server was created in
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  const started = performance.now();
  let ended = false;
  let failure: { err: unknown } | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    const status = res.statusCode;
    span.setAttribute('http.status_code', status);
    if (!res.writableFinished) span.setAttribute('http.aborted', true);
    if (failure !== undefined) recordError(span, failure.err);
    else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
    span.end();
    const labels = { 'http.method': method, 'http.route': route, 'http.status_code': status };
    instruments.requests.add(1, labels);
    instruments.requestDuration.record((performance.now() - started) / 1000, labels);
    if (status >= 500 || failure !== undefined) instruments.errors.add(1, labels);
  };
  res.once('finish', () => end());
  res.once('close', () => end());
  return {
    span,
    ctx,
    fail: (err) => {
      if (failure === undefined) failure = { err };
    },
  };
}

/** answerFailure records a handler's exception and answers 500 when nothing was sent yet. */
function answerFailure(ex: ServerExchange, res: ServerResponse, err: unknown): void {
  ex.fail(err);
  if (!res.headersSent) {
    res.statusCode = 500;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('internal server error\n');
  } else if (!res.writableEnded) {
    res.end();
  }
}

/**
 * makeWrapHandler builds wrapHandler(handler): a node:http handler that runs `handler` inside a SERVER
 * span continuing the caller's trace (W3C traceparent), with http.method, http.url, http.route,
 * http.user_agent and, at the end, http.status_code. A 5xx answer sets status ERROR. A throw or
 * rejection is recorded on the span and answered with 500 if no response was started. The span ends
 * and http_requests_total / http_request_duration_seconds / http_errors_total are recorded when the
 * response finishes (or the connection closes first: http.aborted = true).
 */
export function makeWrapHandler(
  source: TelemetrySource,
): (handler: HttpHandler, options?: HttpServerOptions) => (req: IncomingMessage, res: ServerResponse) => void {
  return (handler, options = {}) =>
    (req, res) => {
      const ex = startServerSpan(source, options, req, res);
      context.with(ex.ctx, () => {
        let out: unknown;
        try {
          out = handler(req, res);
        } catch (err) {
          answerFailure(ex, res, err);
          return;
        }
        if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
          void (out as PromiseLike<unknown>).then(undefined, (err: unknown) => answerFailure(ex, res, err));
        }
      });
    };
}

/**
 * makeTracingMiddleware builds tracingMiddleware(): a Connect/Express middleware doing what wrapHandler
 * does, with the rest of the chain (`next`) as the handler. Errors passed to `next` go on to the
 * framework's error handling; the span ends with the response.
 */
export function makeTracingMiddleware(source: TelemetrySource): (options?: HttpServerOptions) => HttpMiddleware {
  return (options = {}) =>
    (req, res, next) => {
      const ex = startServerSpan(source, options, req, res);
      context.with(ex.ctx, () => next());
    };
}

/** A header carrier the helpers can inject into: a Headers object or a plain record. */
export type HeaderCarrier = Headers | Record<string, string | string[] | number | undefined>;

const headersSetter: TextMapSetter<Headers> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

/**
 * injectHeaders writes the W3C trace context (traceparent, tracestate) and baggage of `ctx` (default:
 * the active context) into `headers` and returns it. A Headers object or a plain record (node:http
 * request options) both work. Outside any span it writes nothing.
 */
export function injectHeaders<H extends HeaderCarrier>(headers: H, ctx: Context = context.active()): H {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) propagation.inject(ctx, headers, headersSetter);
  else propagation.inject(ctx, headers, defaultTextMapSetter);
  return headers;
}

/**
 * makeTracedFetch builds tracedFetch(url, init): fetch() inside a CLIENT span named "METHOD /path"
 * (http.method, http.url without credentials, server.address, server.port, then http.status_code),
 * with the span's context injected into the request headers. A 4xx/5xx answer sets status ERROR (as
 * OpenTelemetry's HTTP conventions say for clients); a network error is recorded and rethrown. The span
 * ends when the response headers arrive. The body is the caller's to read.
 */
export function makeTracedFetch(
  source: TelemetrySource,
): (input: string | URL, init?: RequestInit) => Promise<Response> {
  return async (input, init = {}) => {
    const { tracer } = source();
    const url = new URL(String(input));
    const method = (init.method ?? 'GET').toUpperCase();
    const shown = new URL(url.href);
    shown.username = '';
    shown.password = '';
    const span = tracer.startSpan(`${method} ${url.pathname}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.method': method,
        'http.url': shown.href,
        'server.address': url.hostname,
        'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      },
    });
    const ctx = trace.setSpan(context.active(), span);
    const headers = injectHeaders(new Headers(init.headers), ctx);
    try {
      const res = await context.with(ctx, () => fetch(url, { ...init, headers }));
      span.setAttribute('http.status_code', res.status);
      if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.status}` });
      return res;
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  };
}
