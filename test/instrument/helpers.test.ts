// The kit's helpers on a real SDK with an InMemorySpanExporter: monitor (sync/async, errors, duration
// metric), recordError, log correlation (pino mixin, plain function), and the HTTP server/client
// helpers over real loopback sockets (context extraction/injection, attributes, status, metrics).

import { expect } from 'chai';
import { context, propagation, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import {
  correlationFields,
  initTracing,
  injectHeaders,
  monitor,
  pinoMixin,
  recordError,
  tracedFetch,
  tracingMiddleware,
  wrapHandler,
  type TracingHandle,
} from '../../instrument';
import { LogSink, RetainingExporter, TestMetricReader, listen, waitFor } from './helpers';

describe('instrument helpers (global providers registered by initTracing)', () => {
  let handle: TracingHandle;
  const exporter = new RetainingExporter();
  const reader = new TestMetricReader();

  before(() => {
    handle = initTracing(
      { service_name: 'helpers-test' },
      {
        spanExporter: exporter,
        metricReaders: [reader],
        logDestination: new LogSink(),
        batch: { scheduledDelayMillis: 20 },
      },
    );
  });
  after(async () => {
    await handle.shutdown();
  });
  beforeEach(() => exporter.reset());

  async function spans(): Promise<ReadableSpan[]> {
    // a server span ends on the response's 'finish' event, which may run just after the client saw the answer
    await new Promise((r) => setTimeout(r, 10));
    await handle.forceFlush();
    return exporter.getFinishedSpans();
  }

  function one(list: ReadableSpan[], name: string, kind?: SpanKind): ReadableSpan {
    const found = list.filter((s) => s.name === name && (kind === undefined || s.kind === kind));
    expect(found, `spans named ${name}`).to.have.length(1);
    return found[0];
  }

  describe('monitor', () => {
    it('wraps a sync function: returns its value, ends an active span, records the duration', async () => {
      const before = await reader.total('operation_duration_seconds', { operation: 'sync-op', outcome: 'ok' });
      let active: Span | undefined;
      const out = monitor('sync-op', (span) => {
        active = trace.getActiveSpan();
        span.setAttribute('k', 'v');
        return 42;
      });
      expect(out).to.equal(42);
      const s = one(await spans(), 'sync-op');
      expect(active?.spanContext().spanId).to.equal(s.spanContext().spanId);
      expect(s.attributes.k).to.equal('v');
      expect(s.status.code).to.equal(SpanStatusCode.UNSET);
      expect(await reader.total('operation_duration_seconds', { operation: 'sync-op', outcome: 'ok' })).to.equal(
        before + 1,
      );
    });

    it('marks a sync throw as error and rethrows the same error', async () => {
      const boom = new TypeError('bad input');
      expect(() =>
        monitor('sync-fail', () => {
          throw boom;
        }),
      ).to.throw(boom);
      const s = one(await spans(), 'sync-fail');
      expect(s.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'bad input' });
      expect(s.events.map((e) => e.name)).to.deep.equal(['exception']);
      expect(s.events[0].attributes?.['exception.type']).to.equal('TypeError');
      expect(await reader.total('operation_duration_seconds', { operation: 'sync-fail', outcome: 'error' })).to.equal(
        1,
      );
    });

    it('keeps an async function in its span until it settles, nested calls become children', async () => {
      const value = await monitor('async-outer', async () => {
        await new Promise((r) => setTimeout(r, 20));
        return monitor('async-inner', async () => {
          await new Promise((r) => setTimeout(r, 5));
          return 'done';
        });
      });
      expect(value).to.equal('done');
      const list = await spans();
      const outer = one(list, 'async-outer');
      const inner = one(list, 'async-inner');
      expect(inner.parentSpanContext?.spanId).to.equal(outer.spanContext().spanId);
      expect(inner.spanContext().traceId).to.equal(outer.spanContext().traceId);
      const ms = (s: ReadableSpan) => s.duration[0] * 1000 + s.duration[1] / 1e6;
      expect(ms(outer)).to.be.at.least(20);
    });

    it('marks an async rejection as error and rejects with the same reason', async () => {
      const reason = new Error('payment declined');
      let got: unknown;
      await monitor('async-fail', async () => {
        await new Promise((r) => setTimeout(r, 1));
        throw reason;
      }).catch((e: unknown) => (got = e));
      expect(got).to.equal(reason);
      const s = one(await spans(), 'async-fail');
      expect(s.status.code).to.equal(SpanStatusCode.ERROR);
      expect(s.attributes['error.type']).to.equal('Error');
    });
  });

  describe('recordError', () => {
    it('records Errors, strings and other values with status ERROR', async () => {
      const tracer = trace.getTracer('t');
      for (const [name, err] of [
        ['e-error', new RangeError('out of range')],
        ['e-string', 'plain text'],
        ['e-object', { code: 7 }],
      ] as const) {
        const span = tracer.startSpan(name);
        recordError(span, err);
        span.end();
      }
      const list = await spans();
      expect(one(list, 'e-error').status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'out of range' });
      expect(one(list, 'e-error').attributes['error.type']).to.equal('RangeError');
      expect(one(list, 'e-string').status.message).to.equal('plain text');
      expect(one(list, 'e-object').status.message).to.equal('{"code":7}');
      for (const n of ['e-error', 'e-string', 'e-object']) expect(one(list, n).events[0].name).to.equal('exception');
    });
  });

  describe('log correlation', () => {
    it('pinoMixin adds the active span ids to every line, none outside a span', () => {
      const sink = new LogSink();
      const log = pino({ mixin: pinoMixin() }, sink);
      let ids: { traceId: string; spanId: string } | undefined;
      monitor('logging-op', (span) => {
        ids = span.spanContext();
        log.info('inside');
      });
      log.info('outside');
      expect(sink.lines[0]).to.include({
        msg: 'inside',
        trace_id: ids!.traceId,
        span_id: ids!.spanId,
        trace_flags: '01',
      });
      expect(sink.lines[1]).to.not.have.property('trace_id');
    });

    it('correlationFields works for any logger and follows async work', async () => {
      expect(correlationFields()).to.deep.equal({});
      await monitor('async-log', async (span) => {
        await new Promise((r) => setTimeout(r, 2));
        expect(correlationFields()).to.deep.equal({
          trace_id: span.spanContext().traceId,
          span_id: span.spanContext().spanId,
          trace_flags: '01',
        });
      });
    });
  });

  describe('HTTP server: wrapHandler', () => {
    it('continues the caller trace and sets the HTTP attributes', async () => {
      const srv = await listen(
        wrapHandler((_req, res) => {
          res.setHeader('x-trace', correlationFields().trace_id ?? '');
          res.end('ok');
        }),
      );
      try {
        const res = await fetch(`${srv.url}/orders?id=7`, {
          headers: {
            traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
            'user-agent': 'unit-test/1.0',
          },
        });
        expect(res.headers.get('x-trace')).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
        await res.arrayBuffer();
      } finally {
        await srv.close();
      }
      const s = one(await spans(), 'GET /orders', SpanKind.SERVER);
      expect(s.spanContext().traceId).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(s.parentSpanContext?.spanId).to.equal('00f067aa0ba902b7');
      expect(s.attributes).to.include({
        'http.method': 'GET',
        'http.route': '/orders',
        'http.user_agent': 'unit-test/1.0',
        'http.status_code': 200,
      });
      expect(s.attributes['http.url']).to.match(/^http:\/\/127\.0\.0\.1:\d+\/orders\?id=7$/);
      expect(s.status.code).to.equal(SpanStatusCode.UNSET);
    });

    it('sets status ERROR for 5xx but not 4xx, and counts requests and errors', async () => {
      const labels = (code: number) => ({ 'http.route': '/status', 'http.status_code': code });
      const base = {
        ok: await reader.total('http_requests_total', labels(404)),
        err: await reader.total('http_errors_total', labels(503)),
      };
      const srv = await listen(
        wrapHandler((req, res) => {
          res.statusCode = Number(new URL(req.url!, 'http://x').searchParams.get('code'));
          res.end();
        }),
      );
      try {
        for (const code of [404, 503, 503]) await (await fetch(`${srv.url}/status?code=${code}`)).arrayBuffer();
      } finally {
        await srv.close();
      }
      const list = (await spans()).filter((s) => s.kind === SpanKind.SERVER);
      expect(list.map((s) => [s.attributes['http.status_code'], s.status.code])).to.deep.equal([
        [404, SpanStatusCode.UNSET],
        [503, SpanStatusCode.ERROR],
        [503, SpanStatusCode.ERROR],
      ]);
      expect(await reader.total('http_requests_total', labels(404))).to.equal(base.ok + 1);
      expect(await reader.total('http_errors_total', labels(503))).to.equal(base.err + 2);
      expect(await reader.total('http_errors_total', labels(404))).to.equal(0);
      expect(await reader.total('http_request_duration_seconds', labels(503))).to.be.at.least(2);
    });

    it('answers 500 for a throwing or rejecting handler and records the exception', async () => {
      const srv = await listen(
        wrapHandler(async (req) => {
          if (req.url === '/sync') throw new Error('sync failure');
          await new Promise((r) => setTimeout(r, 2));
          throw new Error('async failure');
        }),
      );
      try {
        expect((await fetch(`${srv.url}/sync`)).status).to.equal(500);
        expect((await fetch(`${srv.url}/async`)).status).to.equal(500);
      } finally {
        await srv.close();
      }
      const list = await spans();
      for (const [name, msg] of [
        ['GET /sync', 'sync failure'],
        ['GET /async', 'async failure'],
      ]) {
        const s = one(list, name, SpanKind.SERVER);
        expect(s.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: msg });
        expect(s.attributes['http.status_code']).to.equal(500);
        expect(s.events[0].attributes?.['exception.message']).to.equal(msg);
      }
    });

    it('starts a new trace for a request without traceparent, whatever context the server was created in', async () => {
      await monitor('server-owner', async () => {
        const srv = await listen(wrapHandler((_req, res) => res.end()));
        try {
          await (await fetch(`${srv.url}/untraced`)).arrayBuffer();
        } finally {
          await srv.close();
        }
      });
      const list = await spans();
      const server = one(list, 'GET /untraced', SpanKind.SERVER);
      expect(server.parentSpanContext).to.equal(undefined);
      expect(server.spanContext().traceId).to.not.equal(one(list, 'server-owner').spanContext().traceId);
    });

    it('names spans and metrics by the route option', async () => {
      const srv = await listen(wrapHandler((_req, res) => res.end(), { route: () => '/users/:id' }));
      try {
        await (await fetch(`${srv.url}/users/123`)).arrayBuffer();
      } finally {
        await srv.close();
      }
      one(await spans(), 'GET /users/:id', SpanKind.SERVER);
      expect(await reader.total('http_requests_total', { 'http.route': '/users/:id' })).to.equal(1);
    });

    it('tracingMiddleware does the same for a Connect-style chain', async () => {
      const mw = tracingMiddleware();
      let inside: string | undefined;
      const srv = await listen((req, res) =>
        mw(req, res, () => {
          inside = trace.getActiveSpan()?.spanContext().traceId;
          res.statusCode = 502;
          res.end();
        }),
      );
      try {
        await (
          await fetch(`${srv.url}/mw`, {
            headers: { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' },
          })
        ).arrayBuffer();
      } finally {
        await srv.close();
      }
      const s = one(await spans(), 'GET /mw', SpanKind.SERVER);
      expect(inside).to.equal('11111111111111111111111111111111');
      expect(s.parentSpanContext?.spanId).to.equal('2222222222222222');
      expect(s.status.code).to.equal(SpanStatusCode.ERROR);
    });
  });

  describe('HTTP client: tracedFetch and injectHeaders', () => {
    it('opens a CLIENT span whose context the server continues', async () => {
      const srv = await listen(wrapHandler((_req, res) => res.end('pong')));
      try {
        await monitor('caller', async () => {
          const res = await tracedFetch(`${srv.url}/ping`, { method: 'post', body: 'x' });
          expect(await res.text()).to.equal('pong');
        });
      } finally {
        await srv.close();
      }
      const list = await spans();
      const caller = one(list, 'caller');
      const client = one(list, 'POST /ping', SpanKind.CLIENT);
      const server = one(list, 'POST /ping', SpanKind.SERVER);
      expect(client.parentSpanContext?.spanId).to.equal(caller.spanContext().spanId);
      expect(server.parentSpanContext?.spanId).to.equal(client.spanContext().spanId);
      expect(server.parentSpanContext?.isRemote).to.equal(true);
      expect(new Set([caller, client, server].map((s) => s.spanContext().traceId)).size).to.equal(1);
      expect(client.attributes).to.include({
        'http.method': 'POST',
        'http.status_code': 200,
        'server.address': '127.0.0.1',
      });
    });

    it('marks 4xx answers and network errors on the client span', async () => {
      const srv = await listen((_req, res) => {
        res.statusCode = 404;
        res.end();
      });
      await (await tracedFetch(`${srv.url}/missing`)).arrayBuffer();
      await srv.close();
      let failure: unknown;
      await tracedFetch(`${srv.url}/gone`).catch((e: unknown) => (failure = e));
      expect(failure).to.be.instanceOf(Error);
      const list = await spans();
      expect(one(list, 'GET /missing', SpanKind.CLIENT).status).to.deep.equal({
        code: SpanStatusCode.ERROR,
        message: 'HTTP 404',
      });
      const gone = one(list, 'GET /gone', SpanKind.CLIENT);
      expect(gone.status.code).to.equal(SpanStatusCode.ERROR);
      expect(gone.events[0].name).to.equal('exception');
    });

    it('injectHeaders writes traceparent into plain objects and Headers, nothing outside a span', () => {
      expect(injectHeaders({})).to.deep.equal({});
      monitor('inject', (span) => {
        const sc = span.spanContext();
        const expected = `00-${sc.traceId}-${sc.spanId}-01`;
        expect(injectHeaders({ accept: 'x' })).to.deep.equal({ accept: 'x', traceparent: expected });
        expect(injectHeaders(new Headers()).get('traceparent')).to.equal(expected);
        const extracted = trace.getSpanContext(propagation.extract(context.active(), injectHeaders({})));
        expect(extracted?.spanId).to.equal(sc.spanId);
      });
    });
  });

  it('the handle carries the same helpers bound to its own providers', async () => {
    const srv = await listen(handle.wrapHandler((_req, res) => res.end()));
    try {
      await handle.monitor('bound', () => handle.tracedFetch(`${srv.url}/bound`).then((r) => r.arrayBuffer()));
    } finally {
      await srv.close();
    }
    expect(await waitFor(() => exporter.getFinishedSpans().length >= 3, 2000)).to.equal(true);
    const list = await spans();
    expect(one(list, 'GET /bound', SpanKind.SERVER).parentSpanContext?.spanId).to.equal(
      one(list, 'GET /bound', SpanKind.CLIENT).spanContext().spanId,
    );
  });
});
