// Unit tests of exporters/jaeger/convert.ts, field by field: ids, parent, kind mapping, exact HrTime from
// fixed64 ns, duration, every attribute type, events, links (remote flags, trace state), status, resource,
// scope, dropped counts; plus a conformance check against spans made by the official SDK and encoded by
// @opentelemetry/otlp-transformer.

import { expect } from 'chai';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeTraces } from '../../../pipeline/sdk/otlp';
import {
  anyValueToJson, attributeValueFromOtlp, hrTimeFromNanos, readableSpansFromOtlp, spanKindFromOtlp, statusCodeFromOtlp,
} from '../../../exporters/jaeger/convert';
import { arr, bool, bytes, dbl, int, kv, kvlist, newSpanId, newTraceId, resourceSpans, richTrace, span, str } from '../../pipeline/sdk/exporterhelper/fixtures';

describe('exporters/jaeger/convert', () => {
  it('maps OTLP span kinds: unspecified -> INTERNAL, k -> k - 1, unknown -> INTERNAL', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 99].map(spanKindFromOtlp)).to.deep.equal([
      SpanKind.INTERNAL, SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL, SpanKind.INTERNAL,
    ]);
  });

  it('maps status codes 0/1/2 and unknown', () => {
    expect([0, 1, 2, 7].map(statusCodeFromOtlp)).to.deep.equal([SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
  });

  it('splits fixed64 nanoseconds into [s, ns] exactly, beyond 2^53', () => {
    expect(hrTimeFromNanos(1_700_000_000_123_456_789n)).to.deep.equal([1_700_000_000, 123_456_789]);
    expect(hrTimeFromNanos(18_446_744_073_709_551_615n)).to.deep.equal([18_446_744_073, 709_551_615]);
    expect(hrTimeFromNanos(0n)).to.deep.equal([0, 0]);
    expect(hrTimeFromNanos(999n)).to.deep.equal([0, 999]);
  });

  it('maps every attribute type', () => {
    expect(attributeValueFromOtlp(str('x'))).to.equal('x');
    expect(attributeValueFromOtlp(bool(false))).to.equal(false);
    expect(attributeValueFromOtlp(dbl(1.5))).to.equal(1.5);
    expect(attributeValueFromOtlp(int(-42))).to.equal(-42);
    expect(attributeValueFromOtlp(int(9_007_199_254_740_991n))).to.equal(9_007_199_254_740_991);
    expect(attributeValueFromOtlp(int(9_007_199_254_740_993n))).to.equal('9007199254740993');
    expect(attributeValueFromOtlp(int(-9_223_372_036_854_775_808n))).to.equal('-9223372036854775808');
    expect(attributeValueFromOtlp(bytes(Uint8Array.from([0, 1, 2, 250])))).to.equal('AAEC+g==');
    expect(attributeValueFromOtlp(arr(str('a'), str('b')))).to.deep.equal(['a', 'b']);
    expect(attributeValueFromOtlp(arr(int(1), dbl(2.5)))).to.deep.equal([1, 2.5]);
    expect(attributeValueFromOtlp(arr(bool(true), bool(false)))).to.deep.equal([true, false]);
    expect(attributeValueFromOtlp(arr())).to.deep.equal([]);
    expect(attributeValueFromOtlp(arr(str('a'), int(1)))).to.equal('["a",1]');
    expect(attributeValueFromOtlp(arr(int(9_007_199_254_740_993n)))).to.equal('[9007199254740993]');
    expect(attributeValueFromOtlp(arr(arr(int(1)), kvlist()))).to.equal('[[1],{}]');
    expect(attributeValueFromOtlp(kvlist(kv('a', int(1)), kv('b', kvlist(kv('c', bytes(Uint8Array.from([255]))))), kv('d', { type: 'empty' })))).to.equal('{"a":1,"b":{"c":"/w=="},"d":null}');
    expect(attributeValueFromOtlp({ type: 'empty' })).to.equal('');
  });

  it('renders non-finite doubles in JSON as strings', () => {
    expect(anyValueToJson(arr(dbl(Number.NaN), dbl(Number.POSITIVE_INFINITY), dbl(0.1)))).to.equal('["NaN","Infinity",0.1]');
  });

  it('converts a trace field by field', () => {
    const traceId = newTraceId();
    const t0 = 1_700_000_000_123_456_789n;
    const { rs, ids } = richTrace(traceId, ['frontend', 'backend'], t0);
    rs[0].scopeSpans[0].schemaUrl = 'https://opentelemetry.io/schemas/1.21.0';
    const groups = readableSpansFromOtlp(rs);
    expect(groups).to.have.length(2);
    const [front, back] = groups;
    expect(front.resourceAttributes).to.deep.equal({ 'service.name': 'frontend', 'host.name': 'web-1', 'deployment.environment': 'test' });
    expect([...front.traceIds]).to.deep.equal([traceId]);

    const root = front.spans[0];
    expect(root.name).to.equal('GET /checkout');
    expect(root.kind).to.equal(SpanKind.SERVER);
    expect(root.spanContext()).to.deep.equal({ traceId, spanId: ids.root, traceFlags: 1, traceState: undefined });
    expect(root.parentSpanContext).to.equal(undefined);
    expect(root.startTime).to.deep.equal([1_700_000_000, 123_456_789]);
    expect(root.endTime).to.deep.equal([1_700_000_000, 373_457_566]);
    expect(root.duration).to.deep.equal([0, 250_000_777]);
    expect(root.ended).to.equal(true);
    expect(root.status).to.deep.equal({ code: SpanStatusCode.OK });
    expect(root.attributes).to.deep.equal({
      'http.method': 'GET', 'http.status_code': 200, ratio: 0.25, 'cache.hit': true, big: '9007199254740993',
      tags: ['a', 'b,c'], codes: [1, 2, 3], flags: [true, false], mixed: '["x",1]', payload: 'AAEC+g==', user: '{"id":42,"name":"ann"}',
    });
    expect(root.events).to.deep.equal([{ name: 'cache.lookup', time: [1_700_000_000, 133_457_788], attributes: { key: 'cart:42', hit: true, size: 3 }, droppedAttributesCount: 0 }]);
    expect(root.links).to.deep.equal([]);
    expect(root.resource.attributes).to.deep.equal(front.resourceAttributes);
    expect(root.instrumentationScope).to.deep.equal({ name: 'test-scope', version: '1.2.3', schemaUrl: 'https://opentelemetry.io/schemas/1.21.0' });
    expect([root.droppedAttributesCount, root.droppedEventsCount, root.droppedLinksCount]).to.deep.equal([0, 0, 0]);

    const [child, grand] = back.spans;
    expect(child.kind).to.equal(SpanKind.CLIENT);
    expect(child.parentSpanContext).to.deep.equal({ traceId, spanId: ids.root, traceFlags: 1, isRemote: undefined });
    expect(child.attributes).to.deep.equal({ 'db.system': 'postgresql', 'db.rows': -7 });
    expect(child.links).to.deep.equal([{ context: { traceId: ids.linkTrace, spanId: ids.linkSpan, traceFlags: 1, isRemote: undefined, traceState: undefined }, attributes: { 'link.kind': 'retry-of' }, droppedAttributesCount: 0 }]);
    expect(child.instrumentationScope.schemaUrl).to.equal(undefined);
    expect(grand.kind).to.equal(SpanKind.INTERNAL);
    expect(grand.parentSpanContext!.spanId).to.equal(ids.child);
    expect(grand.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'bad row 3' });
    expect(grand.events[0].droppedAttributesCount).to.equal(2);
    expect([grand.droppedAttributesCount, grand.droppedEventsCount, grand.droppedLinksCount]).to.deep.equal([1, 3, 0]);
    expect(back.resourceAttributes['service.name']).to.equal('backend');
  });

  it('reads trace flags, remote bits and trace state; clamps an end before the start; leaves an empty scope version undefined', () => {
    const traceId = newTraceId();
    const parent = newSpanId();
    const s = span({
      traceId, name: 'x', parentSpanId: parent, flags: 0x301, traceState: 'vendor=a,other=b',
      startTimeUnixNano: 2_000_000_000n, endTimeUnixNano: 1_000_000_000n,
      links: [
        { traceId, spanId: parent, traceState: 'k=v', attributes: [], droppedAttributesCount: 4, flags: 0x100 },
        { traceId, spanId: parent, traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0x201 },
      ],
    });
    const [g] = readableSpansFromOtlp([resourceSpans('svc', [s], [], { name: 'lib', version: '' })]);
    const r = g.spans[0];
    expect(r.spanContext().traceFlags).to.equal(1);
    expect(r.spanContext().traceState!.serialize()).to.equal('vendor=a,other=b');
    expect(r.parentSpanContext!.isRemote).to.equal(true);
    expect(r.duration).to.deep.equal([0, 0]);
    expect(r.endTime).to.deep.equal(r.startTime);
    expect(r.links[0].context.isRemote).to.equal(false);
    expect(r.links[0].context.traceState!.get('k')).to.equal('v');
    expect(r.links[0].droppedAttributesCount).to.equal(4);
    expect(r.links[1].context.isRemote).to.equal(undefined);
    expect(r.instrumentationScope).to.deep.equal({ name: 'lib', version: undefined, schemaUrl: undefined });
  });

  it('reproduces spans made by the OpenTelemetry SDK and encoded by otlp-transformer', () => {
    const mem = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'sdk-svc', 'service.version': '2.0.0' }),
      spanProcessors: [new SimpleSpanProcessor(mem)],
    });
    const tracer = provider.getTracer('sdk-lib', '0.9.1');
    const root = tracer.startSpan('root', { kind: SpanKind.SERVER, attributes: { s: 'v', n: 7, d: 0.5, b: true, arr: ['x', 'y'] } });
    root.addEvent('evt', { k: 1 });
    const child = tracer.startSpan('child', { kind: SpanKind.PRODUCER, links: [{ context: root.spanContext(), attributes: { why: 'batch' } }] }, trace.setSpan(context.active(), root));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end();
    root.end();
    const sdkSpans = mem.getFinishedSpans();
    const bytesOut = ProtobufTraceSerializer.serializeRequest(sdkSpans)!;
    const converted = readableSpansFromOtlp(decodeTraces(bytesOut)).flatMap((g) => g.spans);
    expect(converted).to.have.length(sdkSpans.length);
    for (const orig of sdkSpans) {
      const got = converted.find((c) => c.spanContext().spanId === orig.spanContext().spanId)!;
      expect(got, orig.name).to.not.equal(undefined);
      expect(got.name).to.equal(orig.name);
      expect(got.kind).to.equal(orig.kind);
      expect(got.spanContext().traceId).to.equal(orig.spanContext().traceId);
      expect(got.parentSpanContext?.spanId).to.equal(orig.parentSpanContext?.spanId);
      expect(got.startTime).to.deep.equal(orig.startTime);
      expect(got.endTime).to.deep.equal(orig.endTime);
      expect(got.duration).to.deep.equal(orig.duration);
      expect(got.attributes).to.deep.equal(orig.attributes);
      expect(got.status).to.deep.equal(orig.status.message ? orig.status : { code: orig.status.code });
      expect(got.events.map((e) => [e.name, e.time, e.attributes])).to.deep.equal(orig.events.map((e) => [e.name, e.time, e.attributes]));
      expect(got.links.map((l) => [l.context.spanId, l.attributes])).to.deep.equal(orig.links.map((l) => [l.context.spanId, l.attributes]));
      expect(got.resource.attributes).to.deep.include({ 'service.name': 'sdk-svc', 'service.version': '2.0.0' });
      expect(got.instrumentationScope).to.deep.include({ name: 'sdk-lib', version: '0.9.1' });
    }
  });
});
