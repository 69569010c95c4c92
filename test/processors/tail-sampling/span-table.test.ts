// Tests of the packed span index of buffered traces (span-table.ts): whatever chunks a trace is built
// from, in whatever order and size, SpanTable.spans (lazy PackedSpans) reads exactly what indexTraceChunk
// gives for the same chunks, and ChunkSpanScan reports count, root presence and first trace id like the
// span objects did.

import { expect } from 'chai';
import {
  encodeTraces,
  indexTraceChunk,
  scanTraceChunk,
  splitTracesByTraceId,
  type OtlpResourceSpans,
  type OtlpSpan,
} from '../../../pipeline/sdk/otlp/index';
import { ChunkSpanScan, PackedSpan, SpanTable } from '../../../processors/tail-sampling/span-table';
import { SlabAllocator } from '../../../processors/tail-sampling/slab';
import { makeFixture, type Fixture } from '../../pipeline/sdk/otlp/fixtures';
import type { SpanSummary, TraceView } from '../../../processors/tail-sampling/policies/types';
import { buildPackedTraceView, buildTraceView } from '../../../processors/tail-sampling/trace-view';

/** viewFacts is every TraceView field but the spans, with the root as a plain summary. */
function viewFacts(v: TraceView): Record<string, unknown> {
  const root = v.root instanceof PackedSpan ? plain(v.root) : v.root;
  return {
    ...Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('_') && k !== 'spans' && k !== 'root')),
    traceId: v.traceId,
    root,
    hasError: v.hasError,
  };
}

/** plain copies every SpanSummary field of a (lazy) span into a plain object, comparable with indexTraceChunk's. */
function plain(s: PackedSpan): SpanSummary {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: s.kind,
    startUs: s.startUs,
    endUs: s.endUs,
    statusCode: s.statusCode,
    service: s.service,
    traceState: s.traceState,
    flags: s.flags,
    sizeBytes: s.sizeBytes,
    attributes: s.attributes,
  };
}

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';

function span(i: number, overrides: Partial<OtlpSpan> = {}): OtlpSpan {
  return {
    traceId: TRACE_A,
    spanId: (1000 + i).toString(16).padStart(16, '0'),
    parentSpanId: i === 0 ? '' : '00000000000003e8',
    traceState: '',
    flags: 1,
    name: `op-${i}-ünïcode`,
    kind: i % 6,
    startTimeUnixNano: 1_700_000_000_123_456_789n + BigInt(i) * 1000n,
    endTimeUnixNano: 1_700_000_000_223_456_999n + BigInt(i),
    attributes: [{ key: 'http.route', value: { type: 'string', value: `/r/${i}` } }],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: i % 3, message: '' },
    ...overrides,
  };
}

