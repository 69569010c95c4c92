// Unit tests of exporters/jaeger/sender.ts against a local thrift server: HttpSender (headers, content type,
// one batch per POST, structured failures with status and Retry-After, a real deadline, bounded concurrency)
// and UdpSender (datagrams packed up to max_packet_size, a span too large for one rejected permanently).
// Also pins the behaviour of the raw @opentelemetry/exporter-jaeger that makes the transport ours: it reports
// HTTP errors only as text, treats a 3xx as success, never calls back when the server does not answer or after
// shutdown, and names the process after the first span carrying a service.name tag.

import { expect } from 'chai';
import * as dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { attributeTags, batchesFromOtlp } from '../../../exporters/jaeger/convert';
import { HttpSender, UdpSender } from '../../../exporters/jaeger/sender';
import { expectMajor, JAEGER_THRIFT_ERROR_CODE, loadJaegerThrift } from '../../../exporters/jaeger/thrift';
import type { ThriftBatch } from '../../../exporters/jaeger/thrift';
import { ExporterErrorCode, ExportError } from '../../../pipeline/sdk/exporterhelper/errors';
import { createAgent, loadTls } from '../../../pipeline/sdk/exporterhelper/http';
import { tlsSchema } from '../../../pipeline/sdk/exporterhelper/config';
import { arr, kv, newSpanId, newTraceId, resourceSpans, span, str } from '../../pipeline/sdk/exporterhelper/fixtures';
import { ThriftServer } from './thrift-server';

const thrift = loadJaegerThrift();
const never = new AbortController().signal;

/** spans builds SDK spans for the raw library: `n` spans of one trace, resource with service.name `service`. */
function spans(service: string, n = 1, attributes: Attributes = {}): ReadableSpan[] {
  const traceId = newTraceId();
  const resource = resourceFromAttributes({ 'service.name': service, 'host.name': 'h1' });
  return Array.from({ length: n }, (_, i): ReadableSpan => {
    const spanId = newSpanId();
    return {
      name: `op-${i}`,
      kind: SpanKind.INTERNAL,
      spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
      parentSpanContext: undefined,
      startTime: [1_700_000_000, 0],
      endTime: [1_700_000_000, 1000],
      duration: [0, 1000],
      status: { code: SpanStatusCode.UNSET },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: { name: 'lib' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

function exportOnce(exp: JaegerExporter, s: ReadableSpan[], waitMs: number): Promise<ExportResult | 'no callback'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('no callback'), waitMs);
    exp.export(s as Parameters<JaegerExporter['export']>[0], (r) => {
      clearTimeout(t);
      resolve(r);
    });
  });
}

/** batch is `n` converted spans of one trace under a process named `service`. */
function batch(service: string, n = 1, spanAttrs: Array<ReturnType<typeof kv>> = []): ThriftBatch {
  const traceId = newTraceId();
  const list = Array.from({ length: n }, (_, i) => span({ traceId, name: `op-${i}`, attributes: spanAttrs }));
  return batchesFromOtlp([[resourceSpans(service, list)]], 'process_tags', n)[0].batch;
}

function newSender(url: string, timeoutMs = 2000, headers: Record<string, string> = {}, maxConcurrent = 1) {
  const endpoint = new URL(url);
  return new HttpSender(thrift, {
    endpoint,
    headers,
    timeoutMs,
    agent: createAgent(endpoint, loadTls(tlsSchema.parse(undefined)), maxConcurrent),
    maxConcurrent,
  });
}

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ExportError,
  );

