// Pins what exporters/jaeger relies on in @opentelemetry/exporter-jaeger 2.11 / jaeger-client 3.19, and the
// library behaviour that made ThriftHttpSender necessary, against a local thrift server:
//  - the raw library reports HTTP errors only as text, treats a 3xx as success, never calls back when the
//    server does not answer, and never calls back after shutdown;
//  - installSender (private `_sender`) and ThriftHttpSender (HTTPSender's `_batch`, `_jaegerThrift`, `_reset`)
//    are really used: headers arrive, the process is ours, failures are structured.

import { expect } from 'chai';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { readableSpansFromOtlp } from '../../../exporters/jaeger/convert';
import { installSender, processOf, ThriftHttpSender } from '../../../exporters/jaeger/sender';
import { forJaegerThrift, spanResourceFor } from '../../../exporters/jaeger/thrift-shape';
import { ExporterErrorCode } from '../../../pipeline/sdk/exporterhelper/errors';
import type { ExportError } from '../../../pipeline/sdk/exporterhelper/errors';
import { createAgent, loadTls } from '../../../pipeline/sdk/exporterhelper/http';
import { tlsSchema } from '../../../pipeline/sdk/exporterhelper/config';
import { kv, newTraceId, resourceSpans, span, str } from '../../pipeline/sdk/exporterhelper/fixtures';
import { ThriftServer } from './thrift-server';

function spans(service: string, n = 1, spanAttrs: Array<ReturnType<typeof kv>> = []): ReadableSpan[] {
  const traceId = newTraceId();
  const list = Array.from({ length: n }, (_, i) => span({ traceId, name: `op-${i}`, attributes: spanAttrs }));
  const [g] = readableSpansFromOtlp([resourceSpans(service, list, [kv('host.name', str('h1'))])]);
  return g.spans.map((s) => forJaegerThrift(s, spanResourceFor(g.resourceAttributes, true)));
}

function exportOnce(exp: JaegerExporter, s: ReadableSpan[], waitMs: number): Promise<ExportResult | 'no callback'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('no callback'), waitMs);
    exp.export(s as Parameters<JaegerExporter['export']>[0], (r) => { clearTimeout(t); resolve(r); });
  });
}

function newSender(url: string, timeoutMs = 2000, headers: Record<string, string> = {}) {
  const endpoint = new URL(url);
  return new ThriftHttpSender({ endpoint, headers, timeoutMs, agent: createAgent(endpoint, loadTls(tlsSchema.parse(undefined)), 1), maxSpanBatchSize: 1000 });
}

describe('exporters/jaeger/sender (library facts and the seams we use)', function () {
  this.timeout(10000);
  let server: ThriftServer;
  beforeEach(async () => { server = await new ThriftServer().start(); });
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
      const tricky = spans('real-service', 1, [kv('service.name', str('from-span-attribute'))]);
      const withResource = tricky.map((s) => ({ ...s, resource: spanResourceFor({ 'service.name': 'real-service' }, false) }));
      await exportOnce(exp, withResource, 3000);
      expect(server.received[0].process.serviceName).to.equal('from-span-attribute');
      await exp.shutdown();
    });
  });

  describe('installSender + ThriftHttpSender', () => {
    it('is used by the library: our process, our headers, every span in one request', async () => {
      const exp = new JaegerExporter({ endpoint: 'http://127.0.0.1:9/unused' });
      const sender = newSender(server.url, 2000, { 'x-tenant': 'acme', authorization: 'Basic dTpw' });
      installSender(exp, sender, processOf('my-service', { 'host.name': 'h1', list: ['a', 'b'] }));
      const r = (await exportOnce(exp, spans('ignored-for-process', 150, [kv('service.name', str('span-attr'))]), 3000)) as ExportResult;
      expect(r.code).to.equal(ExportResultCode.SUCCESS);
      expect(server.received).to.have.length(1);
      const b = server.received[0];
      expect(b.headers['x-tenant']).to.equal('acme');
      expect(b.headers.authorization).to.equal('Basic dTpw');
      expect(b.headers['content-type']).to.equal('application/x-thrift');
      expect(b.process.serviceName).to.equal('my-service');
      expect(b.process.tags!.map((t) => [t.key, t.vStr])).to.deep.equal([['host.name', 'h1'], ['list', '["a","b"]']]);
      expect(b.spans).to.have.length(150);
      await exp.shutdown();
    });

    it('keeps the structured failure: status and Retry-After for 503, permanent for 400 and 302', async () => {
      const exp = new JaegerExporter({ endpoint: 'http://127.0.0.1:9/unused' });
      const sender = newSender(server.url);
      installSender(exp, sender, processOf('svc', {}));
      const cases: Array<[number, boolean, number | undefined]> = [[503, true, 7000], [400, false, undefined], [302, false, undefined], [429, true, 7000]];
      for (const [status, retriable, retryAfterMs] of cases) {
        server.reply = () => ({ status, headers: { 'retry-after': '7', location: '/x' } });
        const r = (await exportOnce(exp, spans('svc'), 3000)) as ExportResult;
        expect(r.code, String(status)).to.equal(ExportResultCode.FAILED);
        const f = sender.takeFailure()!;
        expect(f.status).to.equal(status);
        expect(f.retriable, String(status)).to.equal(retriable);
        expect(f.retryAfterMs, String(status)).to.equal(retryAfterMs);
        expect(sender.takeFailure()).to.equal(undefined);
      }
      await exp.shutdown();
    });

    it('times out a request the server never answers and reports TIMEOUT', async () => {
      server.reply = () => 'hang';
      const exp = new JaegerExporter({ endpoint: 'http://127.0.0.1:9/unused' });
      const sender = newSender(server.url, 300);
      installSender(exp, sender, processOf('svc', {}));
      const started = Date.now();
      const r = (await exportOnce(exp, spans('svc'), 3000)) as ExportResult;
      expect(r.code).to.equal(ExportResultCode.FAILED);
      expect(Date.now() - started).to.be.below(2000);
      const f = sender.takeFailure() as ExportError;
      expect(f.code).to.equal(ExporterErrorCode.TIMEOUT);
      expect(f.retriable).to.equal(true);
      await exp.shutdown();
      sender.close();
    });
  });
});
