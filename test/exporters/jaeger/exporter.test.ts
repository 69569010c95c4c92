// Unit tests of the `jaeger` exporter against a local thrift collector (test/exporters/jaeger/thrift-server.ts):
// one process per resource, thrift fields (ids, parent, kind, µs times, typed tags, logs, links), request
// size, the deprecated max_exporters, retries, permanent rejection, undecodable chunks, hung backends, UDP,
// lifecycle.

import { expect } from 'chai';
import pino from 'pino';
import * as dgram from 'node:dgram';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ExportRejectedError, ExporterErrorCode } from '../../../pipeline/sdk/exporterhelper/errors';
import type { ExportError } from '../../../pipeline/sdk/exporterhelper/errors';
import { factory } from '../../../exporters/jaeger/factory';
import type { JaegerTraceExporter } from '../../../exporters/jaeger/exporter';
import { ShutdownError } from '../../../pipeline/sdk/errors';
import {
  batchOf,
  chunkOf,
  kv,
  metricValue,
  newTraceId,
  resourceSpans,
  richTrace,
  settings,
  span,
  str,
} from '../../pipeline/sdk/exporterhelper/fixtures';
import { hex, ThriftServer } from './thrift-server';
import { selfSigned } from '../../pipeline/sdk/exporterhelper/tls-fixture';

const host = { reportFatalError() {} };
const fastRetry = { initial_interval: '5ms', max_interval: '10ms', max_elapsed_time: '2s' };
const i64 = (b: Buffer) => b.readBigInt64BE(0);

function make(cfg: Record<string, unknown>, id = 'exporters.jaeger') {
  const s = settings(id);
  const exp = factory.create(s, factory.configSchema.parse(cfg)) as JaegerTraceExporter;
  return { exp, s };
}

