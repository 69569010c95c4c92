// Unit tests of exporters/jaeger/convert.ts, field by field: ids, parent, kind tags, exact µs times from
// fixed64 ns, duration, every attribute type, events as logs, links as references, status tags, resource as
// process (or span) tags, scope tags, dropped counts, batching per process; plus a conformance check against
// spans made by the official SDK, encoded by @opentelemetry/otlp-transformer and sent through the library's
// own transform (spanToThrift of @opentelemetry/exporter-jaeger).

import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeTraces } from '../../../pipeline/sdk/otlp';
import type { OtlpResourceSpans } from '../../../pipeline/sdk/otlp';
import {
  anyValueToJson,
  batchesFromOtlp,
  microsFromNanos,
  serviceNameOf,
  spanKindTag,
  statusCodeTag,
  tagValueFromOtlp,
} from '../../../exporters/jaeger/convert';
import type { ThriftSpan, ThriftTag } from '../../../exporters/jaeger/thrift';
import {
  arr,
  bool,
  bytes,
  dbl,
  int,
  kv,
  kvlist,
  newSpanId,
  newTraceId,
  resourceSpans,
  richTrace,
  span,
  str,
} from '../../pipeline/sdk/exporterhelper/fixtures';

// The library's transform, reached by path (it is not exported from the package index): the reference.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { spanToThrift } = require('@opentelemetry/exporter-jaeger/build/src/transform') as {
  spanToThrift(s: ReadableSpan): LibrarySpan;
};
interface LibrarySpan {
  traceIdLow: Buffer;
  traceIdHigh: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  operationName: string;
  flags: number;
  startTime: Buffer;
  duration: Buffer;
  tags: ThriftTag[];
  logs: Array<{ timestamp: Buffer; fields: ThriftTag[] }>;
  references: Array<{ refType: string; traceIdLow: Buffer; traceIdHigh: Buffer; spanId: Buffer }>;
}

const i64 = (b: Buffer) => b.readBigInt64BE(0);
const hex = (b: Buffer) => b.toString('hex');
const valueOf = (t: ThriftTag) => (t.vType === 'STRING' ? t.vStr : t.vType === 'BOOL' ? t.vBool : t.vDouble);
const tagsOf = (tags: readonly ThriftTag[]) => Object.fromEntries(tags.map((t) => [t.key, valueOf(t)]));
const micros = (t: HrTime) => BigInt(t[0]) * 1_000_000n + BigInt(Math.floor(t[1] / 1000));

function convert(rs: OtlpResourceSpans[], resourceAs: 'process_tags' | 'span_tags' = 'process_tags', max = 100) {
  return batchesFromOtlp([rs], resourceAs, max);
}

function oneSpan(start: bigint, end: bigint, eventAt: bigint, scopeVersion = '1.0'): ThriftSpan {
  const s = span({
    traceId: newTraceId(),
    name: 'op',
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    events: [{ timeUnixNano: eventAt, name: 'e', attributes: [], droppedAttributesCount: 0 }],
  });
  return convert([
    resourceSpans('svc', [s], [kv('list', arr(str('a'), str('b')))], { name: 'lib', version: scopeVersion }),
  ])[0].batch.spans[0];
}

