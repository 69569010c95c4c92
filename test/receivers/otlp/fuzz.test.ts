// A seeded, bounded fuzz of the otlp receiver (OTLP/HTTP protobuf, protobuf+gzip and JSON; OTLP/gRPC;
// traces and logs) with mutated copies of real requests: flipped bytes, strings made invalid UTF-8 (raw
// bytes, lone surrogates in JSON), truncations. The property: whatever the receiver acknowledges reaches
// the next consumer as chunks the exporters' decoder reads (no acknowledged span is later "rejected for
// good" as ERR_OTLP_DECODE), and an acknowledged request's delivered plus rejected items are all it held.

import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import {
  countLogRecords,
  countSpans,
  decodeLogs,
  decodeTraces,
  encodeLogs,
  otlpTypes,
  protobufToOtlpJson,
} from '../../../pipeline/sdk/otlp';
import type { OtlpSignal } from '../../../pipeline/sdk/otlp';
import type { LogChunk, TraceChunk } from '../../../pipeline/sdk/trace-batch';
import { makeFixture } from '../../pipeline/sdk/otlp/fixtures';
import { grpcExport, post, startReceiver, type Started } from './helpers';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 60);

/** mulberry32: a small seeded PRNG, so a failure reproduces with FUZZ_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BAD_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xc3], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x28, 0xa1]];

/** asciiRuns lists [start, end) runs of at least 3 printable ASCII bytes: mostly string fields. */
function asciiRuns(b: Uint8Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let s = -1;
  for (let i = 0; i <= b.length; i++) {
    const printable = i < b.length && b[i] >= 0x20 && b[i] < 0x7f;
    if (printable && s < 0) s = i;
    if (!printable && s >= 0) {
      if (i - s >= 3) runs.push([s, i]);
      s = -1;
    }
  }
  return runs;
}

/** mutateProto returns a mutated copy of an encoded request. */
function mutateProto(base: Uint8Array, rand: () => number): Buffer {
  const b = Buffer.from(base);
  const pick = rand();
  if (pick < 0.5) {
    // Invalid UTF-8 over a byte inside a string (same length: the framing stays valid).
    const runs = asciiRuns(b);
    const n = 1 + Math.floor(rand() * 2);
    for (let k = 0; k < n && runs.length > 0; k++) {
      const [s, e] = runs[Math.floor(rand() * runs.length)];
      const bad = BAD_UTF8[Math.floor(rand() * BAD_UTF8.length)];
      const at = s + Math.floor(rand() * Math.max(1, e - s - bad.length));
      for (let i = 0; i < bad.length && at + i < e; i++) b[at + i] = bad[i];
    }
    return b;
  }
  if (pick < 0.8) {
    const n = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < n; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    return b;
  }
  return b.subarray(0, Math.floor(rand() * b.length));
}

/** mutateJson returns a mutated copy of OTLP/JSON text: a lone surrogate, raw invalid bytes, or a flipped byte. */
function mutateJson(text: string, rand: () => number): Buffer {
  const pick = rand();
  const quotes: number[] = [];
  for (let i = text.indexOf('":"'); i >= 0; i = text.indexOf('":"', i + 1)) quotes.push(i + 3);
  const at = quotes.length > 0 ? quotes[Math.floor(rand() * quotes.length)] : 0;
  if (pick < 0.4) return Buffer.from(text.slice(0, at) + '\\ud800' + text.slice(at));
  const b = Buffer.from(text);
  if (pick < 0.8) {
    const bad = BAD_UTF8[Math.floor(rand() * BAD_UTF8.length)];
    return Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]);
  }
  b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
  return b;
}

type Chunk = TraceChunk | LogChunk;

type Transport = 'http-proto' | 'http-gzip' | 'http-json' | 'grpc';

interface Answer {
  acked: boolean;
  rejected: number;
}

async function send(s: Started, signal: OtlpSignal, transport: Transport, body: Uint8Array): Promise<Answer> {
  const path = signal === 'traces' ? '/v1/traces' : '/v1/logs';
  const respType = signal === 'traces' ? otlpTypes().ExportTraceServiceResponse : otlpTypes().ExportLogsServiceResponse;
  const rejectedOf = (
    r: { partial_success?: { rejected_spans?: unknown; rejected_log_records?: unknown } } | undefined,
  ): number => Number(r?.partial_success?.rejected_spans ?? r?.partial_success?.rejected_log_records ?? 0);
  if (transport === 'grpc') {
    const method =
      signal === 'traces'
        ? '/opentelemetry.proto.collector.trace.v1.TraceService/Export'
        : '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
    try {
      const { response } = await grpcExport(s.grpcTarget, method, body);
      return { acked: true, rejected: rejectedOf(respType.decode(response) as never) };
    } catch {
      return { acked: false, rejected: 0 };
    }
  }
  const json = transport === 'http-json';
  const headers: Record<string, string> = { 'content-type': json ? 'application/json' : 'application/x-protobuf' };
  let payload: Uint8Array = body;
  if (transport === 'http-gzip') {
    headers['content-encoding'] = 'gzip';
    payload = gzipSync(body);
  }
  const res = await post(`${s.httpBase}${path}`, payload, headers);
  if (res.status !== 200) return { acked: false, rejected: 0 };
  if (json) {
    const j = JSON.parse(res.body.toString() || '{}') as {
      partialSuccess?: { rejectedSpans?: unknown; rejectedLogRecords?: unknown };
    };
    return {
      acked: true,
      rejected: Number(j.partialSuccess?.rejectedSpans ?? j.partialSuccess?.rejectedLogRecords ?? 0),
    };
  }
  return { acked: true, rejected: rejectedOf(respType.decode(res.body) as never) };
}

