// Unit tests of the otlp receiver's HTTP transport with a fake downstream: success paths (protobuf, JSON,
// gzip, deflate, zstd, logs), every bad-input answer, partial success, auth, CORS, backpressure, the settle
// chain (no answer before downstream resolves) and metrics.

import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { BackpressureError, PermanentError } from '../../../pipeline/sdk/errors';
import {
  decodeTraces,
  encodeLogs,
  encodeTraces,
  otlpTypes,
  protobufToOtlpJson,
  type OtlpSpan,
} from '../../../pipeline/sdk/otlp';
import { zstdCompress } from '../../../pipeline/sdk/zstd';
import { makeFixture, type Fixture } from '../../pipeline/sdk/otlp/fixtures';
import { deferred, post, startReceiver, type Started } from './helpers';

const PROTO = { 'Content-Type': 'application/x-protobuf' };
const JSON_CT = { 'Content-Type': 'application/json' };

function span(traceId: string, spanId: string): OtlpSpan {
  return {
    traceId,
    spanId,
    parentSpanId: '',
    traceState: '',
    flags: 1,
    name: 'op',
    kind: 2,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
  };
}

function request(spans: OtlpSpan[]): Uint8Array {
  return encodeTraces([
    {
      resource: { attributes: [], droppedAttributesCount: 0, entityRefs: [] },
      schemaUrl: '',
      scopeSpans: [
        { scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans },
      ],
    },
  ]);
}

/**
 * zstdFrame hand-builds a zstd frame without a declared content size (as streaming compressors write it):
 * 128 KiB window, then raw blocks (type 0) of `data`, or `rleBlocks` RLE blocks of 128 KiB each (a bomb).
 */
function zstdFrame(data: Uint8Array, rleBlocks = 0): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3])];
  const block = (last: boolean, type: number, size: number, body: Buffer) => {
    const h = (last ? 1 : 0) | (type << 1) | (size << 3);
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), body);
  };
  const max = 128 * 1024;
  if (rleBlocks > 0) for (let i = 0; i < rleBlocks; i++) block(i === rleBlocks - 1, 1, max, Buffer.from([0]));
  else
    for (let at = 0; at < data.length || at === 0; at += max)
      block(at + max >= data.length, 0, Math.min(max, data.length - at), Buffer.from(data.subarray(at, at + max)));
  return Buffer.concat(parts);
}

function decodeStatus(body: Buffer): { code: number; message: string } {
  const T = otlpTypes().RpcStatus;
  return T.toObject(T.decode(body)) as { code: number; message: string };
}

function decodeTraceResponse(body: Buffer): { partial_success?: { rejected_spans: string; error_message: string } } {
  const T = otlpTypes().ExportTraceServiceResponse;
  return T.toObject(T.decode(body), { longs: String }) as {
    partial_success?: { rejected_spans: string; error_message: string };
  };
}

async function metricValue(s: Started, name: string, labels: Record<string, string>): Promise<number> {
  const m = await s.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) =>
    Object.entries(labels).every(([k, val]) => String((x.labels as Record<string, unknown>)[k]) === val),
  );
  return v?.value ?? 0;
}