describe('exporters/jaeger/convert', () => {
  it('maps OTLP span kinds: unspecified -> INTERNAL (no tag), k -> k - 1, unknown -> INTERNAL', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 99].map(spanKindTag)).to.deep.equal([
      undefined,
      undefined,
      'server',
      'client',
      'producer',
      'consumer',
      undefined,
      undefined,
    ]);
  });

  it('maps status codes 0/1/2 and unknown', () => {
    expect([0, 1, 2, 7].map(statusCodeTag)).to.deep.equal([undefined, 'OK', 'ERROR', undefined]);
  });

  it('turns fixed64 nanoseconds into µs exactly, beyond 2^53', () => {
    expect(i64(microsFromNanos(1_700_000_000_123_456_789n))).to.equal(1_700_000_000_123_456n);
    expect(i64(microsFromNanos(18_446_744_073_709_551_615n))).to.equal(18_446_744_073_709_551n);
    expect(i64(microsFromNanos(0n))).to.equal(0n);
    expect(i64(microsFromNanos(999n))).to.equal(0n);
  });

  it('maps every attribute type', () => {
    expect(tagValueFromOtlp(str('x'))).to.equal('x');
    expect(tagValueFromOtlp(bool(false))).to.equal(false);
    expect(tagValueFromOtlp(dbl(1.5))).to.equal(1.5);
    expect(tagValueFromOtlp(int(-42))).to.equal(-42);
    expect(tagValueFromOtlp(int(9_007_199_254_740_991n))).to.equal(9_007_199_254_740_991);
    expect(tagValueFromOtlp(int(9_007_199_254_740_993n))).to.equal('9007199254740993');
    expect(tagValueFromOtlp(int(-9_223_372_036_854_775_808n))).to.equal('-9223372036854775808');
    expect(tagValueFromOtlp(bytes(Uint8Array.from([0, 1, 2, 250])))).to.equal('AAEC+g==');
    expect(tagValueFromOtlp(arr(str('a'), str('b')))).to.equal('["a","b"]');
    expect(tagValueFromOtlp(arr(int(1), dbl(2.5)))).to.equal('[1,2.5]');
    expect(tagValueFromOtlp(arr(bool(true), bool(false)))).to.equal('[true,false]');
    expect(tagValueFromOtlp(arr())).to.equal('[]');
    expect(tagValueFromOtlp(arr(str('a'), int(1)))).to.equal('["a",1]');
    expect(tagValueFromOtlp(arr(int(9_007_199_254_740_993n)))).to.equal('[9007199254740993]');
    expect(tagValueFromOtlp(arr(arr(int(1)), kvlist()))).to.equal('[[1],{}]');
    expect(
      tagValueFromOtlp(
        kvlist(kv('a', int(1)), kv('b', kvlist(kv('c', bytes(Uint8Array.from([255]))))), kv('d', { type: 'empty' })),
      ),
    ).to.equal('{"a":1,"b":{"c":"/w=="},"d":null}');
    expect(tagValueFromOtlp({ type: 'empty' })).to.equal('');
  });

  it('renders non-finite doubles in JSON as strings', () => {
    expect(anyValueToJson(arr(dbl(Number.NaN), dbl(Number.POSITIVE_INFINITY), dbl(0.1)))).to.equal(
      '["NaN","Infinity",0.1]',
    );
  });

  it('converts a trace field by field', () => {
    const traceId = newTraceId();
    const t0 = 1_700_000_000_123_456_789n;
    const { rs, ids } = richTrace(traceId, ['frontend', 'backend'], t0);
    const batches = convert(rs);
    expect(batches).to.have.length(2);
    const [front, back] = batches;
    expect(front.batch.process.serviceName).to.equal('frontend');
    expect(tagsOf(front.batch.process.tags)).to.deep.equal({ 'host.name': 'web-1', 'deployment.environment': 'test' });
    expect(front.traceIds).to.deep.equal([traceId]);

    const root = front.batch.spans[0];
    expect(root.operationName).to.equal('GET /checkout');
    expect(hex(root.traceIdHigh) + hex(root.traceIdLow)).to.equal(traceId);
    expect(hex(root.spanId)).to.equal(ids.root);
    expect(root.flags).to.equal(1);
    expect(i64(root.parentSpanId)).to.equal(0n);
    expect(i64(root.startTime)).to.equal(1_700_000_000_123_456n);
    expect(i64(root.duration)).to.equal(250_000n);
    expect(tagsOf(root.tags)).to.deep.equal({
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
    expect(root.tags.find((t) => t.key === 'http.status_code')!.vType).to.equal('DOUBLE');
    expect(root.logs.map((l) => [i64(l.timestamp), tagsOf(l.fields)])).to.deep.equal([
      [1_700_000_000_133_457n, { event: 'cache.lookup', key: 'cart:42', hit: true, size: 3 }],
    ]);
    expect(root.references).to.deep.equal([]);

    const [child, grand] = back.batch.spans;
    expect(back.batch.process.serviceName).to.equal('backend');
    expect(tagsOf(child.tags)).to.deep.equal({
      'db.system': 'postgresql',
      'db.rows': -7,
      'span.kind': 'client',
      'otel.library.name': 'test-scope',
      'otel.library.version': '1.2.3',
    });
    expect(hex(child.parentSpanId)).to.equal(ids.root);
    expect(
      child.references.map((r) => [r.refType, hex(r.traceIdHigh) + hex(r.traceIdLow), hex(r.spanId)]),
    ).to.deep.equal([['FOLLOWS_FROM', ids.linkTrace, ids.linkSpan]]);
    expect(hex(grand.parentSpanId)).to.equal(ids.child);
    expect(tagsOf(grand.tags)).to.deep.equal({
      'otel.status_code': 'ERROR',
      'otel.status_description': 'bad row 3',
      error: true,
      'otel.library.name': 'test-scope',
      'otel.library.version': '1.2.3',
      'otel.dropped_attributes_count': 1,
      'otel.dropped_events_count': 3,
    });
    expect(grand.tags.slice(0, 3).map((t) => t.key)).to.deep.equal([
      'otel.status_code',
      'otel.status_description',
      'error',
    ]);
    expect(tagsOf(grand.logs[0].fields)).to.deep.equal({
      event: 'exception',
      'exception.message': 'bad row 3',
      'otel.event.dropped_attributes_count': 2,
    });
  });

  it('reads trace flags (1 when zero) and clamps an end before the start', () => {
    const traceId = newTraceId();
    const parent = newSpanId();
    const s = span({
      traceId,
      name: 'x',
      parentSpanId: parent,
      flags: 0x301,
      startTimeUnixNano: 2_000_000_000n,
      endTimeUnixNano: 1_000_000_000n,
    });
    const z = span({ traceId, name: 'z', flags: 0x100 });
    const [b] = convert([resourceSpans('svc', [s, z], [], { name: 'lib', version: '' })]);
    const [r, r0] = b.batch.spans;
    expect(r.flags).to.equal(1);
    expect(r0.flags).to.equal(1);
    expect(hex(r.parentSpanId)).to.equal(parent);
    expect(i64(r.duration)).to.equal(0n);
    expect(i64(r.startTime)).to.equal(2_000_000n);
  });

  it('gives start, duration and event times of exactly floor(ns / 1000) µs for 3000 random times', () => {
    let libraryMismatches = 0;
    for (let i = 0; i < 3000; i++) {
      const start =
        BigInt(randomInt(1_600_000_000, 2_100_000_000)) * 1_000_000_000n + BigInt(randomInt(0, 1_000_000_000));
      const end = start + BigInt(randomInt(0, 1_000_000)) * 1000n + BigInt(randomInt(0, 1000));
      const ev = start + BigInt(randomInt(0, 1_000_000_000));
      const t = oneSpan(start, end, ev);
      expect(i64(t.startTime), `start ${start}`).to.equal(start / 1000n);
      expect(i64(t.duration), `duration ${start}..${end}`).to.equal((end - start) / 1000n);
      expect(i64(t.logs[0].timestamp), `event ${ev}`).to.equal(ev / 1000n);
      // The library's transform computes in floating point and is off by a microsecond now and then.
      const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
      const raw = spanToThrift(
        readable({
          startTime: hr(start),
          events: [{ name: 'e', time: hr(ev), attributes: {}, droppedAttributesCount: 0 }],
        }),
      );
      if (i64(raw.logs[0].timestamp) !== ev / 1000n || i64(raw.startTime) !== start / 1000n) libraryMismatches++;
    }
    expect(
      libraryMismatches,
      'the library alone should be off sometimes (else integer arithmetic would not be needed)',
    ).to.be.greaterThan(0);
  });

  it('keeps resource attributes off the spans with process_tags, and on them (arrays as JSON) with span_tags', () => {
    const t0 = 1_700_000_000_000_000_000n;
    const proc = oneSpan(t0, t0 + 1000n, t0);
    expect(proc.tags.map((t) => t.key)).to.not.include.members(['service.name', 'list']);
    const s = span({ traceId: newTraceId(), name: 'op' });
    const [b] = convert([resourceSpans('svc', [s], [kv('list', arr(str('a'), str('b')))])], 'span_tags');
    expect(b.batch.process.tags).to.deep.equal([]);
    const onSpan = tagsOf(b.batch.spans[0].tags);
    expect(onSpan.list).to.equal('["a","b"]');
    expect(onSpan['service.name']).to.equal('svc');
  });

  it('passes an absent scope version as an empty string, not "undefined"', () => {
    const t0 = 1_700_000_000_000_000_000n;
    const t = oneSpan(t0, t0, t0, '');
    expect(t.tags.find((x) => x.key === 'otel.library.version')!.vStr).to.equal('');
    expect(t.tags.find((x) => x.key === 'otel.library.name')!.vStr).to.equal('lib');
  });

  it('sends integer attributes as DOUBLE tags (library behaviour) and big ones as exact strings', () => {
    const s = span({
      traceId: newTraceId(),
      name: 'op',
      attributes: [kv('small', int(42)), kv('big', int(2n ** 60n))],
    });
    const t = convert([resourceSpans('svc', [s])])[0].batch.spans[0];
    expect(t.tags.find((x) => x.key === 'small')).to.include({ vType: 'DOUBLE', vDouble: 42 });
    expect(t.tags.find((x) => x.key === 'big')).to.include({ vType: 'STRING', vStr: '1152921504606846976' });
  });

  it('lets a repeated attribute key keep its first position with the later value', () => {
    const s = span({
      traceId: newTraceId(),
      name: 'op',
      attributes: [kv('a', str('1')), kv('b', str('2')), kv('a', str('3'))],
    });
    const t = convert([resourceSpans('svc', [s])])[0].batch.spans[0];
    expect(t.tags.slice(0, 2).map((x) => [x.key, x.vStr])).to.deep.equal([
      ['a', '3'],
      ['b', '2'],
    ]);
  });

  it("names the service after the resource's text service.name, else unknown_service", () => {
    expect(serviceNameOf([kv('service.name', str('a')), kv('service.name', str('b'))])).to.equal('b');
    expect(serviceNameOf([kv('service.name', bytes(Uint8Array.from([1])))])).to.equal('AQ==');
    for (const v of [str(''), int(5), bool(true), arr(str('x'))])
      expect(serviceNameOf([kv('service.name', v)])).to.equal('unknown_service');
    expect(serviceNameOf([])).to.equal('unknown_service');
  });

  it('merges equal resources of chunks into one process (key order ignored), cuts batches, lists traces once', () => {
    const ta = newTraceId();
    const tb = newTraceId();
    const a = resourceSpans(
      'svc',
      Array.from({ length: 3 }, (_, i) => span({ traceId: ta, name: `a${i}` })),
      [kv('h', str('1')), kv('z', int(1))],
    );
    const b = resourceSpans(
      'svc',
      Array.from({ length: 2 }, (_, i) => span({ traceId: tb, name: `b${i}` })),
      [kv('z', int(1)), kv('h', str('1'))],
    );
    const other = resourceSpans('svc', [span({ traceId: tb, name: 'c' })], [kv('h', str('2'))]);
    const out = batchesFromOtlp([[a], [b, other]], 'process_tags', 4);
    expect(out.map((x) => x.batch.spans.map((s) => s.operationName))).to.deep.equal([
      ['a0', 'a1', 'a2', 'b0'],
      ['b1'],
      ['c'],
    ]);
    expect(out.map((x) => x.traceIds)).to.deep.equal([[ta, tb], [tb], [tb]]);
    expect(out[0].batch.process).to.equal(out[1].batch.process);
  });

  it("matches the library's transform on spans made by the OpenTelemetry SDK and encoded by otlp-transformer", () => {
    const mem = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'sdk-svc', 'service.version': '2.0.0' }),
      spanProcessors: [new SimpleSpanProcessor(mem)],
    });
    const tracer = provider.getTracer('sdk-lib', '0.9.1');
    const root = tracer.startSpan('root', {
      kind: SpanKind.SERVER,
      attributes: { s: 'v', n: 7, d: 0.5, b: true, arr: ['x', 'y'] },
    });
    root.addEvent('evt', { k: 1 });
    const child = tracer.startSpan(
      'child',
      { kind: SpanKind.PRODUCER, links: [{ context: root.spanContext(), attributes: { why: 'batch' } }] },
      trace.setSpan(context.active(), root),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end();
    root.end();
    const sdkSpans = mem.getFinishedSpans();
    const bytesOut = ProtobufTraceSerializer.serializeRequest(sdkSpans)!;
    const [b] = batchesFromOtlp([decodeTraces(bytesOut)], 'span_tags', 100);
    expect(b.batch.process.serviceName).to.equal('sdk-svc');
    expect(b.batch.spans).to.have.length(sdkSpans.length);
    for (const orig of sdkSpans) {
      const got = b.batch.spans.find((c) => hex(c.spanId) === orig.spanContext().spanId)!;
      expect(got, orig.name).to.not.equal(undefined);
      const want = spanToThrift(orig);
      expect([got.operationName, got.traceIdLow, got.traceIdHigh, got.parentSpanId, got.flags]).to.deep.equal([
        want.operationName,
        want.traceIdLow,
        want.traceIdHigh,
        want.parentSpanId,
        want.flags,
      ]);
      expect(got.references).to.deep.equal(want.references);
      expect(i64(got.startTime)).to.equal(micros(orig.startTime));
      expect(i64(got.duration)).to.equal(micros(orig.duration));
      // The same tags in the same order; arrays as JSON where the library writes String(array).
      const jsonArrays = (tags: ThriftTag[]) =>
        tags.map((t) =>
          Array.isArray(orig.attributes[t.key]) && t.vStr === String(orig.attributes[t.key])
            ? { ...t, vStr: JSON.stringify(orig.attributes[t.key]) }
            : t,
        );
      expect(got.tags).to.deep.equal(jsonArrays(want.tags));
      expect(got.logs.map((l) => l.fields)).to.deep.equal(want.logs.map((l) => l.fields));
      expect(got.logs.map((l) => i64(l.timestamp))).to.deep.equal(orig.events.map((e) => micros(e.time)));
    }
  });
});

/** readable is a minimal SDK span for the library's transform. */
function readable(p: Pick<ReadableSpan, 'startTime' | 'events'>): ReadableSpan {
  const traceId = newTraceId();
  return {
    name: 'x',
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId, spanId: newSpanId(), traceFlags: 1 }),
    parentSpanContext: undefined,
    startTime: p.startTime,
    endTime: p.startTime,
    duration: [0, 0],
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: p.events,
    ended: true,
    resource: emptyResource(),
    instrumentationScope: { name: 'lib' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