/** logsRequest builds a logs request with strings in every place a string can be. */
function logsRequest(rand: () => number): Uint8Array {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  const str = (value: string) => ({ type: 'string' as const, value });
  return encodeLogs([
    {
      resource: {
        attributes: [{ key: 'service.name', value: str('fuzz-svc') }],
        droppedAttributesCount: 0,
        entityRefs: [],
      },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [
        {
          scope: { name: 'fuzz-scope', version: '1.0.0', attributes: [], droppedAttributesCount: 0 },
          schemaUrl: '',
          logRecords: Array.from({ length: 6 }, (_, i) => ({
            timeUnixNano: 1n,
            observedTimeUnixNano: 1n,
            severityNumber: 9,
            severityText: 'INFO',
            body: str(`hello record ${i} héllo`),
            attributes: [{ key: 'user.name', value: str(`alice-${i}`) }],
            droppedAttributesCount: 0,
            flags: 0,
            traceId: i % 3 === 0 ? '' : hex(32),
            spanId: i % 3 === 0 ? '' : hex(16),
            eventName: 'fuzz.event',
          })),
        },
      ],
    },
  ]);
}

describe('otlp receiver: seeded fuzz (accepted means exportable)', function () {
  this.timeout(120_000);
  let s: Started;
  before(async () => {
    s = await startReceiver({ http: { endpoint: '127.0.0.1:0' }, grpc: { endpoint: '127.0.0.1:0' } });
  });
  after(async () => {
    await s.receiver.shutdown();
  });

  for (const signal of ['traces', 'logs'] as const) {
    it(`${signal}: every acknowledged item reaches the next consumer and decodes (seed ${SEED}, ${ROUNDS} rounds)`, async () => {
      const rand = prng(SEED + (signal === 'traces' ? 0 : 1));
      const bases: Uint8Array[] = [];
      for (let i = 0; i < 3; i++) {
        bases.push(
          signal === 'traces'
            ? (await makeFixture({ seed: SEED + i, traces: 3, resources: 2 })).request
            : logsRequest(rand),
        );
      }
      const transports: Transport[] = ['http-proto', 'http-gzip', 'http-json', 'grpc'];
      const stats = { acked: 0, refused: 0, partial: 0, delivered: 0 };
      const problems: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const base = bases[round % bases.length];
        const transport = transports[round % transports.length];
        const body =
          transport === 'http-json' ? mutateJson(protobufToOtlpJson(base, signal), rand) : mutateProto(base, rand);
        const batches: Array<{ chunks: readonly Chunk[] }> =
          signal === 'traces' ? s.next.traceBatches : s.next.logBatches;
        const before = batches.length;
        const answer = await send(s, signal, transport, body);
        const got: Chunk[] = batches.slice(before).flatMap((b) => b.chunks);
        const what = `round ${round} (${transport})`;
        if (!answer.acked) {
          stats.refused++;
          if (got.length > 0) {
            // Refused requests may have reached downstream only if downstream itself refused them; ours never does.
            problems.push(`${what}: refused, yet ${got.length} chunk(s) went downstream`);
          }
          continue;
        }
        stats.acked++;
        if (answer.rejected > 0) stats.partial++;
        let delivered = 0;
        for (const c of got) {
          const n = 'spanCount' in c ? c.spanCount : c.recordCount;
          delivered += n;
          try {
            const decoded = signal === 'traces' ? decodeTraces(c.data) : decodeLogs(c.data);
            const items = signal === 'traces' ? countSpans(c.data) : countLogRecords(c.data);
            if (items !== n) problems.push(`${what}: chunk says ${n} items, holds ${items}`);
            if (decoded.length === 0) problems.push(`${what}: chunk decodes to nothing`);
          } catch (err) {
            problems.push(`${what}: acknowledged chunk ${c.traceId} does not decode: ${(err as Error).message}`);
          }
        }
        stats.delivered += delivered;
        // When the whole mutated request still decodes, delivered + rejected are exactly its items.
        let total: number | undefined;
        try {
          const wire = transport === 'http-json' ? undefined : body;
          if (wire) {
            const d = signal === 'traces' ? decodeTraces(wire) : decodeLogs(wire);
            total =
              signal === 'traces'
                ? (d as ReturnType<typeof decodeTraces>).reduce(
                    (n, r) => n + r.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0),
                    0,
                  )
                : (d as ReturnType<typeof decodeLogs>).reduce(
                    (n, r) => n + r.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0),
                    0,
                  );
          }
        } catch {
          total = undefined;
        }
        if (total !== undefined && delivered + answer.rejected !== total) {
          problems.push(`${what}: ${total} items sent, ${delivered} delivered + ${answer.rejected} rejected`);
        }
      }
      expect(problems, problems.slice(0, 5).join('\n')).to.deep.equal([]);
      // The fuzz must exercise both outcomes, or it proves nothing.
      expect(stats.acked, JSON.stringify(stats)).to.be.above(ROUNDS / 5);
      expect(stats.refused + stats.partial, JSON.stringify(stats)).to.be.above(ROUNDS / 5);
      expect(stats.delivered).to.be.above(0);
    });
  }
});