function request(groups: { service: string; env?: string; spans: OtlpSpan[] }[]): Uint8Array {
  const rss: OtlpResourceSpans[] = groups.map((g) => ({
    resource: {
      attributes: [
        { key: 'service.name', value: { type: 'string', value: g.service } },
        ...(g.env === undefined ? [] : [{ key: 'env', value: { type: 'string' as const, value: g.env } }]),
      ],
      droppedAttributesCount: 0,
      entityRefs: [],
    },
    schemaUrl: '',
    scopeSpans: [
      {
        scope: { name: 'lib', version: '1', attributes: [], droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: g.spans,
      },
    ],
  }));
  return encodeTraces(rss);
}

function scanned(data: Uint8Array, want?: ReadonlySet<string>, scan = new ChunkSpanScan()): ChunkSpanScan {
  scan.reset();
  const n = scanTraceChunk(data, scan, want);
  expect(scan.count).to.equal(n);
  return scan;
}

describe('tail_sampling span table', () => {
  const fixtures: Fixture[] = [];
  before(async function () {
    this.timeout(20000);
    for (let seed = 1; seed <= 4; seed++)
      fixtures.push(await makeFixture({ seed, traces: 4 + seed * 2, resources: 1 + (seed % 3), maxSpansPerTrace: 12 }));
  });

  it('rebuilds exactly the SpanIndex objects of indexTraceChunk for every SDK fixture chunk, with and without wanted attributes', () => {
    const want = new Set([
      'http.method',
      'http.status_code',
      'ratio',
      'cache.hit',
      'region',
      'service.version',
      'missing.key',
    ]);
    let checked = 0;
    for (const fx of fixtures) {
      for (const chunk of splitTracesByTraceId(fx.request).chunks) {
        for (const keys of [undefined, want]) {
          const table = new SpanTable(new SlabAllocator());
          table.append(scanned(chunk.data, keys), 0);
          const expected = indexTraceChunk(chunk.data, keys);
          expect(table.count).to.equal(expected.length);
          const lazy = table.spans([chunk.data]);
          expect(lazy.map(plain)).to.deep.equal(expected);
          expect(lazy.map((x) => x.isRoot)).to.deep.equal(expected.map((x) => x.parentSpanId === ''));
          const packed = buildPackedTraceView('t', table, [chunk.data], 42);
          const eager = buildTraceView('t', expected, 42);
          expect(viewFacts(packed)).to.deep.equal(viewFacts(eager));
          expect(packed.spans.map((x) => plain(x as PackedSpan))).to.deep.equal(eager.spans);
          checked += expected.length;
        }
      }
    }
    expect(checked).to.be.greaterThan(100);
  });

  it('keeps rows of several chunks apart (chunk index, services, growth past the first exact-size allocation)', () => {
    const scan = new ChunkSpanScan(); // one scan reused, as the processor does
    const table = new SpanTable(new SlabAllocator());
    const chunks: Uint8Array[] = [];
    const expected: ReturnType<typeof indexTraceChunk> = [];
    // 1 span, then 3, then 70 (more than the scan's initial room), then services seen before and a new one.
    const parts = [
      request([{ service: 'front', spans: [span(0)] }]),
      request([
        { service: 'cart', spans: [span(1), span(2)] },
        { service: 'front', spans: [span(3)] },
      ]),
      request([
        {
          service: 'db',
          spans: Array.from({ length: 70 }, (_, i) => span(10 + i, { traceState: i % 2 ? `k=${i}` : '' })),
        },
      ]),
      request([
        { service: 'cart', spans: [span(90)] },
        { service: 'pay', spans: [span(91, { traceId: TRACE_B })] },
      ]),
    ];
    let viewAfterTwo: TraceView | undefined;
    for (const data of parts) {
      if (chunks.length === 2) viewAfterTwo = buildPackedTraceView(TRACE_A, table, chunks, 1);
      table.append(scanned(data, undefined, scan), chunks.length);
      // A copy of the bytes, as the processor may hold (offsets stay valid).
      chunks.push(Buffer.from(data));
      expected.push(...indexTraceChunk(data));
    }
    expect(table.count).to.equal(1 + 3 + 70 + 2);
    const got = table.spans(chunks).map(plain);
    expect(got).to.deep.equal(expected);
    expect(got.map((s) => s.service).filter((s, i, a) => a.indexOf(s) === i)).to.deep.equal([
      'front',
      'cart',
      'db',
      'pay',
    ]);
    expect(got[got.length - 1].traceId).to.equal(TRACE_B);
    // A view taken while the trace had 2 chunks keeps seeing those 4 spans (a trace being decided may still grow).
    expect(viewAfterTwo!.spans.map((x) => plain(x as PackedSpan))).to.deep.equal(expected.slice(0, 4));
  });

  it('moveTo copies the rows into other slabs and takes later rows from there (detached traces)', () => {
    const young = new SlabAllocator();
    const tenured = new SlabAllocator();
    const table = new SpanTable(young);
    const first = request([{ service: 'front', spans: [span(0), span(1)] }]);
    const later = request([{ service: 'db', spans: Array.from({ length: 40 }, (_, i) => span(10 + i)) }]);
    table.append(scanned(first), 0);
    const youngSlab = (young as unknown as { _slab: ArrayBuffer })._slab;
    table.moveTo(tenured);
    // Overwrite the young slab the rows were in: the table must not read it any more.
    new Float64Array(youngSlab).fill(-1);
    table.append(scanned(later), 1);
    expect(young.slabs).to.equal(1);
    expect(tenured.slabs).to.equal(1);
    expect(table.spans([first, later]).map(plain)).to.deep.equal([
      ...indexTraceChunk(first),
      ...indexTraceChunk(later),
    ]);
  });

  it('aligns per-span attributes when only some chunks were scanned with wanted keys (reconfigure)', () => {
    const want = new Set(['http.route', 'env']);
    const first = request([{ service: 'a', env: 'prod', spans: [span(0), span(1)] }]);
    const second = request([{ service: 'b', env: 'dev', spans: [span(2)] }]);
    const third = request([{ service: 'c', spans: [span(3)] }]);
    const table = new SpanTable(new SlabAllocator());
    table.append(scanned(first), 0);
    table.append(scanned(second, want), 1);
    table.append(scanned(third), 2);
    const got = table.spans([first, second, third]).map(plain);
    expect(got.map((s) => s.attributes)).to.deep.equal([
      undefined,
      undefined,
      { env: 'dev', 'http.route': '/r/2' },
      undefined,
    ]);
    expect(got).to.deep.equal([...indexTraceChunk(first), ...indexTraceChunk(second, want), ...indexTraceChunk(third)]);
  });

  it('reports count, root presence and the first span trace id of each chunk, and forgets them on reset', () => {
    const scan = new ChunkSpanScan();
    const withRoot = request([{ service: 'a', spans: [span(1, { traceId: TRACE_B }), span(0)] }]);
    scanned(withRoot, undefined, scan);
    expect([scan.count, scan.hasRoot, scan.firstTraceId(withRoot)]).to.deep.equal([2, true, TRACE_B]);
    const noRoot = request([{ service: 'a', spans: [span(1), span(2)] }]);
    scanned(noRoot, undefined, scan);
    expect([scan.count, scan.hasRoot, scan.firstTraceId(noRoot)]).to.deep.equal([2, false, TRACE_A]);
    const empty = request([{ service: 'a', spans: [] }]);
    scanned(empty, undefined, scan);
    expect([scan.count, scan.hasRoot, scan.firstTraceId(empty)]).to.deep.equal([0, false, '']);
    // Appending an empty scan changes nothing.
    const table = new SpanTable(new SlabAllocator());
    table.append(scan, 0);
    expect(table.count).to.equal(0);
    expect(table.spans([])).to.deep.equal([]);
  });

  it('keeps the rows already appended when a malformed chunk fails half way through its scan', () => {
    const scan = new ChunkSpanScan();
    const good = request([{ service: 'a', spans: [span(0), span(1)] }]);
    const table = new SpanTable(new SlabAllocator());
    table.append(scanned(good, undefined, scan), 0);
    const bad = request([{ service: 'b', spans: [span(2), span(3), span(4)] }]);
    scan.reset();
    expect(() => scanTraceChunk(bad.subarray(0, bad.length - 5), scan)).to.throw(/malformed/);
    scan.reset();
    expect(scan.count).to.equal(0);
    expect(table.spans([good]).map(plain)).to.deep.equal(indexTraceChunk(good));
  });
});
