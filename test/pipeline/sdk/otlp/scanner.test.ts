// Tests of the hot-path scanner against full protobufjs decoding, on requests made by the official
// OpenTelemetry SDK encoder: split by trace id, index, attribute stamping, id validation, and a bounded
// fuzz that malformed bytes only ever raise OtlpDecodeError.

import { expect } from 'chai';
import type { OtlpAnyValue } from '../../../../pipeline/sdk/otlp/decode';
import {
  decodeTraces,
  encodeTraces,
  decodeLogs,
  encodeLogs,
  type OtlpResourceSpans,
  type OtlpSpan,
  type OtlpLogRecord,
} from '../../../../pipeline/sdk/otlp/decode';
import { OtlpDecodeError } from '../../../../pipeline/sdk/otlp/errors';
import { framedBytesOf } from '../../../../pipeline/sdk/trace-batch';
import {
  appendSpanAttributes,
  countLogRecords,
  countSpans,
  indexTraceChunk,
  readSpanDetails,
  scanTraceChunk,
  splitLogsByTraceId,
  splitTracesByTraceId,
  type AttrValue,
} from '../../../../pipeline/sdk/otlp/index';
import { otlpTypes } from '../../../../pipeline/sdk/otlp/schema';
import { isPermanent } from '../../../../pipeline/sdk/errors';
import { flatten, type FlatSpan } from './expect-spans';
import { rng } from '../../../helpers/random';
import { makeFixture, type Fixture } from './fixtures';

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';

function span(overrides: Partial<OtlpSpan> = {}): OtlpSpan {
  return {
    traceId: TRACE_A,
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    traceState: '',
    flags: 1,
    name: 'op',
    kind: 2,
    startTimeUnixNano: 1_700_000_000_123_456_789n,
    endTimeUnixNano: 1_700_000_000_223_456_999n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    ...overrides,
  };
}

function request(spans: OtlpSpan[], service = 'checkout'): Uint8Array {
  const rs: OtlpResourceSpans = {
    resource: {
      attributes: [{ key: 'service.name', value: { type: 'string', value: service } }],
      droppedAttributesCount: 0,
      entityRefs: [],
    },
    schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
    scopeSpans: [
      { scope: { name: 'lib', version: '1.0', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans },
    ],
  };
  return encodeTraces([rs]);
}

/** Key for comparing a decoded span with its resource/scope regardless of chunking. */
function keyed(f: FlatSpan): unknown {
  return { span: f.span, resource: f.resource, rsUrl: f.resourceSchemaUrl, scope: f.scope, ssUrl: f.scopeSchemaUrl };
}

function expectDecodeError(fn: () => unknown): OtlpDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(OtlpDecodeError);
    expect((err as OtlpDecodeError).code).to.equal('ERR_OTLP_DECODE');
    expect(isPermanent(err)).to.equal(true);
    return err as OtlpDecodeError;
  }
  expect.fail('expected an OtlpDecodeError');
}

