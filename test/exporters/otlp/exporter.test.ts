// Unit tests of the `otlp` exporter against local OTLP/HTTP and OTLP/gRPC servers: bodies are the chunks'
// bytes concatenated (and decode to every span), gzip, headers/metadata, request cutting, status handling
// (Retry-After, RetryInfo, permanent 4xx / INVALID_ARGUMENT), partial success, config, lifecycle; and the
// same for log chunks (/v1/logs, LogsService/Export, log-record metrics).

import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  decodeTraces,
  LOGS_SERVICE_EXPORT_PATH,
  otlpTypes,
  TRACE_SERVICE_EXPORT_PATH,
} from '../../../pipeline/sdk/otlp';
import { factory } from '../../../exporters/otlp/factory';
import { concatChunks, packChunks } from '../../../exporters/otlp/exporter';
import { grpcTarget, logsUrl, tracesUrl } from '../../../exporters/otlp/config';
import { ExportRejectedError, ExporterErrorCode } from '../../../pipeline/sdk/exporterhelper/errors';
import type { ExportError } from '../../../pipeline/sdk/exporterhelper/errors';
import {
  batchOf,
  chunkOf,
  metricValue,
  newTraceId,
  resourceSpans,
  richTrace,
  settings,
  span,
} from '../../pipeline/sdk/exporterhelper/fixtures';
import type { LogChunk, TraceChunk } from '../../../pipeline/sdk/trace-batch';
import { logsRequest } from '../kafka/otlp-fixtures';

function logChunk(records = 2, traceId = newTraceId()): LogChunk {
  return { traceId, data: logsRequest([traceId], records), recordCount: records };
}

const fastRetry = { initial_interval: '5ms', max_interval: '10ms', max_elapsed_time: '2s' };
const host = { reportFatalError() {} };

function traceChunk(service = 'svc', spans = 2): TraceChunk {
  const traceId = newTraceId();
  return chunkOf(traceId, [
    resourceSpans(
      service,
      Array.from({ length: spans }, (_, i) => span({ traceId, name: `op${i}` })),
    ),
  ]);
}