describe('exporters/jaeger/exporter', function () {
  this.timeout(15000);
  let server: ThriftServer;
  beforeEach(async () => {
    server = await new ThriftServer().start();
  });
  afterEach(() => server.stop());

  it('sends a two-service trace as one thrift batch per resource, field by field', async () => {
    const { exp, s } = make({
      endpoint: server.url,
      headers: { 'x-scope-orgid': 'tenant-1' },
      username: 'u',
      password: 'p',
    });
    await exp.start(host);
    const traceId = newTraceId();
    const t0 = 1_700_000_000_123_456_789n;
    const { rs, ids } = richTrace(traceId, ['frontend', 'backend'], t0);
    await exp.consumeTraces(batchOf(chunkOf(traceId, rs)));
    expect(server.received.map((b) => b.process.serviceName).sort()).to.deep.equal(['backend', 'frontend']);
    const front = server.received.find((b) => b.process.serviceName === 'frontend')!;
    expect(front.headers['x-scope-orgid']).to.equal('tenant-1');
    expect(front.headers.authorization).to.equal(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(front.process.tags!.map((t) => [t.key, t.vStr])).to.deep.equal([
      ['host.name', 'web-1'],
      ['deployment.environment', 'test'],
    ]);

    const all = server.spans();
    const root = all.find((x) => hex(x.spanId) === ids.root)!;
    expect(hex(root.traceIdHigh) + hex(root.traceIdLow)).to.equal(traceId);
    expect(root.operationName).to.equal('GET /checkout');
    expect(i64(root.parentSpanId)).to.equal(0n);
    expect(i64(root.startTime)).to.equal(t0 / 1000n);
    expect(i64(root.duration)).to.equal(250_000n);
    const tags = Object.fromEntries(
      root.tags!.map((t) => [t.key, t.vType === 'STRING' ? t.vStr : t.vType === 'BOOL' ? t.vBool : t.vDouble]),
    );
    expect(tags).to.deep.equal({
      'http.method': 'GET',
      'http.status_code': 200,
      ratio: 0.25,
      'cache.hit': true,
      big: '9007199254740993',
      tags: '["a","b,c"]',
      codes: '[1,2,3]',
      flags: '[true,false]',
      mixed: '["x",1]',
      payload: 'AAEC+g==',
      user: '{"id":42,"name":"ann"}',
      'otel.status_code': 'OK',
      'span.kind': 'server',
      'otel.library.name': 'test-scope',
      'otel.library.version': '1.2.3',
    });
    expect(root.logs!.map((l) => [i64(l.timestamp), l.fields.map((f) => f.key)])).to.deep.equal([
      [(t0 + 10_000_999n) / 1000n, ['event', 'key', 'hit', 'size']],
    ]);

    const child = all.find((x) => hex(x.spanId) === ids.child)!;
    expect(child.service).to.equal('backend');
    expect(hex(child.parentSpanId)).to.equal(ids.root);
    expect(child.references!.map((r) => [r.refType, hex(r.spanId)])).to.deep.equal([['FOLLOWS_FROM', ids.linkSpan]]);
    expect(child.tags!.find((t) => t.key === 'span.kind')!.vStr).to.equal('client');
    const grand = all.find((x) => hex(x.spanId) === ids.grand)!;
    expect(
      grand
        .tags!.filter((t) => ['error', 'otel.status_code', 'otel.status_description'].includes(t.key))
        .map((t) => t.vStr || t.vBool),
    ).to.deep.equal(['ERROR', 'bad row 3', true]);
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.jaeger' })).to.equal(
      3,
    );
    await exp.shutdown();
  });

  it('repeats the resource on every span with resource_attributes_as: span_tags', async () => {
    const { exp } = make({ endpoint: server.url, resource_attributes_as: 'span_tags' });
    const traceId = newTraceId();
    await exp.consumeTraces(batchOf(chunkOf(traceId, richTrace(traceId, ['a', 'b'], 1_700_000_000_000_000_000n).rs)));
    const a = server.received.find((b) => b.process.serviceName === 'a')!;
    expect(a.process.tags ?? []).to.deep.equal([]);
    expect(a.spans[0].tags!.find((t) => t.key === 'host.name')!.vStr).to.equal('web-1');
    expect(a.spans[0].tags!.find((t) => t.key === 'service.name')!.vStr).to.equal('a');
    await exp.shutdown();
  });

  it('merges chunks of one resource into one request and cuts requests at max_spans_per_request', async () => {
    const { exp } = make({ endpoint: server.url, max_spans_per_request: 100 });
    const chunks = [0, 1, 2].map(() => {
      const traceId = newTraceId();
      return chunkOf(traceId, [
        resourceSpans(
          'svc',
          Array.from({ length: 90 }, (_, i) => span({ traceId, name: `s${i}` })),
        ),
      ]);
    });
    await exp.consumeTraces(batchOf(...chunks));
    expect(server.received.map((b) => b.spans.length)).to.deep.equal([100, 100, 70]);
    expect(new Set(server.spans().map((x) => hex(x.spanId))).size).to.equal(270);
    await exp.shutdown();
  });

  it('accepts the deprecated max_exporters with a warning, and names every process correctly', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
    const exp = factory.create(
      settings('exporters.jaeger', logger),
      factory.configSchema.parse({ endpoint: server.url, max_exporters: 2 }),
    ) as JaegerTraceExporter;
    expect(lines.filter((l) => l.includes('max_exporters is deprecated'))).to.have.length(1);
    for (const svc of ['s1', 's2', 's3', 's1', 's4']) {
      const traceId = newTraceId();
      await exp.consumeTraces(batchOf(chunkOf(traceId, [resourceSpans(svc, [span({ traceId, name: svc })])])));
      expect(exp.health()).to.deep.equal({ ready: true, detail: `protocol http, ${server.url}` });
    }
    expect(server.received.map((b) => [b.process.serviceName, b.spans[0].operationName])).to.deep.equal([
      ['s1', 's1'],
      ['s2', 's2'],
      ['s3', 's3'],
      ['s1', 's1'],
      ['s4', 's4'],
    ]);
    await exp.shutdown();
  });

  it('exports every resource when many arrive at once', async () => {
    server.reply = () => ({ status: 202 });
    const { exp, s } = make({ endpoint: server.url });
    const services = ['c1', 'c2', 'c3', 'c4', 'c5', 'c1', 'c2'];
    await Promise.all(
      services.map((svc) => {
        const traceId = newTraceId();
        return exp.consumeTraces(
          batchOf(chunkOf(traceId, [resourceSpans(svc, [span({ traceId, name: `${svc}-op` })])])),
        );
      }),
    );
    expect(server.received.map((b) => `${b.process.serviceName}:${b.spans[0].operationName}`).sort()).to.deep.equal(
      services.map((x) => `${x}:${x}-op`).sort(),
    );
    expect(
      await metricValue(s.metrics, 'tusk_exporter_retries_total', { exporter: 'exporters.jaeger' }),
      'no export needed a retry',
    ).to.equal(undefined);
    await exp.shutdown();
  });

  it('keeps one process per resource even for the same service.name', async () => {
    const { exp } = make({ endpoint: server.url });
    const traceId = newTraceId();
    await exp.consumeTraces(
      batchOf(
        chunkOf(traceId, [
          resourceSpans('svc', [span({ traceId, name: 'on-h1' })], [kv('host.name', str('h1'))]),
          resourceSpans('svc', [span({ traceId, name: 'on-h2' })], [kv('host.name', str('h2'))]),
        ]),
      ),
    );
    const byHost = Object.fromEntries(
      server.received.map((b) => [b.process.tags![0].vStr, b.spans.map((x) => x.operationName)]),
    );
    expect(byHost).to.deep.equal({ h1: ['on-h1'], h2: ['on-h2'] });
    await exp.shutdown();
  });

  it('retries 503 (honouring Retry-After) and resolves once Jaeger accepts', async () => {
    server.reply = (n) => (n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 202 });
    const { exp, s } = make({ endpoint: server.url, retry_on_failure: fastRetry });
    const traceId = newTraceId();
    const started = Date.now();
    await exp.consumeTraces(batchOf(chunkOf(traceId, [resourceSpans('svc', [span({ traceId, name: 'x' })])])));
    expect(Date.now() - started).to.be.at.least(990);
    expect(server.received).to.have.length(2);
    expect(await metricValue(s.metrics, 'tusk_exporter_retries_total', { exporter: 'exporters.jaeger' })).to.equal(1);
    await exp.shutdown();
  });

  it('rejects retriably after its bounded retries when Jaeger keeps failing (never resolves)', async () => {
    server.reply = () => ({ status: 500 });
    const { exp, s } = make({ endpoint: server.url, retry_on_failure: { ...fastRetry, max_elapsed_time: '100ms' } });
    const traceId = newTraceId();
    const out = await exp
      .consumeTraces(batchOf(chunkOf(traceId, [resourceSpans('svc', [span({ traceId, name: 'x' })])])))
      .then(
        () => 'resolved',
        (e: ExportError) => e,
      );
    expect(out).to.not.equal('resolved');
    expect((out as ExportError).retriable).to.equal(true);
    expect((out as ExportError).status).to.equal(500);
    expect(
      await metricValue(s.metrics, 'tusk_exporter_failed_spans_total', {
        exporter: 'exporters.jaeger',
        kind: 'retriable',
      }),
    ).to.equal(1);
    await exp.shutdown();
  });

  it('rejects permanently on 400, naming the trace, without retrying', async () => {
    server.reply = () => ({ status: 400 });
    const { exp, s } = make({ endpoint: server.url, retry_on_failure: fastRetry });
    const traceId = newTraceId();
    const err = (await exp
      .consumeTraces(batchOf(chunkOf(traceId, [resourceSpans('svc', [span({ traceId, name: 'x' })])])))
      .catch((e: unknown) => e)) as ExportRejectedError;
    expect(err).to.be.instanceOf(ExportRejectedError);
    expect(err.retriable).to.equal(false);
    expect(err.traceIds).to.deep.equal([traceId]);
    expect(server.received).to.have.length(1);
    expect(
      await metricValue(s.metrics, 'tusk_exporter_failed_spans_total', {
        exporter: 'exporters.jaeger',
        kind: 'permanent',
      }),
    ).to.equal(1);
    await exp.shutdown();
  });

  it('rejects an undecodable chunk permanently and exports the good one', async () => {
    const { exp } = make({ endpoint: server.url });
    const good = newTraceId();
    const bad = newTraceId();
    const err = (await exp
      .consumeTraces(
        batchOf(chunkOf(good, [resourceSpans('svc', [span({ traceId: good, name: 'ok' })])]), {
          traceId: bad,
          data: Uint8Array.from([0x0a, 0x05, 0x01]),
          spanCount: 1,
        }),
      )
      .catch((e: unknown) => e)) as ExportRejectedError;
    expect(err).to.be.instanceOf(ExportRejectedError);
    expect(err.traceIds).to.deep.equal([bad]);
    expect((err.cause as { code: string }).code).to.equal('ERR_OTLP_DECODE');
    expect(server.spans().map((x) => x.operationName)).to.deep.equal(['ok']);
    await exp.shutdown();
  });

  it('does not hang on a backend that never answers: the attempt times out and the batch rejects retriably', async () => {
    server.reply = () => 'hang';
    const { exp } = make({
      endpoint: server.url,
      timeout: '200ms',
      retry_on_failure: { ...fastRetry, max_elapsed_time: '300ms' },
    });
    const traceId = newTraceId();
    const started = Date.now();
    const err = (await exp
      .consumeTraces(batchOf(chunkOf(traceId, [resourceSpans('svc', [span({ traceId, name: 'x' })])])))
      .catch((e: unknown) => e)) as ExportError;
    expect(Date.now() - started).to.be.below(3000);
    expect(err.retriable).to.equal(true);
    expect([ExporterErrorCode.TIMEOUT, ExporterErrorCode.RETRIES_EXHAUSTED]).to.include(err.code);
    await exp.shutdown();
  });

  it('serializes concurrent batches of one resource: every request holds exactly one batch', async () => {
    const { exp } = make({ endpoint: server.url });
    const ids = [newTraceId(), newTraceId(), newTraceId()];
    const all = Promise.all(
      ids.map((traceId) =>
        exp.consumeTraces(
          batchOf(
            chunkOf(traceId, [
              resourceSpans(
                'svc',
                Array.from({ length: 20 }, (_, i) => span({ traceId, name: `${traceId}-${i}` })),
              ),
            ]),
          ),
        ),
      ),
    );
    await all;
    expect(server.received).to.have.length(3);
    for (const b of server.received) expect(new Set(b.spans.map((x) => hex(x.traceIdLow))).size).to.equal(1);
    await exp.shutdown();
  });

  it('sends over UDP only when asked (protocol: udp), to the agent endpoint', async () => {
    const sock = dgram.createSocket('udp4');
    const packets: Buffer[] = [];
    sock.on('message', (m) => packets.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = (sock.address() as AddressInfo).port;
    const { exp } = make({ protocol: 'udp', agent_endpoint: `127.0.0.1:${port}` });
    const traceId = newTraceId();
    await exp.consumeTraces(
      batchOf(chunkOf(traceId, [resourceSpans('udp-svc', [span({ traceId, name: 'over-udp' })])])),
    );
    for (let i = 0; i < 50 && packets.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(packets).to.have.length(1);
    expect(packets[0].includes(Buffer.from('over-udp'))).to.equal(true);
    expect(packets[0].includes(Buffer.from('udp-svc'))).to.equal(true);
    await exp.shutdown();
    sock.close();
  });

  it('sends to an https:// endpoint trusted through tls.ca_file', async () => {
    const tls = selfSigned();
    let posted = 0;
    const srv = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        posted++;
        res.statusCode = 202;
        res.end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const { exp } = make({
        endpoint: `https://127.0.0.1:${(srv.address() as AddressInfo).port}/api/traces`,
        tls: { ca_file: tls.certFile },
      });
      await exp.start(host);
      const traceId = newTraceId();
      await exp.consumeTraces(batchOf(chunkOf(traceId, [resourceSpans('svc', [span({ traceId, name: 'x' })])])));
      await exp.shutdown();
      expect(posted).to.equal(1);
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('validates its config: auth pairs, UDP without auth, URL scheme', () => {
    const issues = (c: unknown) => (factory.configSchema.safeParse(c).error?.issues ?? []).map((i) => i.path.join('.'));
    expect(issues({ username: 'u' })).to.deep.equal(['password']);
    expect(issues({ protocol: 'udp', headers: { a: 'b' } })).to.deep.equal(['protocol']);
    expect(issues({ endpoint: 'tcp://x:1' })).to.deep.equal(['endpoint']);
    expect(issues({ dead_letter: { topic: 'dlq' } })).to.deep.equal(['dead_letter.brokers']);
    expect(issues({ timeout: '0s' })).to.deep.equal(['timeout']);
    expect(issues({ unknown_key: 1 })).to.deep.equal(['']);
    expect(factory.createDefaultConfig()).to.not.equal(factory.createDefaultConfig());
    expect(factory.createDefaultConfig().endpoint).to.equal('http://127.0.0.1:14268/api/traces');
  });

  it('shutdown is idempotent, safe without start, and refuses later batches', async () => {
    const { exp } = make({ endpoint: server.url });
    await Promise.all([exp.shutdown(), exp.shutdown()]);
    const traceId = newTraceId();
    const err = await exp
      .consumeTraces(batchOf(chunkOf(traceId, [resourceSpans('svc', [span({ traceId, name: 'x' })])])))
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ShutdownError);
  });
});