describe('receivers/otlp HTTP', () => {
  let fx: Fixture;
  let s: Started;
  let url: string;

  before(async () => {
    fx = await makeFixture({ seed: 3, traces: 6 });
  });
  beforeEach(async () => {
    s = await startReceiver({ grpc: { endpoint: '' } });
    url = `${s.httpBase}/v1/traces`;
  });
  afterEach(async () => {
    await s.receiver.shutdown();
  });

  describe('accepted requests', () => {
    it('accepts protobuf, splits by trace id and answers with an empty ExportTraceServiceResponse', async () => {
      const res = await post(url, fx.request, PROTO);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/x-protobuf');
      expect(decodeTraceResponse(res.body)).to.deep.equal({});
      expect(s.next.traceBatches).to.have.length(1);
      const chunks = s.next.traceBatches[0].chunks;
      expect(chunks.map((c) => c.traceId).sort()).to.deep.equal(
        [...new Set(fx.spans.map((x) => x.spanContext().traceId))].sort(),
      );
      expect(chunks.reduce((n, c) => n + c.spanCount, 0)).to.equal(fx.spans.length);
      expect(await metricValue(s, 'tusk_receiver_spans_total', { outcome: 'accepted' })).to.equal(fx.spans.length);
      expect(await metricValue(s, 'tusk_receiver_requests_total', { transport: 'http', outcome: 'success' })).to.equal(
        1,
      );
      expect(await metricValue(s, 'tusk_receiver_bytes_total', { transport: 'http' })).to.equal(fx.request.length);
      expect(await metricValue(s, 'tusk_receiver_inflight_bytes', {})).to.equal(0);
    });

    it('accepts OTLP/JSON and answers in JSON', async () => {
      const res = await post(url, protobufToOtlpJson(fx.request, 'traces'), {
        'Content-Type': 'application/json; charset=utf-8',
      });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/json');
      expect(JSON.parse(res.body.toString())).to.deep.equal({});
      const decoded = s.next.traceBatches[0].chunks.flatMap((c) => decodeTraces(c.data));
      expect(decoded.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length).to.equal(fx.spans.length);
    });

    it('accepts gzip, deflate (zlib) and raw deflate bodies', async () => {
      for (const [encoding, body] of [
        ['gzip', zlib.gzipSync(fx.request)],
        ['deflate', zlib.deflateSync(fx.request)],
        ['deflate', zlib.deflateRawSync(fx.request)],
      ] as const) {
        const res = await post(url, body, { ...PROTO, 'Content-Encoding': encoding });
        expect(res.status, encoding).to.equal(200);
      }
      expect(s.next.traceBatches).to.have.length(3);
      for (const b of s.next.traceBatches)
        expect(b.chunks.reduce((n, c) => n + c.spanCount, 0)).to.equal(fx.spans.length);
    });

    it('accepts zstd bodies, with and without a declared content size', async () => {
      const oneShot = await zstdCompress(Buffer.from(fx.request));
      const streaming = zstdFrame(fx.request);
      for (const body of [oneShot, streaming]) {
        const res = await post(url, body, { ...PROTO, 'Content-Encoding': 'zstd' });
        expect(res.status).to.equal(200);
      }
      const json = await zstdCompress(Buffer.from(protobufToOtlpJson(fx.request, 'traces')));
      expect((await post(url, json, { ...JSON_CT, 'Content-Encoding': 'zstd' })).status).to.equal(200);
      expect(s.next.traceBatches).to.have.length(3);
      for (const b of s.next.traceBatches)
        expect(b.chunks.reduce((n, c) => n + c.spanCount, 0)).to.equal(fx.spans.length);
      expect(await metricValue(s, 'tusk_receiver_bytes_total', { transport: 'http' })).to.equal(
        oneShot.length + streaming.length + json.length,
      );
      expect(s.receiver.inflightBytes).to.equal(0);
    });

    it('answers an empty body with 200 without calling downstream', async () => {
      const res = await post(url, new Uint8Array(0), PROTO);
      expect(res.status).to.equal(200);
      expect(s.next.traceBatches).to.have.length(0);
    });

    it('reports spans with invalid ids as partial_success (protobuf and JSON)', async () => {
      const body = request([
        span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331'),
        span('00000000000000000000000000000000', 'b7ad6b7169203332'),
        span('0af7651916cd43dd8448eb211c80319c', '0000000000000000'),
      ]);
      const res = await post(url, body, PROTO);
      expect(res.status).to.equal(200);
      const r = decodeTraceResponse(res.body);
      expect(r.partial_success?.rejected_spans).to.equal('2');
      expect(r.partial_success?.error_message).to.match(/invalid trace_id.*invalid span_id/);
      expect(s.next.traceBatches[0].chunks.map((c) => c.spanCount)).to.deep.equal([1]);
      const j = await post(url, protobufToOtlpJson(body, 'traces'), JSON_CT);
      expect(JSON.parse(j.body.toString()).partialSuccess).to.deep.include({ rejectedSpans: '2' });
      expect(await metricValue(s, 'tusk_receiver_spans_total', { outcome: 'rejected', reason: 'invalid_id' })).to.equal(
        4,
      );
      expect(await metricValue(s, 'tusk_receiver_requests_total', { outcome: 'partial' })).to.equal(2);
    });

    it('counts spans refused for a string that is not valid UTF-8 under reason invalid_utf8', async () => {
      const good = span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331');
      const body = Buffer.from(request([good, { ...good, spanId: 'b7ad6b7169203332', name: 'BADX' }]));
      body[body.indexOf('BADX')] = 0xff;
      const res = await post(url, body, PROTO);
      expect(res.status).to.equal(200);
      expect(decodeTraceResponse(res.body).partial_success?.rejected_spans).to.equal('1');
      const reason = (r: string) => metricValue(s, 'tusk_receiver_spans_total', { outcome: 'rejected', reason: r });
      expect(await reason('invalid_utf8')).to.equal(1);
      expect(await reason('invalid_id')).to.equal(0);
      expect(await metricValue(s, 'tusk_receiver_spans_total', { outcome: 'accepted', transport: 'http' })).to.equal(1);
    });

    it('answers 200 with partial_success and no downstream call when every span is invalid', async () => {
      const res = await post(url, request([span('', 'b7ad6b7169203331')]), PROTO);
      expect(res.status).to.equal(200);
      expect(decodeTraceResponse(res.body).partial_success?.rejected_spans).to.equal('1');
      expect(s.next.traceBatches).to.have.length(0);
    });
  });

  describe('bad input', () => {
    it('400 for malformed and truncated protobuf, with a google.rpc.Status body', async () => {
      for (const body of [
        Buffer.from('definitely not protobuf at all'),
        fx.request.subarray(0, fx.request.length - 7),
      ]) {
        const res = await post(url, body, PROTO);
        expect(res.status).to.equal(400);
        expect(res.headers.get('content-type')).to.equal('application/x-protobuf');
        const st = decodeStatus(res.body);
        expect(st.code).to.equal(3);
        expect(st.message).to.match(/malformed OTLP protobuf/);
      }
      expect(s.next.traceBatches).to.have.length(0);
      expect(await metricValue(s, 'tusk_receiver_requests_total', { outcome: 'invalid' })).to.equal(2);
    });

    it('400 for invalid JSON and for JSON of the wrong shape, saying where', async () => {
      let res = await post(url, '{"resourceSpans": [', JSON_CT);
      expect(res.status).to.equal(400);
      expect(JSON.parse(res.body.toString())).to.deep.include({ code: 3 });
      expect(JSON.parse(res.body.toString()).message).to.match(/invalid JSON/);
      res = await post(url, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":42}]}]}]}', JSON_CT);
      expect(res.status).to.equal(400);
      expect(JSON.parse(res.body.toString()).message).to.match(
        /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId/,
      );
    });

    it('400 for a corrupt gzip body', async () => {
      const res = await post(url, Buffer.from('not gzip'), { ...PROTO, 'Content-Encoding': 'gzip' });
      expect(res.status).to.equal(400);
      expect(decodeStatus(res.body).message).to.match(/cannot decompress gzip/);
    });

    it('400 for a corrupt or truncated zstd body', async () => {
      const good = await zstdCompress(Buffer.from(fx.request));
      const corruptBlock = Buffer.concat([
        Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3, 1 | (2 << 1) | (16 << 3), 0, 0]),
        Buffer.alloc(16, 0xff),
      ]);
      for (const bad of [Buffer.from('not zstd'), good.subarray(0, good.length - 5), corruptBlock]) {
        const res = await post(url, bad, { ...PROTO, 'Content-Encoding': 'zstd' });
        expect(res.status, bad.toString('hex').slice(0, 16)).to.equal(400);
        expect(decodeStatus(res.body).message).to.match(/cannot decompress zstd body/);
      }
      expect(s.next.traceBatches).to.have.length(0);
      expect(s.receiver.inflightBytes).to.equal(0);
    });

    it('415 for an unsupported content type or content encoding', async () => {
      let res = await post(url, fx.request, { 'Content-Type': 'text/plain' });
      expect(res.status).to.equal(415);
      expect(JSON.parse(res.body.toString()).message).to.match(/unsupported content type "text\/plain"/);
      res = await post(url, fx.request, { ...PROTO, 'Content-Encoding': 'br' });
      expect(res.status).to.equal(415);
      expect(s.next.traceBatches).to.have.length(0);
    });

    it('404 for unknown paths, 405 (with Allow) for other methods', async () => {
      let res = await post(`${s.httpBase}/v1/metrics`, fx.request, PROTO);
      expect(res.status).to.equal(404);
      const get = await fetch(url);
      expect(get.status).to.equal(405);
      expect(get.headers.get('allow')).to.equal('POST');
      res = await post(`${s.httpBase}/`, '', PROTO);
      expect(res.status).to.equal(404);
    });

    it('413 for a declared oversize body, a chunked oversize body, and a gzip bomb (stops early)', async function () {
      this.timeout(20000);
      await s.receiver.shutdown();
      s = await startReceiver({ grpc: { endpoint: '' }, http: { max_request_body_size: '1MiB' } });
      url = `${s.httpBase}/v1/traces`;
      let res = await post(url, Buffer.alloc(2 * 1024 * 1024, 1), PROTO);
      expect(res.status).to.equal(413);
      // Chunked transfer without Content-Length.
      const chunked = await new Promise<number>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers: PROTO }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        req.on('error', reject);
        const piece = Buffer.alloc(64 * 1024, 2);
        let sent = 0;
        const write = () => {
          while (sent < 3 * 1024 * 1024) {
            sent += piece.length;
            if (!req.write(piece)) return void req.once('drain', write);
          }
          req.end();
        };
        write();
      });
      expect(chunked).to.equal(413);
      // 100 MB of zeros gzip to ~100 KB; decompression must stop at the 1 MiB limit.
      const bomb = zlib.gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 });
      expect(bomb.length).to.be.lessThan(200 * 1024);
      const t0 = Date.now();
      res = await post(url, bomb, { ...PROTO, 'Content-Encoding': 'gzip' });
      expect(res.status).to.equal(413);
      expect(decodeStatus(res.body).message).to.match(/decompressed request body is over the limit/);
      expect(Date.now() - t0).to.be.lessThan(3000);
      expect(s.next.traceBatches).to.have.length(0);
      expect(s.receiver.inflightBytes).to.equal(0);
      expect(await metricValue(s, 'tusk_receiver_requests_total', { outcome: 'too_large' })).to.equal(3);
    });

    it('413 for zstd bombs, with and without a declared size, refused from the frame headers', async () => {
      await s.receiver.shutdown();
      s = await startReceiver({ grpc: { endpoint: '' }, http: { max_request_body_size: '1MiB' } });
      url = `${s.httpBase}/v1/traces`;
      const declared = await zstdCompress(Buffer.alloc(100 * 1024 * 1024));
      const undeclared = zstdFrame(new Uint8Array(0), 800); // 800 RLE blocks of 128 KiB = 100 MiB from 3 KiB
      for (const bomb of [declared, undeclared]) {
        expect(bomb.length).to.be.lessThan(10 * 1024);
        const before = process.memoryUsage().arrayBuffers;
        const t0 = Date.now();
        const res = await post(url, bomb, { ...PROTO, 'Content-Encoding': 'zstd' });
        expect(res.status).to.equal(413);
        expect(decodeStatus(res.body).message).to.match(/decompressed request body is over the limit of 1048576 bytes/);
        expect(Date.now() - t0).to.be.lessThan(1000);
        expect(process.memoryUsage().arrayBuffers - before).to.be.lessThan(16 * 1024 * 1024);
      }
      // Just over the limit after decompression (declared size), and just under it: 413, then 200.
      const over = await zstdCompress(
        Buffer.concat([Buffer.from(fx.request), Buffer.alloc(1024 * 1024 - fx.request.length + 1)]),
      );
      expect((await post(url, over, { ...PROTO, 'Content-Encoding': 'zstd' })).status).to.equal(413);
      expect(
        (await post(url, await zstdCompress(Buffer.from(fx.request)), { ...PROTO, 'Content-Encoding': 'zstd' })).status,
      ).to.equal(200);
      expect(s.next.traceBatches).to.have.length(1);
      expect(s.receiver.inflightBytes).to.equal(0);
      expect(await metricValue(s, 'tusk_receiver_requests_total', { outcome: 'too_large' })).to.equal(3);
    });
  });

  describe('downstream and backpressure', () => {
    it('answers only after downstream settles (the settle chain)', async () => {
      const gate = deferred();
      s.next.behaviour = () => gate.promise;
      let answered = false;
      const pending = post(url, fx.request, PROTO).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(s.next.traceBatches).to.have.length(1);
      expect(answered, 'answered before downstream settled').to.equal(false);
      expect(s.receiver.inflightBytes).to.equal(fx.request.length);
      gate.resolve();
      expect((await pending).status).to.equal(200);
      expect(s.receiver.inflightBytes).to.equal(0);
    });

    it('holds 40 requests waiting downstream at once without a listener-leak warning', async () => {
      const gate = deferred();
      s.next.behaviour = () => gate.promise;
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
      process.on('warning', onWarning);
      try {
        const pending = Array.from({ length: 40 }, () => post(url, fx.request, PROTO));
        while (s.next.traceBatches.length < 40) await new Promise((r) => setTimeout(r, 20));
        gate.resolve();
        for (const r of await Promise.all(pending)) expect(r.status).to.equal(200);
        await new Promise((r) => setImmediate(r));
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.filter((w) => w.includes('MaxListeners'))).to.deep.equal([]);
    });

    it('503 + Retry-After when over the in-flight byte budget', async () => {
      await s.receiver.shutdown();
      const size = fx.request.length;
      s = await startReceiver({
        grpc: { endpoint: '' },
        http: { max_request_body_size: size + 10 },
        max_inflight_bytes: size + 10,
        retry_after: '2s',
      });
      url = `${s.httpBase}/v1/traces`;
      const gate = deferred();
      s.next.behaviour = () => gate.promise;
      const first = post(url, fx.request, PROTO);
      await new Promise((r) => setTimeout(r, 150));
      const second = await post(url, fx.request, PROTO);
      expect(second.status).to.equal(503);
      expect(second.headers.get('retry-after')).to.equal('2');
      expect(decodeStatus(second.body).code).to.equal(14);
      gate.resolve();
      expect((await first).status).to.equal(200);
      expect((await post(url, fx.request, PROTO)).status).to.equal(200);
      expect(await metricValue(s, 'tusk_receiver_requests_total', { outcome: 'refused' })).to.equal(1);
    });

    it('503 + Retry-After from a BackpressureError, 400 from a PermanentError, 503 from other errors', async () => {
      s.next.behaviour = new BackpressureError('queue full', 2500);
      let res = await post(url, fx.request, PROTO);
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('3');
      expect(decodeStatus(res.body).message).to.match(/queue full/);
      s.next.behaviour = new PermanentError('ERR_TEST_BAD', 'cannot take this');
      res = await post(url, fx.request, PROTO);
      expect(res.status).to.equal(400);
      expect(decodeStatus(res.body).message).to.match(/cannot take this/);
      s.next.behaviour = new Error('kafka is down');
      res = await post(url, fx.request, PROTO);
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('1');
      expect(
        await metricValue(s, 'tusk_receiver_spans_total', { outcome: 'refused', reason: 'backpressure' }),
      ).to.equal(fx.spans.length);
      expect(await metricValue(s, 'tusk_receiver_spans_total', { outcome: 'rejected', reason: 'permanent' })).to.equal(
        fx.spans.length,
      );
      expect(
        await metricValue(s, 'tusk_receiver_spans_total', { outcome: 'refused', reason: 'downstream_error' }),
      ).to.equal(fx.spans.length);
      expect(await metricValue(s, 'tusk_receiver_spans_total', { outcome: 'accepted' })).to.equal(0);
    });
  });

  describe('logs', () => {
    const logs = encodeLogs([
      {
        resource: { attributes: [], droppedAttributesCount: 0, entityRefs: [] },
        schemaUrl: '',
        scopeLogs: [
          {
            scope: { name: 'l', version: '', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            logRecords: [
              {
                timeUnixNano: 1n,
                observedTimeUnixNano: 1n,
                severityNumber: 9,
                severityText: '',
                body: { type: 'string', value: 'hello' },
                attributes: [],
                droppedAttributesCount: 0,
                flags: 0,
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: '',
                eventName: '',
              },
            ],
          },
        ],
      },
    ]);

    it('accepts /v1/logs into the logs pipeline', async () => {
      const res = await post(`${s.httpBase}/v1/logs`, logs, PROTO);
      expect(res.status).to.equal(200);
      expect(s.next.logBatches[0].chunks.map((c) => [c.traceId, c.recordCount])).to.deep.equal([
        ['0af7651916cd43dd8448eb211c80319c', 1],
      ]);
    });

    it('404 on /v1/logs when no logs pipeline uses the receiver', async () => {
      await s.receiver.shutdown();
      s = await startReceiver({ grpc: { endpoint: '' } }, { logs: false });
      const res = await post(`${s.httpBase}/v1/logs`, logs, PROTO);
      expect(res.status).to.equal(404);
      expect(decodeStatus(res.body).message).to.match(/no logs pipeline/);
    });
  });

  describe('auth and CORS', () => {
    it('401 without or with a wrong bearer token, 200 with a right one (env and file tokens)', async () => {
      await s.receiver.shutdown();
      const dir = mkdtempSync(join(tmpdir(), 'tusk-otlp-auth-'));
      writeFileSync(join(dir, 'tokens'), '# tokens\nfile-token-1\n\nfile-token-2\n');
      process.env.TUSK_TEST_OTLP_TOKENS = 'env-token-a, env-token-b';
      try {
        s = await startReceiver({
          grpc: { endpoint: '' },
          http: { auth: { bearer_tokens_env: 'TUSK_TEST_OTLP_TOKENS', bearer_tokens_file: join(dir, 'tokens') } },
        });
      } finally {
        delete process.env.TUSK_TEST_OTLP_TOKENS;
      }
      url = `${s.httpBase}/v1/traces`;
      let res = await post(url, fx.request, PROTO);
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Bearer');
      res = await post(url, fx.request, { ...PROTO, Authorization: 'Bearer nope' });
      expect(res.status).to.equal(401);
      res = await post(url, fx.request, { ...PROTO, Authorization: 'Basic ZW52LXRva2VuLWE=' });
      expect(res.status).to.equal(401);
      expect(s.next.traceBatches).to.have.length(0);
      for (const token of ['env-token-a', 'env-token-b', 'file-token-2']) {
        res = await post(url, fx.request, { ...PROTO, Authorization: `Bearer ${token}` });
        expect(res.status, token).to.equal(200);
      }
      expect(await metricValue(s, 'tusk_receiver_requests_total', { outcome: 'unauthenticated' })).to.equal(3);
    });

    it('fails to start when auth is configured but no token is found', async () => {
      await s.receiver.shutdown();
      try {
        s = await startReceiver({
          grpc: { endpoint: '' },
          http: { auth: { bearer_tokens_env: 'TUSK_TEST_NO_SUCH_VAR' } },
        });
        expect.fail('start should have failed');
      } catch (err) {
        expect((err as { code?: string }).code).to.equal('ERR_OTLP_RECEIVER_AUTH_CONFIG');
        expect((err as Error).message).to.match(
          /receivers\.otlp\.http\.auth: no bearer token found in environment variable TUSK_TEST_NO_SUCH_VAR/,
        );
      }
      s = await startReceiver({ grpc: { endpoint: '' } });
    });

    it('answers CORS preflights for allowed origins only and sets Allow-Origin on posts', async () => {
      await s.receiver.shutdown();
      s = await startReceiver({
        grpc: { endpoint: '' },
        http: { cors_allowed_origins: ['https://*.example.com', 'http://localhost:3000'] },
      });
      url = `${s.httpBase}/v1/traces`;
      let res = await fetch(url, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example.com',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      });
      expect(res.status).to.equal(204);
      expect(res.headers.get('access-control-allow-origin')).to.equal('https://app.example.com');
      expect(res.headers.get('access-control-allow-methods')).to.equal('POST');
      expect(res.headers.get('access-control-allow-headers')).to.equal('content-type');
      res = await fetch(url, {
        method: 'OPTIONS',
        headers: { Origin: 'https://evil.com', 'Access-Control-Request-Method': 'POST' },
      });
      expect(res.status).to.equal(403);
      const p = await post(url, fx.request, { ...PROTO, Origin: 'http://localhost:3000' });
      expect(p.status).to.equal(200);
      expect(p.headers.get('access-control-allow-origin')).to.equal('http://localhost:3000');
      const q = await post(url, fx.request, { ...PROTO, Origin: 'https://evil.com' });
      expect(q.headers.get('access-control-allow-origin')).to.equal(null);
    });
  });
});