interface HttpHit {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
async function httpServer(
  reply: (n: number) => { status: number; headers?: Record<string, string>; body?: Uint8Array },
) {
  const hits: HttpHit[] = [];
  const srv = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(parts);
      hits.push({
        path: req.url ?? '',
        headers: req.headers,
        body: req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw,
      });
      const r = reply(hits.length);
      for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
      res.statusCode = r.status;
      res.end(r.body ?? Buffer.alloc(0));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    hits,
    base: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () => {
      srv.closeAllConnections();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

interface GrpcHit {
  path: string;
  body: Buffer;
  metadata: grpc.Metadata;
}
async function grpcServer(reply: (n: number) => { error?: Partial<grpc.StatusObject>; body?: Uint8Array }) {
  const hits: GrpcHit[] = [];
  const server = new grpc.Server();
  const id = (b: Buffer) => b;
  for (const path of [TRACE_SERVICE_EXPORT_PATH, LOGS_SERVICE_EXPORT_PATH]) {
    server.addService(
      {
        Export: {
          path,
          requestStream: false,
          responseStream: false,
          requestSerialize: id,
          requestDeserialize: id,
          responseSerialize: id,
          responseDeserialize: id,
        },
      },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          hits.push({ path, body: call.request, metadata: call.metadata });
          const r = reply(hits.length);
          if (r.error) cb(r.error as grpc.ServiceError, null);
          else cb(null, Buffer.from(r.body ?? new Uint8Array()));
        },
      },
    );
  }
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  return { hits, target: `127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

function make(cfg: Record<string, unknown>, id = 'exporters.otlp') {
  const s = settings(id);
  return { exp: factory.create(s, factory.configSchema.parse(cfg)), s };
}

function retryInfoMetadata(ms: number): grpc.Metadata {
  const t = otlpTypes();
  const ri = t.RetryInfo.encode({ retry_delay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }).finish();
  const st = t.RpcStatus.encode({
    code: 8,
    message: 'slow down',
    details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: ri }],
  }).finish();
  const md = new grpc.Metadata();
  md.set('grpc-status-details-bin', Buffer.from(st));
  return md;
}

describe('exporters/otlp', function () {
  this.timeout(15000);

  describe('config and request cutting', () => {
    it('derives URLs and gRPC targets', () => {
      const p = (c: Record<string, unknown>) => factory.configSchema.parse(c);
      expect(tracesUrl(p({})).href).to.equal('http://127.0.0.1:4318/v1/traces');
      expect(tracesUrl(p({ endpoint: 'https://otel.example:443/' })).href).to.equal('https://otel.example/v1/traces');
      expect(tracesUrl(p({ endpoint: 'http://x:1', traces_endpoint: 'http://y:2/custom' })).href).to.equal(
        'http://y:2/custom',
      );
      expect(logsUrl(p({})).href).to.equal('http://127.0.0.1:4318/v1/logs');
      expect(logsUrl(p({ endpoint: 'http://x:1', traces_endpoint: 'http://y:2/custom' })).href).to.equal(
        'http://x:1/v1/logs',
      );
      expect(logsUrl(p({ endpoint: 'http://x:1', logs_endpoint: 'http://z:3/l' })).href).to.equal('http://z:3/l');
      expect(grpcTarget(p({ protocol: 'grpc' }))).to.deep.equal({ target: '127.0.0.1:4317', tls: false });
      expect(grpcTarget(p({ protocol: 'grpc', endpoint: 'https://collector:4317' }))).to.deep.equal({
        target: 'collector:4317',
        tls: true,
      });
      expect(grpcTarget(p({ protocol: 'grpc', endpoint: 'http://collector:4317' }))).to.deep.equal({
        target: 'collector:4317',
        tls: false,
      });
    });

    it('rejects bad endpoints and mixed-protocol keys', () => {
      const issues = (c: unknown) =>
        (factory.configSchema.safeParse(c).error?.issues ?? []).map((i) => i.path.join('.'));
      expect(issues({ endpoint: '127.0.0.1:4318' })).to.deep.equal(['endpoint']);
      expect(issues({ protocol: 'grpc', traces_endpoint: 'http://x:1/v1/traces' })).to.deep.equal(['traces_endpoint']);
      expect(issues({ protocol: 'grpc', logs_endpoint: 'http://x:1/v1/logs' })).to.deep.equal(['logs_endpoint']);
      expect(issues({ logs_endpoint: 'x:1/v1/logs' })).to.deep.equal(['logs_endpoint']);
      expect(issues({ protocol: 'grpc', endpoint: 'no-port' })).to.deep.equal(['endpoint']);
      expect(issues({ compression: 'zstd' })).to.deep.equal(['compression']);
      expect(factory.configSchema.parse({}).max_request_bytes).to.equal(4 * 1024 * 1024);
    });

    it('packs whole chunks into requests of at most max_request_bytes', () => {
      const c = (n: number): TraceChunk => ({ traceId: String(n), data: new Uint8Array(n), spanCount: 1 });
      const sizes = (g: TraceChunk[][]) => g.map((x) => x.map((y) => y.data.length));
      expect(sizes(packChunks([c(40), c(40), c(40)], 100))).to.deep.equal([[40, 40], [40]]);
      expect(sizes(packChunks([c(150), c(10)], 100))).to.deep.equal([[150], [10]]);
      expect(sizes(packChunks([c(10), c(20)], 0))).to.deep.equal([[10, 20]]);
      expect(packChunks([], 100)).to.deep.equal([]);
    });

    it('concatenated chunks decode as one request holding every span', () => {
      const a = traceChunk('a', 2);
      const b = traceChunk('b', 3);
      const rs = decodeTraces(concatChunks([a, b]));
      expect(rs.map((r) => r.scopeSpans[0].spans.length)).to.deep.equal([2, 3]);
    });
  });

  describe('OTLP/HTTP', () => {
    it('POSTs gzip protobuf to /v1/traces with the headers; the body is the concatenated chunks', async () => {
      const srv = await httpServer(() => ({ status: 200 }));
      const { exp, s } = make({ endpoint: srv.base, headers: { authorization: 'Bearer t' } });
      await exp.start(host);
      const traceId = newTraceId();
      const chunks = [chunkOf(traceId, richTrace(traceId, ['f', 'b'], 1_700_000_000_000_000_000n).rs), traceChunk()];
      await exp.consumeTraces(batchOf(...chunks));
      expect(srv.hits).to.have.length(1);
      const h = srv.hits[0];
      expect(h.path).to.equal('/v1/traces');
      expect(h.headers['content-type']).to.equal('application/x-protobuf');
      expect(h.headers['content-encoding']).to.equal('gzip');
      expect(h.headers.authorization).to.equal('Bearer t');
      expect(h.body.equals(Buffer.concat(chunks.map((c) => c.data)))).to.equal(true);
      expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.otlp' })).to.equal(
        5,
      );
      await exp.shutdown();
      await srv.close();
    });

    it('sends uncompressed with compression: none and cuts at max_request_bytes', async () => {
      const srv = await httpServer(() => ({ status: 200 }));
      const chunks = [traceChunk(), traceChunk(), traceChunk()];
      const { exp } = make({
        endpoint: srv.base,
        compression: 'none',
        max_request_bytes: chunks[0].data.length + chunks[1].data.length,
      });
      await exp.consumeTraces(batchOf(...chunks));
      expect(srv.hits.map((h) => h.headers['content-encoding'])).to.deep.equal([undefined, undefined]);
      expect(srv.hits.map((h) => h.body.length)).to.deep.equal([
        chunks[0].data.length + chunks[1].data.length,
        chunks[2].data.length,
      ]);
      await exp.shutdown();
      await srv.close();
    });

    it('retries 429 after the Retry-After delay, then resolves', async () => {
      const srv = await httpServer((n) =>
        n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
      );
      const { exp, s } = make({ endpoint: srv.base, retry_on_failure: fastRetry });
      const started = Date.now();
      await exp.consumeTraces(batchOf(traceChunk()));
      expect(Date.now() - started).to.be.at.least(990);
      expect(srv.hits).to.have.length(2);
      expect(await metricValue(s.metrics, 'tusk_exporter_retries_total', { exporter: 'exporters.otlp' })).to.equal(1);
      await exp.shutdown();
      await srv.close();
    });

    it("treats 400 as permanent and reports the server's google.rpc.Status message", async () => {
      const status = otlpTypes().RpcStatus.encode({ code: 3, message: 'span 2 has no trace id' }).finish();
      const srv = await httpServer(() => ({
        status: 400,
        headers: { 'content-type': 'application/x-protobuf' },
        body: status,
      }));
      const { exp } = make({ endpoint: srv.base, retry_on_failure: fastRetry });
      const c = traceChunk();
      const err = (await exp.consumeTraces(batchOf(c)).catch((e: unknown) => e)) as ExportRejectedError;
      expect(err).to.be.instanceOf(ExportRejectedError);
      expect(err.traceIds).to.deep.equal([c.traceId]);
      expect((err.cause as ExportError).status).to.equal(400);
      expect((err.cause as ExportError).message).to.match(/span 2 has no trace id$/);
      expect(srv.hits).to.have.length(1);
      await exp.shutdown();
      await srv.close();
    });

    it('resolves on a partial success but counts the rejected spans as permanent failures', async () => {
      const body = otlpTypes()
        .ExportTraceServiceResponse.encode({ partial_success: { rejected_spans: 1, error_message: 'one too old' } })
        .finish();
      const srv = await httpServer(() => ({
        status: 200,
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      }));
      const { exp, s } = make({ endpoint: srv.base });
      await exp.consumeTraces(batchOf(traceChunk()));
      expect(
        await metricValue(s.metrics, 'tusk_exporter_failed_spans_total', {
          exporter: 'exporters.otlp',
          kind: 'permanent',
        }),
      ).to.equal(1);
      await exp.shutdown();
      await srv.close();
    });

    it('POSTs log chunks to /v1/logs (or logs_endpoint), concatenated, and counts log records, not spans', async () => {
      const srv = await httpServer(() => ({ status: 200 }));
      const { exp, s } = make({ endpoint: srv.base, compression: 'none' });
      const a = logChunk(2);
      const b = logChunk(3);
      await exp.consumeLogs?.({ chunks: [a, b] });
      expect(srv.hits.map((h) => h.path)).to.deep.equal(['/v1/logs']);
      expect(srv.hits[0].headers['content-type']).to.equal('application/x-protobuf');
      expect(srv.hits[0].body.equals(Buffer.concat([a.data, b.data]))).to.equal(true);
      const decoded = otlpTypes().ExportLogsServiceRequest.decode(srv.hits[0].body) as unknown as {
        resource_logs: { scope_logs: { log_records: unknown[] }[] }[];
      };
      expect(decoded.resource_logs.flatMap((r) => r.scope_logs.flatMap((sl) => sl.log_records))).to.have.length(5);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_sent_log_records_total', { exporter: 'exporters.otlp' }),
      ).to.equal(5);
      expect(
        (await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.otlp' })) ?? 0,
      ).to.equal(0);
      await exp.shutdown();
      const other = make(
        { endpoint: 'http://127.0.0.1:1', logs_endpoint: `${srv.base}/custom/logs`, compression: 'none' },
        'exporters.otlp2',
      );
      await other.exp.consumeLogs?.({ chunks: [logChunk(1)] });
      expect(srv.hits.map((h) => h.path)).to.deep.equal(['/v1/logs', '/custom/logs']);
      await other.exp.shutdown();
      await srv.close();
    });

    it('logs: a partial success counts the rejected log records; a 400 rejects for good with the trace ids', async () => {
      const body = otlpTypes()
        .ExportLogsServiceResponse.encode({
          partial_success: { rejected_log_records: 2, error_message: 'two too old' },
        })
        .finish();
      const srv = await httpServer((n) =>
        n === 1 ? { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body } : { status: 400 },
      );
      const { exp, s } = make({ endpoint: srv.base, retry_on_failure: fastRetry });
      await exp.consumeLogs?.({ chunks: [logChunk(3)] });
      const failed = (kind: string) =>
        metricValue(s.metrics, 'tusk_exporter_failed_log_records_total', { exporter: 'exporters.otlp', kind });
      expect(await failed('permanent')).to.equal(2);
      const bad = logChunk(4);
      const err = await exp.consumeLogs?.({ chunks: [bad] }).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ExportRejectedError);
      expect((err as ExportRejectedError).traceIds).to.deep.equal([bad.traceId]);
      expect((err as ExportRejectedError).message).to.contain('log chunk(s) rejected for good');
      expect(await failed('permanent')).to.equal(6);
      expect(srv.hits).to.have.length(2, 'a 400 is not retried');
      await exp.shutdown();
      await srv.close();
    });

    it('rejects retriably when nothing listens, after bounded retries', async () => {
      const srv = await httpServer(() => ({ status: 200 }));
      await srv.close();
      const { exp } = make({ endpoint: srv.base, retry_on_failure: { ...fastRetry, max_elapsed_time: '100ms' } });
      const err = (await exp.consumeTraces(batchOf(traceChunk())).then(
        () => 'resolved',
        (e: unknown) => e,
      )) as ExportError;
      expect(err).to.not.equal('resolved');
      expect(err.retriable).to.equal(true);
      await exp.shutdown();
    });
  });

  describe('OTLP/gRPC', () => {
    it('calls TraceService/Export with the raw bytes and the headers as metadata', async () => {
      const srv = await grpcServer(() => ({}));
      const { exp, s } = make({ protocol: 'grpc', endpoint: srv.target, headers: { 'X-Tenant': 'acme' } });
      await exp.start(host);
      const chunks = [traceChunk('a', 2), traceChunk('b', 1)];
      await exp.consumeTraces(batchOf(...chunks));
      expect(srv.hits).to.have.length(1);
      expect(srv.hits[0].body.equals(Buffer.concat(chunks.map((c) => c.data)))).to.equal(true);
      expect(srv.hits[0].metadata.get('x-tenant')).to.deep.equal(['acme']);
      expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.otlp' })).to.equal(
        3,
      );
      await exp.shutdown();
      await srv.close();
    });

    it('calls LogsService/Export for log chunks; a logs partial success counts log records', async () => {
      const body = otlpTypes()
        .ExportLogsServiceResponse.encode({ partial_success: { rejected_log_records: 1 } })
        .finish();
      const srv = await grpcServer(() => ({ body }));
      const { exp, s } = make({ protocol: 'grpc', endpoint: srv.target, compression: 'none' });
      const chunks = [logChunk(2), logChunk(1)];
      await exp.consumeLogs?.({ chunks });
      await exp.consumeTraces(batchOf(traceChunk('a', 1)));
      expect(srv.hits.map((h) => h.path)).to.deep.equal([LOGS_SERVICE_EXPORT_PATH, TRACE_SERVICE_EXPORT_PATH]);
      expect(srv.hits[0].body.equals(Buffer.concat(chunks.map((c) => c.data)))).to.equal(true);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_sent_log_records_total', { exporter: 'exporters.otlp' }),
      ).to.equal(3);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_failed_log_records_total', {
          exporter: 'exporters.otlp',
          kind: 'permanent',
        }),
      ).to.equal(1);
      expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.otlp' })).to.equal(
        1,
      );
      await exp.shutdown();
      await srv.close();
    });

    it('retries UNAVAILABLE, then resolves', async () => {
      const srv = await grpcServer((n) => (n < 3 ? { error: { code: grpc.status.UNAVAILABLE, details: 'busy' } } : {}));
      const { exp } = make({ protocol: 'grpc', endpoint: srv.target, retry_on_failure: fastRetry });
      await exp.consumeTraces(batchOf(traceChunk()));
      expect(srv.hits).to.have.length(3);
      await exp.shutdown();
      await srv.close();
    });

    it('treats RESOURCE_EXHAUSTED as retriable only with RetryInfo, and waits the RetryInfo delay', async () => {
      const withInfo = await grpcServer((n) =>
        n === 1
          ? { error: { code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', metadata: retryInfoMetadata(600) } }
          : {},
      );
      const a = make({ protocol: 'grpc', endpoint: withInfo.target, retry_on_failure: fastRetry });
      const started = Date.now();
      await a.exp.consumeTraces(batchOf(traceChunk()));
      expect(Date.now() - started).to.be.at.least(590);
      expect(withInfo.hits).to.have.length(2);
      await a.exp.shutdown();
      await withInfo.close();

      const without = await grpcServer(() => ({ error: { code: grpc.status.RESOURCE_EXHAUSTED, details: 'too big' } }));
      const b = make({ protocol: 'grpc', endpoint: without.target, retry_on_failure: fastRetry });
      const err = (await b.exp.consumeTraces(batchOf(traceChunk())).catch((e: unknown) => e)) as ExportRejectedError;
      expect(err).to.be.instanceOf(ExportRejectedError);
      expect((err.cause as ExportError).status).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      expect(without.hits).to.have.length(1);
      await b.exp.shutdown();
      await without.close();
    });

    it('rejects INVALID_ARGUMENT permanently', async () => {
      const srv = await grpcServer(() => ({ error: { code: grpc.status.INVALID_ARGUMENT, details: 'bad span' } }));
      const { exp } = make({ protocol: 'grpc', endpoint: srv.target, retry_on_failure: fastRetry });
      const err = (await exp.consumeTraces(batchOf(traceChunk())).catch((e: unknown) => e)) as ExportRejectedError;
      expect(err).to.be.instanceOf(ExportRejectedError);
      expect((err.cause as ExportError).code).to.equal(ExporterErrorCode.GRPC_STATUS);
      expect((err.cause as ExportError).message).to.equal('gRPC INVALID_ARGUMENT: bad span');
      await exp.shutdown();
      await srv.close();
    });

    it('gives up retriably on DEADLINE_EXCEEDED when the server is too slow', async () => {
      const slow = new grpc.Server();
      const id = (b: Buffer) => b;
      slow.addService(
        {
          Export: {
            path: TRACE_SERVICE_EXPORT_PATH,
            requestStream: false,
            responseStream: false,
            requestSerialize: id,
            requestDeserialize: id,
            responseSerialize: id,
            responseDeserialize: id,
          },
        },
        { Export: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => setTimeout(() => cb(null, Buffer.alloc(0)), 1000) },
      );
      const port = await new Promise<number>((res, rej) =>
        slow.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
      );
      const { exp } = make({
        protocol: 'grpc',
        endpoint: `127.0.0.1:${port}`,
        timeout: '100ms',
        retry_on_failure: { ...fastRetry, max_elapsed_time: '250ms' },
      });
      const err = (await exp.consumeTraces(batchOf(traceChunk())).catch((e: unknown) => e)) as ExportError;
      expect(err.retriable).to.equal(true);
      expect(err.status).to.equal(grpc.status.DEADLINE_EXCEEDED);
      await exp.shutdown();
      slow.forceShutdown();
    });
  });
});
