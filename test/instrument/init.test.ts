// initTracing: the SDK it sets up (resource, parent-based ratio sampler, batch export flushed by
// shutdown, W3C propagation, globals), the Prometheus endpoint, the handle's logger, and its errors.

import { expect } from 'chai';
import net from 'node:net';
import path from 'node:path';
import { context, propagation, trace, SpanKind, type Span } from '@opentelemetry/api';
import { initTracing, TracingRegistrationError, ConfigError, type TracingHandle } from '../../instrument';
import { freePort } from '../helpers/ports';
import { LogSink, RetainingExporter, TestMetricReader, listen } from './helpers';

const SEED = path.join(__dirname, '..', 'fixtures', 'config', 'tracing-seed.tsk');
const SEED_ENV = {
  JAEGER_ENDPOINT: 'http://127.0.0.1:14268/api/traces',
  SAMPLING_RATE: '1',
  SERVICE_NAME: 'init-test',
};

describe('instrument/init: initTracing', () => {
  let handle: TracingHandle | undefined;
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
  });

  it("initialises from the seed's [tracing] file and exports spans with service.name on shutdown", async () => {
    const exporter = new RetainingExporter();
    handle = initTracing(SEED, {
      env: SEED_ENV,
      spanExporter: exporter,
      metricReaders: [new TestMetricReader()],
      logDestination: new LogSink(),
    });
    expect(handle.config.backend).to.equal('jaeger');
    handle.tracer.startSpan('before-shutdown').end();
    // the batch processor waits 5 s by default: only shutdown's flush can have exported it by now
    expect(exporter.getFinishedSpans()).to.have.length(0);
    await handle.shutdown();
    const [span] = exporter.byName('before-shutdown');
    expect(span, 'span flushed by shutdown').to.not.equal(undefined);
    expect(span.resource.attributes['service.name']).to.equal('init-test');
    expect(span.resource.attributes['telemetry.sdk.language']).to.equal('nodejs');
    await handle.shutdown(); // idempotent
  });

  it('samples new traces at sampling_rate and follows the parent decision of incoming context', async () => {
    const exporter = new RetainingExporter();
    handle = initTracing(SEED, { env: { ...SEED_ENV, SAMPLING_RATE: '0' }, spanExporter: exporter, metricReaders: [] });
    const root = handle.tracer.startSpan('new-root');
    expect(root.isRecording(), 'root at rate 0').to.equal(false);
    root.end();
    const sampledParent = propagation.extract(context.active(), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const child = handle.tracer.startSpan('child-of-sampled', { kind: SpanKind.SERVER }, sampledParent);
    expect(child.isRecording(), 'child of a sampled remote parent').to.equal(true);
    child.end();
    const unsampledParent = propagation.extract(context.active(), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203331-00',
    });
    const other = handle.tracer.startSpan('child-of-unsampled', {}, unsampledParent);
    expect(other.isRecording()).to.equal(false);
    other.end();
    await handle.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => s.name)).to.deep.equal(['child-of-sampled']);
    const s = exporter.getFinishedSpans()[0];
    expect(s.spanContext().traceId).to.equal('0af7651916cd43dd8448eb211c80319c');
    expect(s.parentSpanContext?.spanId).to.equal('b7ad6b7169203331');
    expect(s.parentSpanContext?.isRemote).to.equal(true);
  });

  it('registers W3C propagation, an async context manager and the global tracer provider', async () => {
    const exporter = new RetainingExporter();
    handle = initTracing({ service_name: 'globals' }, { spanExporter: exporter, metricReaders: [] });
    const tracer = trace.getTracer('someone-else');
    await tracer.startActiveSpan('outer', async (span: Span) => {
      await new Promise((r) => setTimeout(r, 5));
      expect(trace.getActiveSpan(), 'context survives await').to.equal(span);
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      const sc = span.spanContext();
      expect(carrier.traceparent).to.equal(`00-${sc.traceId}-${sc.spanId}-01`);
      span.end();
    });
    await handle.forceFlush();
    expect(exporter.byName('outer')).to.have.length(1);
  });

  it('refuses a second live registration with a coded error, and allows one after shutdown', async () => {
    const sink = new LogSink();
    handle = initTracing(
      { service_name: 'first' },
      { spanExporter: new RetainingExporter(), metricReaders: [], logDestination: sink },
    );
    let caught: unknown;
    try {
      initTracing({ service_name: 'second' }, { spanExporter: new RetainingExporter(), metricReaders: [] });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(TracingRegistrationError);
    expect((caught as TracingRegistrationError).code).to.equal('ERR_INSTRUMENT_ALREADY_REGISTERED');
    expect(
      sink.lines.some((l) => String(l.msg).includes('duplicate registration')),
      'the API says so through the live handle',
    ).to.equal(true);
    // the first handle is untouched
    expect(trace.getTracer('x').startSpan('still-first').isRecording()).to.equal(true);
    await handle.shutdown();
    expect(trace.getTracer('x').startSpan('after-shutdown').isRecording(), 'globals removed by shutdown').to.equal(
      false,
    );
    handle = initTracing({ service_name: 'third' }, { spanExporter: new RetainingExporter(), metricReaders: [] });
    expect(handle.config.serviceName).to.equal('third');
  });

  it('with registerGlobal: false leaves the globals alone', async () => {
    const exporter = new RetainingExporter();
    handle = initTracing(
      { service_name: 'local' },
      { spanExporter: exporter, metricReaders: [], registerGlobal: false },
    );
    expect(trace.getTracer('x').startSpan('global').isRecording()).to.equal(false);
    handle.tracer.startSpan('local-span').end();
    await handle.forceFlush();
    expect(exporter.byName('local-span')).to.have.length(1);
  });

  it('throws ConfigError before touching any global for a bad section', () => {
    expect(() => initTracing({ service_name: 'x', sampling_rate: 'lots' }, { metricReaders: [] })).to.throw(
      ConfigError,
      /sampling_rate/,
    );
    expect(() => initTracing({ service_name: '' }, { metricReaders: [] })).to.throw(
      ConfigError,
      /service_name: required/,
    );
    expect(trace.getTracer('x').startSpan('none').isRecording()).to.equal(false);
  });

  it('serves the seed metrics on the Prometheus endpoint, with trace_duration_ms when metrics asks', async () => {
    const port = await freePort();
    handle = initTracing(SEED, {
      env: SEED_ENV,
      overrides: { metrics_port: port },
      spanExporter: new RetainingExporter(),
      logDestination: new LogSink(),
    });
    await handle.ready;
    expect(handle.metricsUrl).to.equal(`http://127.0.0.1:${port}/metrics`);
    const srv = await listen(
      handle.wrapHandler((req, res) => {
        res.statusCode = req.url === '/fail' ? 500 : 200;
        res.end();
      }),
    );
    try {
      for (const p of ['/a', '/a', '/fail']) await (await fetch(srv.url + p)).arrayBuffer();
    } finally {
      await srv.close();
    }
    const text = await (await fetch(handle.metricsUrl!)).text();
    expect(text).to.match(/^http_requests_total\{[^}]*http_route="\/a"[^}]*http_status_code="200"[^}]*\} 2$/m);
    expect(text).to.match(/^http_requests_total\{[^}]*http_route="\/fail"[^}]*\} 1$/m);
    expect(text).to.match(/^http_errors_total\{[^}]*http_route="\/fail"[^}]*\} 1$/m);
    expect(text).to.match(/^http_request_duration_seconds_count\{[^}]*http_route="\/a"[^}]*\} 2$/m);
    const traceCounts = [...text.matchAll(/^trace_duration_ms_count\{[^}]*\} (\d+)$/gm)].map((m) => Number(m[1]));
    expect(
      traceCounts.reduce((a, b) => a + b, 0),
      'one local-root span per request',
    ).to.equal(3);
  });

  it('without metrics asks for no trace_duration_ms; metrics_port 0 serves through metricsHandler only', async () => {
    handle = initTracing(
      { service_name: 'no-trace-metric', metrics_port: 0 },
      { spanExporter: new RetainingExporter() },
    );
    await handle.ready;
    expect(handle.metricsUrl).to.equal(undefined);
    const srv = await listen(handle.wrapHandler((_req, res) => res.end()));
    const metricsSrv = await listen((req, res) => handle!.metricsHandler!(req, res));
    try {
      await (await fetch(srv.url + '/x')).arrayBuffer();
      const text = await (await fetch(metricsSrv.url + '/metrics')).text();
      expect(text).to.match(/^http_requests_total\{[^}]*\} 1$/m);
      expect(text).to.not.include('trace_duration_ms');
    } finally {
      await srv.close();
      await metricsSrv.close();
    }
  });

  it('rejects `ready` when the metrics port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const sink = new LogSink();
      handle = initTracing(
        { service_name: 'busy', metrics_port: port },
        { spanExporter: new RetainingExporter(), logDestination: sink },
      );
      let err: unknown;
      await handle.ready.catch((e: unknown) => (err = e));
      expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('EADDRINUSE');
      expect(sink.lines.some((l) => l.msg === 'metrics endpoint failed to start')).to.equal(true);
    } finally {
      blocker.close();
    }
  });

  it('handle.logger adds trace_id/span_id when correlation is on, and not when it is off', async () => {
    const on = new LogSink();
    handle = initTracing(SEED, {
      env: SEED_ENV,
      spanExporter: new RetainingExporter(),
      metricReaders: [],
      logDestination: on,
    });
    handle.tracer.startActiveSpan('logged', (span: Span) => {
      handle!.logger.info('inside');
      span.end();
    });
    handle.logger.info('outside');
    const sc = on.lines.find((l) => l.msg === 'inside')!;
    expect(sc.trace_id).to.match(/^[0-9a-f]{32}$/);
    expect(sc.span_id).to.match(/^[0-9a-f]{16}$/);
    expect(sc.service).to.equal('init-test');
    expect(on.lines.find((l) => l.msg === 'outside')).to.not.have.property('trace_id');
    await handle.shutdown();

    const off = new LogSink();
    handle = initTracing(
      { service_name: 'no-corr' },
      { spanExporter: new RetainingExporter(), metricReaders: [], logDestination: off },
    );
    handle.tracer.startActiveSpan('logged', (span: Span) => {
      handle!.logger.info('inside');
      span.end();
    });
    expect(off.lines[0]).to.not.have.property('trace_id');
  });

  it('builds the Jaeger and OTLP exporters from the backend key', async () => {
    // real export is covered end to end (test/e2e/demo-seed.test.ts); here: both construct and shut down cleanly
    handle = initTracing(SEED, { env: SEED_ENV, metricReaders: [], logDestination: new LogSink() });
    await handle.shutdown();
    handle = initTracing(
      { service_name: 'otlp', endpoint: 'http://127.0.0.1:9/v1/traces' },
      { metricReaders: [], logDestination: new LogSink() },
    );
  });
});