describe('pipeline/sdk/otlp scanner', () => {
  const fixtures: Fixture[] = [];
  before(async () => {
    for (let seed = 1; seed <= 6; seed++)
      fixtures.push(await makeFixture({ seed, traces: 5 + seed * 3, resources: 1 + (seed % 3), maxSpansPerTrace: 8 }));
  });

  describe('splitTracesByTraceId', () => {
    it('puts every span in its trace chunk exactly once, with its resource and scope (6 SDK fixtures)', () => {
      for (const fx of fixtures) {
        const original = flatten(decodeTraces(fx.request));
        const result = splitTracesByTraceId(fx.request);
        expect(result.acceptedSpans).to.equal(fx.spans.length);
        expect(result.rejectedSpans).to.equal(0);
        expect(result.rejectReason).to.equal(undefined);
        const traceIds = new Set(fx.spans.map((s) => s.spanContext().traceId));
        expect(result.chunks.map((c) => c.traceId).sort()).to.deep.equal([...traceIds].sort());
        const seen: FlatSpan[] = [];
        for (const chunk of result.chunks) {
          const spans = flatten(decodeTraces(chunk.data));
          expect(spans.length).to.equal(chunk.spanCount);
          expect(countSpans(chunk.data)).to.equal(chunk.spanCount);
          for (const f of spans) expect(f.span.traceId).to.equal(chunk.traceId);
          seen.push(...spans);
        }
        expect(seen.length).to.equal(original.length);
        const byId = new Map(seen.map((f) => [f.span.spanId, f]));
        expect(byId.size).to.equal(original.length);
        for (const o of original) expect(keyed(byId.get(o.span.spanId)!)).to.deep.equal(keyed(o));
      }
    });

    it('keeps span order within a trace and reuses one resource/scope entry per run', () => {
      const fx = fixtures[3];
      const original = flatten(decodeTraces(fx.request));
      for (const chunk of splitTracesByTraceId(fx.request).chunks) {
        const expected = original.filter((f) => f.span.traceId === chunk.traceId).map((f) => f.span.spanId);
        const decoded = decodeTraces(chunk.data);
        expect(flatten(decoded).map((f) => f.span.spanId)).to.deep.equal(expected);
        const scopes = decoded.flatMap((rs) =>
          rs.scopeSpans.map(
            (ss) =>
              `${rs.resource.attributes[0].value.type === 'string' ? rs.resource.attributes[0].value.value : ''}/${ss.scope.name}`,
          ),
        );
        expect(new Set(scopes).size, 'no duplicate resource/scope entries').to.equal(scopes.length);
      }
    });

    it('copies span bytes unchanged into the chunks', () => {
      // Re-encode with protobufjs so that re-encoding a decoded span reproduces its exact bytes.
      const canonical = encodeTraces(decodeTraces(fixtures[0].request));
      const spans = otlpSpansOf(canonical);
      expect(spans.length).to.equal(fixtures[0].spans.length);
      const chunks = splitTracesByTraceId(canonical).chunks.map((c) => Buffer.from(c.data));
      for (const s of spans)
        expect(chunks.filter((c) => c.includes(s)).length, 'span bytes in exactly one chunk').to.equal(1);
    });

    it('chunks of one trace concatenate into one valid request', () => {
      const a = request([span({ spanId: '0000000000000001' })]);
      const b = request([span({ spanId: '0000000000000002', name: 'second' })], 'other');
      const joined = Buffer.concat([splitTracesByTraceId(a).chunks[0].data, splitTracesByTraceId(b).chunks[0].data]);
      const idx = indexTraceChunk(joined);
      expect(idx.map((s) => [s.spanId, s.service])).to.deep.equal([
        ['0000000000000001', 'checkout'],
        ['0000000000000002', 'other'],
      ]);
    });

    it('chunks write themselves into a larger buffer (FramedBytes) with the bytes of `data`, before and after it is built', () => {
      for (const fx of fixtures) {
        const built = splitTracesByTraceId(fx.request).chunks.map((c) => Buffer.from(c.data));
        const chunks = splitTracesByTraceId(fx.request).chunks;
        chunks.forEach((chunk, i) => {
          const framed = framedBytesOf(chunk);
          expect(framed, 'a split chunk is FramedBytes').to.not.equal(undefined);
          expect(framed!.byteLength).to.equal(built[i].length);
          for (const round of ['before data', 'after data']) {
            const out = Buffer.alloc(framed!.byteLength + 10, 0xee);
            expect(framed!.copyTo(out, 7), round).to.equal(7 + framed!.byteLength);
            expect(out.subarray(7, 7 + framed!.byteLength).equals(built[i]), round).to.equal(true);
            expect(out.subarray(0, 7).every((b) => b === 0xee) && out.subarray(-3).every((b) => b === 0xee)).to.equal(
              true,
              `${round}: bytes around the chunk untouched`,
            );
            expect(Buffer.from(chunk.data).equals(built[i]), round).to.equal(true);
          }
        });
      }
    });

    it('a copy of a chunk made with object spread carries its bytes', () => {
      const fx = fixtures[3];
      const [chunk] = splitTracesByTraceId(fx.request).chunks;
      const copy = { ...chunk, spanCount: 1 };
      expect(copy.data).to.be.instanceOf(Uint8Array);
      expect(Buffer.from(copy.data).equals(Buffer.from(splitTracesByTraceId(fx.request).chunks[0].data))).to.equal(
        true,
      );
      expect(framedBytesOf(copy), 'the copy is plain bytes').to.equal(undefined);
    });

    it('rejects spans with invalid trace or span ids and counts them', () => {
      const bytes = request([
        span({ spanId: '0000000000000001' }),
        span({ traceId: '', spanId: '0000000000000002' }),
        span({ traceId: '00000000000000000000000000000000', spanId: '0000000000000003' }),
        span({ traceId: '0af7651916cd43dd', spanId: '0000000000000004' }),
        span({ traceId: TRACE_B, spanId: '0000000000000000' }),
        span({ traceId: TRACE_B, spanId: '00000001' }),
        span({ traceId: TRACE_B, spanId: '' }),
        span({ traceId: TRACE_B, spanId: '0000000000000008' }),
      ]);
      const result = splitTracesByTraceId(bytes);
      expect(result.acceptedSpans).to.equal(2);
      expect(result.rejectedSpans).to.equal(6);
      expect(result.rejectReason).to.match(/3 span\(s\) with an invalid trace_id/);
      expect(result.rejectReason).to.match(/3 span\(s\) with an invalid span_id/);
      expect(result.chunks.map((c) => [c.traceId, c.spanCount])).to.deep.equal([
        [TRACE_A, 1],
        [TRACE_B, 1],
      ]);
      expect(indexTraceChunk(result.chunks[1].data)[0].spanId).to.equal('0000000000000008');
    });

    it('returns no chunks for an empty request or one with only empty entries', () => {
      expect(splitTracesByTraceId(new Uint8Array(0))).to.deep.equal({ chunks: [], acceptedSpans: 0, rejectedSpans: 0 });
      const empty = request([]);
      expect(splitTracesByTraceId(empty).chunks).to.deep.equal([]);
    });

    it('keeps unknown fields of resource and scope entries in every chunk', () => {
      // ResourceSpans with an extra unknown varint field 99 after the scopes.
      const base = Buffer.from(request([span()]));
      const r = otlpTypes().ExportTraceServiceRequest.decode(base) as unknown as { resource_spans: unknown[] };
      expect(r.resource_spans.length).to.equal(1);
      const inner = base.subarray(2 + (base[1] >= 0x80 ? 1 : 0)); // ResourceSpans payload (tag + 1-2 byte length)
      const extra = Buffer.from([0x98, 0x06, 0x2a]); // field 99, varint 42
      const rs = Buffer.concat([inner, extra]);
      const req = Buffer.concat([Buffer.from([0x0a]), varint(rs.length), rs]);
      const chunk = splitTracesByTraceId(req).chunks[0].data;
      expect(Buffer.from(chunk).includes(extra)).to.equal(true);
      expect(indexTraceChunk(chunk)).to.have.length(1);
    });
  });

  describe('indexTraceChunk', () => {
    it('matches full decoding for every span of every fixture', () => {
      const want = new Set([
        'http.method',
        'http.status_code',
        'ratio',
        'cache.hit',
        'tags.list',
        'region',
        'service.version',
        'missing.key',
      ]);
      for (const fx of fixtures) {
        for (const chunk of splitTracesByTraceId(fx.request).chunks) {
          const flat = flatten(decodeTraces(chunk.data));
          const idx = indexTraceChunk(chunk.data, want);
          const spanStarts: number[] = [];
          scanTraceChunk(chunk.data, { resource: () => undefined, span: (_d, f) => void spanStarts.push(f.spanStart) });
          expect(idx.length).to.equal(flat.length);
          idx.forEach((got, i) => {
            const { span: s, resource } = flat[i];
            const service = resource.attributes.find((a) => a.key === 'service.name');
            expect(got).to.deep.equal({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId,
              name: s.name,
              kind: s.kind,
              startUs: Number(s.startTimeUnixNano / 1000n),
              endUs: Number(s.endTimeUnixNano / 1000n),
              statusCode: s.status.code,
              service: service?.value.type === 'string' ? service.value.value : '',
              traceState: s.traceState,
              flags: s.flags,
              sizeBytes: got.sizeBytes,
              attributes: expectedAttrs([...resource.attributes, ...s.attributes], want),
            });
            // The span's own bytes hold exactly its attributes and events.
            const details = readSpanDetails(chunk.data, spanStarts[i], got.sizeBytes);
            expect(Object.keys(details.attributes)).to.deep.equal(s.attributes.map((a) => a.key));
            expect(details.events.map((e) => e.name)).to.deep.equal(s.events.map((e) => e.name));
          });
          // Without wanted attributes the property is absent.
          expect(indexTraceChunk(chunk.data)[0].attributes).to.equal(undefined);
        }
      }
    });

    it('converts nanoseconds to microseconds exactly near 2^53 and across years', () => {
      for (const ns of [
        0n,
        999n,
        1000n,
        1_700_000_000_123_456_789n,
        4_102_444_800_000_000_999n,
        7_258_118_400_999_999_999n,
        9_007_199_254_740_990_000n,
      ]) {
        const idx = indexTraceChunk(request([span({ startTimeUnixNano: ns, endTimeUnixNano: ns + 1001n })]));
        expect(BigInt(idx[0].startUs)).to.equal(ns / 1000n);
        expect(BigInt(idx[0].endUs)).to.equal((ns + 1001n) / 1000n);
      }
    });

    it('lets span attributes override resource attributes, and renders bytes/kvlists', () => {
      const rs: OtlpResourceSpans = {
        resource: {
          attributes: [
            { key: 'service.name', value: { type: 'string', value: 'svc' } },
            { key: 'env', value: { type: 'string', value: 'prod' } },
            { key: 'tier', value: { type: 'string', value: 'gold' } },
          ],
          droppedAttributesCount: 0,
          entityRefs: [],
        },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans: [
              span({
                status: { code: 2, message: 'boom' },
                traceState: 'k=v',
                attributes: [
                  { key: 'tier', value: { type: 'string', value: 'silver' } },
                  { key: 'raw', value: { type: 'bytes', value: new Uint8Array([1, 255]) } },
                  {
                    key: 'map',
                    value: {
                      type: 'kvlist',
                      value: [
                        { key: 'a', value: { type: 'int', value: -3n } },
                        { key: 'b', value: { type: 'array', value: [{ type: 'bool', value: true }] } },
                      ],
                    },
                  },
                  { key: 'neg', value: { type: 'int', value: -5n } },
                ],
              }),
            ],
          },
        ],
      };
      const [got] = indexTraceChunk(encodeTraces([rs]), new Set(['env', 'tier', 'raw', 'map', 'neg']));
      expect(got.attributes).to.deep.equal({
        env: 'prod',
        tier: 'silver',
        raw: '01ff',
        map: '{"a":-3,"b":[true]}',
        neg: -5,
      });
      expect(got.statusCode).to.equal(2);
      expect(got.traceState).to.equal('k=v');
      expect(got.service).to.equal('svc');
    });
  });

  describe('appendSpanAttributes', () => {
    it('adds the attributes to every span, replaces same-key ones, keeps everything else', () => {
      const fx = fixtures[1];
      const attrs: Record<string, AttrValue> = {
        'sampling.policy': 'latency',
        'http.method': 'PATCHED',
        'sampling.p95_us': 1234,
        ratio: 0.5,
        kept: true,
      };
      const stamped = appendSpanAttributes(fx.request, attrs);
      const before = flatten(decodeTraces(fx.request));
      const after = flatten(decodeTraces(stamped));
      expect(after.length).to.equal(before.length);
      after.forEach((a, i) => {
        const b = before[i];
        const kept = b.span.attributes.filter((kv) => !(kv.key in attrs));
        expect(a.span.attributes).to.deep.equal([
          ...kept,
          { key: 'sampling.policy', value: { type: 'string', value: 'latency' } },
          { key: 'http.method', value: { type: 'string', value: 'PATCHED' } },
          { key: 'sampling.p95_us', value: { type: 'int', value: 1234n } },
          { key: 'ratio', value: { type: 'double', value: 0.5 } },
          { key: 'kept', value: { type: 'bool', value: true } },
        ]);
        expect({ ...a.span, attributes: [] }).to.deep.equal({ ...b.span, attributes: [] });
        expect(keyed({ ...a, span: b.span })).to.deep.equal(keyed(b));
      });
      // Stamping twice does not duplicate.
      const twice = flatten(decodeTraces(appendSpanAttributes(stamped, attrs)));
      expect(twice.map((f) => f.span.attributes.length)).to.deep.equal(after.map((f) => f.span.attributes.length));
    });

    it('is byte-identical apart from the appended attributes', () => {
      const fx = fixtures[2];
      expect(Buffer.from(appendSpanAttributes(fx.request, {})).equals(Buffer.from(fx.request))).to.equal(true);
      const one = request([span()]);
      const stamped = Buffer.from(appendSpanAttributes(one, { k: 'v' }));
      const kv = Buffer.from([0x4a, 0x08, 0x0a, 0x01, 0x6b, 0x12, 0x03, 0x0a, 0x01, 0x76]); // attributes { key "k", string "v" }
      const spanBytes = otlpSpansOf(one)[0];
      expect(stamped.includes(Buffer.concat([spanBytes, kv]))).to.equal(true);
      expect(stamped.length).to.equal(one.length + kv.length);
    });
  });

  describe('splitLogsByTraceId', () => {
    function log(overrides: Partial<OtlpLogRecord>): OtlpLogRecord {
      return {
        timeUnixNano: 1n,
        observedTimeUnixNano: 2n,
        severityNumber: 9,
        severityText: 'INFO',
        body: { type: 'string', value: 'hi' },
        attributes: [],
        droppedAttributesCount: 0,
        flags: 0,
        traceId: '',
        spanId: '',
        eventName: '',
        ...overrides,
      };
    }
    it('groups records by trace id, records without one under "", and rejects malformed ids', () => {
      const records = [
        log({ traceId: TRACE_A, spanId: 'b7ad6b7169203331' }),
        log({}),
        log({ traceId: TRACE_B }),
        log({ traceId: '00000000000000000000000000000000', body: { type: 'string', value: 'zero' } }),
        log({ traceId: TRACE_A, severityNumber: 17 }),
        log({ traceId: 'abcd' }),
        log({ traceId: TRACE_A, spanId: 'abcd' }),
      ];
      const bytes = encodeLogs([
        {
          resource: {
            attributes: [{ key: 'service.name', value: { type: 'string', value: 'api' } }],
            droppedAttributesCount: 0,
            entityRefs: [],
          },
          schemaUrl: '',
          scopeLogs: [
            {
              scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 },
              schemaUrl: '',
              logRecords: records,
            },
          ],
        },
      ]);
      expect(countLogRecords(bytes)).to.equal(7);
      const result = splitLogsByTraceId(bytes);
      expect(result.acceptedRecords).to.equal(5);
      expect(result.rejectedRecords).to.equal(2);
      expect(result.rejectReason).to.match(
        /1 log record\(s\) with an invalid trace_id.*1 log record\(s\) with an invalid span_id/,
      );
      expect(result.chunks.map((c) => [c.traceId, c.recordCount])).to.deep.equal([
        [TRACE_A, 2],
        ['', 2],
        [TRACE_B, 1],
      ]);
      const noTrace = decodeLogs(result.chunks[1].data);
      expect(noTrace[0].resource.attributes[0].value).to.deep.equal({ type: 'string', value: 'api' });
      expect(noTrace[0].scopeLogs[0].logRecords.map((l) => l.body)).to.deep.equal([
        { type: 'string', value: 'hi' },
        { type: 'string', value: 'zero' },
      ]);
      expect(decodeLogs(result.chunks[0].data)[0].scopeLogs[0].logRecords.map((l) => l.severityNumber)).to.deep.equal([
        9, 17,
      ]);
    });
  });

  describe('malformed input', () => {
    it('throws OtlpDecodeError for truncated requests, at every cut inside the first span', () => {
      const bytes = request([span({ attributes: [{ key: 'a', value: { type: 'string', value: 'b' } }] })]);
      for (let cut = 1; cut < bytes.length; cut++) {
        const err = expectDecodeError(() => splitTracesByTraceId(bytes.subarray(0, cut)));
        expect(err.message).to.match(/malformed OTLP protobuf/);
        expectDecodeError(() => indexTraceChunk(bytes.subarray(0, cut)));
        expectDecodeError(() => countSpans(bytes.subarray(0, cut)));
        expectDecodeError(() => appendSpanAttributes(bytes.subarray(0, cut), { a: 1 }));
      }
    });

    it('throws OtlpDecodeError for garbage, wrong wire types, bad nested values and deep nesting', () => {
      expectDecodeError(() => splitTracesByTraceId(Buffer.from('hello, world! this is not protobuf')));
      expectDecodeError(() => splitTracesByTraceId(Buffer.from('{"resourceSpans":[]}')));
      expectDecodeError(() => splitTracesByTraceId(Buffer.from([0x08, 0x01]))); // resource_spans as a varint
      expectDecodeError(() => splitTracesByTraceId(Buffer.from([0x0b, 0x0c]))); // group wire types
      expectDecodeError(() => splitTracesByTraceId(Buffer.from([0x00, 0x00]))); // field number 0
      // A span whose attribute holds an AnyValue with a wrong wire type for string_value.
      const bad = request([span({ attributes: [{ key: 'k', value: { type: 'int', value: 5n } }] })]);
      const i = Buffer.from(bad).indexOf(Buffer.from([0x12, 0x02, 0x18, 0x05]));
      expect(i).to.be.greaterThan(0);
      const corrupted = Buffer.from(bad);
      corrupted[i + 2] = 0x0d; // field 1 (string_value) with wire type 5
      expectDecodeError(() => splitTracesByTraceId(corrupted));
      // 200 nested arrays (built by hand: protobufjs refuses to encode that deep).
      let any = Buffer.from([0x18, 0x01]);
      for (let d = 0; d < 200; d++) {
        const arr = Buffer.concat([Buffer.from([0x0a]), varint(any.length), any]);
        any = Buffer.concat([Buffer.from([0x2a]), varint(arr.length), arr]);
      }
      const kv = Buffer.concat([Buffer.from([0x0a, 0x01, 0x64, 0x12]), varint(any.length), any]);
      const deepSpan = Buffer.concat([
        Buffer.from([0x0a, 0x10]),
        Buffer.alloc(16, 1),
        Buffer.from([0x12, 0x08]),
        Buffer.alloc(8, 2),
        Buffer.from([0x4a]),
        varint(kv.length),
        kv,
      ]);
      const deep = frame(0x0a, frame(0x12, frame(0x12, deepSpan)));
      expect(otlpTypes().Span.decode(deepSpan.subarray(0, 28))).to.be.an('object');
      expectDecodeError(() => splitTracesByTraceId(deep));
      expectDecodeError(() => decodeTraces(deep));
      expect(indexTraceChunk(deep)).to.have.length(1); // the index does not descend into unwanted attributes
    });

    it('never throws anything but OtlpDecodeError on mutated or random bytes (bounded fuzz)', function () {
      this.timeout(20000);
      const rand = rng(42);
      const sources = fixtures.slice(0, 3).map((f) => Buffer.from(f.request));
      let errors = 0;
      let ok = 0;
      const deadline = Date.now() + 8000;
      for (let iter = 0; iter < 3000 && Date.now() < deadline; iter++) {
        const src = sources[iter % sources.length];
        let input: Buffer;
        const mode = iter % 4;
        if (mode === 0) {
          input = Buffer.from(src);
          for (let k = 0; k < 1 + Math.floor(rand() * 4); k++)
            input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
        } else if (mode === 1) {
          input = src.subarray(0, Math.floor(rand() * src.length));
        } else if (mode === 2) {
          input = Buffer.alloc(Math.floor(rand() * 300));
          for (let k = 0; k < input.length; k++) input[k] = Math.floor(rand() * 256);
        } else {
          const a = Math.floor(rand() * src.length);
          input = Buffer.concat([src.subarray(0, a), src.subarray(a + 1 + Math.floor(rand() * 20))]);
        }
        for (const fn of [
          () => splitTracesByTraceId(input),
          () => splitLogsByTraceId(input),
          () => indexTraceChunk(input, new Set(['http.method'])),
          () => countSpans(input),
          () => appendSpanAttributes(input, { x: 1 }),
          () => decodeTraces(input),
        ]) {
          try {
            fn();
            ok++;
          } catch (err) {
            if (!(err instanceof OtlpDecodeError)) throw new Error(`iteration ${iter}: ${String(err)}`, { cause: err });
            errors++;
          }
        }
      }
      expect(errors).to.be.greaterThan(100);
      expect(ok).to.be.greaterThan(100);
    });
  });
});

function frame(tag: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), varint(payload.length), payload]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** otlpSpansOf returns each span's encoded bytes (payload of ScopeSpans field 2) by re-encoding the decoded spans. */
function otlpSpansOf(data: Uint8Array): Buffer[] {
  const t = otlpTypes();
  const msg = t.ExportTraceServiceRequest.decode(data) as unknown as {
    resource_spans: { scope_spans: { spans: object[] }[] }[];
  };
  return msg.resource_spans.flatMap((rs) =>
    rs.scope_spans.flatMap((ss) => ss.spans.map((s) => Buffer.from(t.Span.encode(s).finish()))),
  );
}

function expectedAttrs(kvs: { key: string; value: OtlpAnyValue }[], want: Set<string>): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const { key, value } of kvs) {
    if (!want.has(key)) continue;
    switch (value.type) {
      case 'string':
      case 'bool':
      case 'double':
        out[key] = value.value;
        break;
      case 'int':
        out[key] = Number(value.value);
        break;
      case 'array':
        out[key] = JSON.stringify(
          value.value.map((x) => (x.type === 'int' ? Number(x.value) : 'value' in x ? x.value : null)),
        );
        break;
      default:
        break;
    }
  }
  return out;
}