describe('exporters/jaeger/sender', function () {
  this.timeout(10000);
  let server: ThriftServer;
  beforeEach(async () => {
    server = await new ThriftServer().start();
  });
  afterEach(() => server.stop());

  describe('raw @opentelemetry/exporter-jaeger behaviour', () => {
    it('reports an HTTP error status only as message text in a plain Error', async () => {
      server.reply = () => ({ status: 503, headers: { 'retry-after': '7' } });
      const exp = new JaegerExporter({ endpoint: server.url });
      const r = (await exportOnce(exp, spans('svc'), 3000)) as ExportResult;
      expect(r.code).to.equal(ExportResultCode.FAILED);
      expect(r.error!.constructor).to.equal(Error);
      expect(r.error!.message).to.equal('error sending spans over HTTP: server responded with HTTP 503');
      expect(Object.keys(r.error!)).to.deep.equal([]);
      await exp.shutdown();
    });

    it('counts a redirect (3xx) as success', async () => {
      server.reply = () => ({ status: 302, headers: { location: '/elsewhere' } });
      const exp = new JaegerExporter({ endpoint: server.url });
      const r = (await exportOnce(exp, spans('svc'), 3000)) as ExportResult;
      expect(r.code).to.equal(ExportResultCode.SUCCESS);
      await exp.shutdown();
    });

    it('never calls back while the server does not answer (its 5 s socket timeout has no handler)', async function () {
      this.timeout(15000);
      server.reply = () => 'hang';
      const exp = new JaegerExporter({ endpoint: server.url });
      expect(await exportOnce(exp, spans('svc'), 6500)).to.equal('no callback');
      await exp.shutdown().catch(() => undefined);
    });

    it('flushes at the 100th span; when that flush fails the rest of the export is never sent', async () => {
      server.reply = () => ({ status: 500 });
      const exp = new JaegerExporter({ endpoint: server.url });
      const r = (await exportOnce(exp, spans('svc', 150), 3000)) as ExportResult;
      expect(r.code).to.equal(ExportResultCode.FAILED);
      await new Promise((res) => setTimeout(res, 200));
      expect(server.received.map((b) => b.spans.length)).to.deep.equal([100]);
      await exp.shutdown();
    });

    it('never calls back for an export after shutdown', async () => {
      const exp = new JaegerExporter({ endpoint: server.url });
      await exp.shutdown();
      expect(await exportOnce(exp, spans('svc'), 300)).to.equal('no callback');
    });

    it('names the process after the first span that carries a service.name tag, even a span attribute', async () => {
      const exp = new JaegerExporter({ endpoint: server.url });
      const tricky = spans('real-service', 1, { 'service.name': 'from-span-attribute' });
      await exportOnce(exp, tricky, 3000);
      expect(server.received[0].process.serviceName).to.equal('from-span-attribute');
      await exp.shutdown();
    });
  });

  describe('HttpSender', () => {
    it('sends our process, our headers, every span in one request', async () => {
      const sender = newSender(server.url, 2000, { 'x-tenant': 'acme', authorization: 'Basic dTpw' });
      const b = batch('ignored-for-process', 150, [kv('service.name', str('span-attr'))]);
      await sender.send(
        {
          process: {
            serviceName: 'my-service',
            tags: attributeTags([kv('host.name', str('h1')), kv('list', arr(str('a'), str('b')))]),
          },
          spans: b.spans,
        },
        never,
      );
      expect(server.received).to.have.length(1);
      const got = server.received[0];
      expect(got.headers['x-tenant']).to.equal('acme');
      expect(got.headers.authorization).to.equal('Basic dTpw');
      expect(got.headers['content-type']).to.equal('application/x-thrift');
      expect(got.process.serviceName).to.equal('my-service');
      expect(got.process.tags!.map((t) => [t.key, t.vStr])).to.deep.equal([
        ['host.name', 'h1'],
        ['list', '["a","b"]'],
      ]);
      expect(got.spans).to.have.length(150);
      sender.close();
    });

    it('keeps the structured failure: status and Retry-After for 503, permanent for 400 and 302', async () => {
      const sender = newSender(server.url);
      const cases: Array<[number, boolean, number | undefined]> = [
        [503, true, 7000],
        [400, false, undefined],
        [302, false, undefined],
        [429, true, 7000],
      ];
      for (const [status, retriable, retryAfterMs] of cases) {
        server.reply = () => ({ status, headers: { 'retry-after': '7', location: '/x' } });
        const f = (await failureOf(sender.send(batch('svc'), never)))!;
        expect(f, String(status)).to.be.instanceOf(ExportError);
        expect(f.status).to.equal(status);
        expect(f.retriable, String(status)).to.equal(retriable);
        expect(f.retryAfterMs, String(status)).to.equal(retryAfterMs);
      }
      sender.close();
    });

    it('times out a request the server never answers and reports TIMEOUT', async () => {
      server.reply = () => 'hang';
      const sender = newSender(server.url, 300);
      const started = Date.now();
      const f = (await failureOf(sender.send(batch('svc'), never)))!;
      expect(Date.now() - started).to.be.below(2000);
      expect(f.code).to.equal(ExporterErrorCode.TIMEOUT);
      expect(f.retriable).to.equal(true);
      sender.close();
    });

    it('runs at most maxConcurrent POSTs; a waiting one starts its deadline when it gets a connection', async () => {
      server.reply = () => 'hang';
      const sender = newSender(server.url, 400, {}, 2);
      const started = Date.now();
      const all = Promise.all([0, 1, 2, 3].map(() => failureOf(sender.send(batch('svc'), never))));
      await new Promise((r) => setTimeout(r, 250));
      expect(server.received, 'two POSTs in flight, two waiting').to.have.length(2);
      const results = await all;
      expect(server.received).to.have.length(4);
      expect(results.map((r) => r?.code)).to.deep.equal(Array(4).fill(ExporterErrorCode.TIMEOUT));
      expect(Date.now() - started, 'two rounds of 400 ms deadlines').to.be.at.least(780);
      sender.close();
    });

    it('rejects retriably, without sending, once aborted while waiting for a connection', async () => {
      server.reply = () => 'hang';
      const sender = newSender(server.url, 2000, {}, 1);
      const first = failureOf(sender.send(batch('svc'), never));
      const ctl = new AbortController();
      const second = failureOf(sender.send(batch('svc'), ctl.signal));
      for (let i = 0; i < 50 && server.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      ctl.abort();
      const f = (await second)!;
      expect(f.retriable).to.equal(true);
      expect(f.code).to.equal(ExporterErrorCode.NETWORK);
      sender.close();
      expect((await first)!.retriable).to.equal(true);
      expect(server.received).to.have.length(1);
    });
  });

  describe('UdpSender', () => {
    let sock: dgram.Socket;
    let port: number;
    const packets: Buffer[] = [];
    beforeEach(async () => {
      packets.length = 0;
      sock = dgram.createSocket('udp4');
      sock.on('message', (m) => packets.push(m));
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      port = (sock.address() as AddressInfo).port;
    });
    afterEach(() => sock.close());

    const waitFor = async (n: number) => {
      for (let i = 0; i < 50 && packets.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    };

    it('packs spans into datagrams of at most max_packet_size bytes, every span once, in order', async () => {
      const sender = new UdpSender(thrift, { host: '127.0.0.1', port, maxPacketSize: 1500 });
      const b = batch('udp-svc', 40, [kv('pad', str('x'.repeat(200)))]);
      const planned = sender.pack(b);
      expect(planned.length).to.be.greaterThan(1);
      expect(planned.flat()).to.deep.equal(b.spans);
      await sender.send(b, never);
      await waitFor(planned.length);
      expect(packets).to.have.length(planned.length);
      for (const p of packets) {
        expect(p.length).to.be.at.most(1500);
        expect(p.includes(Buffer.from('udp-svc'))).to.equal(true);
      }
      expect(b.spans.map((s) => packets.filter((p) => p.includes(s.spanId)).length)).to.deep.equal(Array(40).fill(1));
      sender.close();
    });

    it('rejects permanently, sending nothing, a batch with a span larger than one datagram', async () => {
      const sender = new UdpSender(thrift, { host: '127.0.0.1', port, maxPacketSize: 1000 });
      const f = (await failureOf(sender.send(batch('udp-svc', 2, [kv('pad', str('x'.repeat(2000)))]), never)))!;
      expect(f.code).to.equal(ExporterErrorCode.BAD_DATA);
      expect(f.retriable).to.equal(false);
      await new Promise((r) => setTimeout(r, 100));
      expect(packets).to.have.length(0);
      sender.close();
    });
  });

  describe('thrift packages', () => {
    it('accepts the expected major and refuses another with a clear, permanent error', () => {
      expect(() => expectMajor('jaeger-client', '3.19.0', 3, '/x')).to.not.throw();
      let err: unknown;
      try {
        expectMajor('jaeger-client', '4.0.0', 3, '/nm/jaeger-client');
      } catch (e) {
        err = e;
      }
      expect(err).to.include({ code: JAEGER_THRIFT_ERROR_CODE, retriable: false });
      expect((err as Error).message).to.equal(
        'the jaeger exporter needs jaeger-client 3.x (a dependency of @opentelemetry/exporter-jaeger), found 4.0.0 in /nm/jaeger-client',
      );
    });
  });
});
