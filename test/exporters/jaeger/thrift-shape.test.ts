// Unit tests of exporters/jaeger/thrift-shape.ts, run through the library's own transform (spanToThrift of
// @opentelemetry/exporter-jaeger): every time lands on floor(ns / 1000) µs exactly (the library computes in
// floating point), arrays become JSON text, the resource moves off the spans, an absent scope version is ''.

import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { emptyResource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { readableSpansFromOtlp } from '../../../exporters/jaeger/convert';
import { forJaegerThrift, spanResourceFor, tagAttributes } from '../../../exporters/jaeger/thrift-shape';
import { arr, int, kv, newTraceId, resourceSpans, span, str } from '../../pipeline/sdk/exporterhelper/fixtures';

// The library's transform, reached by path: it is not exported from the package index.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { spanToThrift } = require('@opentelemetry/exporter-jaeger/build/src/transform') as { spanToThrift(s: ReadableSpan): ThriftSpan };
interface ThriftTag { key: string; vType: string; vStr: string; vDouble: number; vBool: boolean }
interface ThriftSpan { startTime: Buffer; duration: Buffer; tags: ThriftTag[]; logs: Array<{ timestamp: Buffer; fields: ThriftTag[] }> }
const i64 = (b: Buffer) => b.readBigInt64BE(0);

function oneSpan(start: bigint, end: bigint, eventAt: bigint, resourceAsProcessTags = true, scopeVersion = '1.0') {
  const traceId = newTraceId();
  const s = span({ traceId, name: 'op', startTimeUnixNano: start, endTimeUnixNano: end, events: [{ timeUnixNano: eventAt, name: 'e', attributes: [], droppedAttributesCount: 0 }] });
  const [g] = readableSpansFromOtlp([resourceSpans('svc', [s], [kv('list', arr(str('a'), str('b')))], { name: 'lib', version: scopeVersion })]);
  return forJaegerThrift(g.spans[0], spanResourceFor(g.resourceAttributes, resourceAsProcessTags));
}

describe('exporters/jaeger/thrift-shape', () => {
  it('gives start, duration and event times of exactly floor(ns / 1000) µs for 3000 random times', () => {
    let rawMismatches = 0;
    for (let i = 0; i < 3000; i++) {
      const start = BigInt(randomInt(1_600_000_000, 2_100_000_000)) * 1_000_000_000n + BigInt(randomInt(0, 1_000_000_000));
      const end = start + BigInt(randomInt(0, 1_000_000)) * 1000n + BigInt(randomInt(0, 1000));
      const ev = start + BigInt(randomInt(0, 1_000_000_000));
      const t = spanToThrift(oneSpan(start, end, ev));
      expect(i64(t.startTime), `start ${start}`).to.equal(start / 1000n);
      expect(i64(t.duration), `duration ${start}..${end}`).to.equal((end - start) / 1000n);
      expect(i64(t.logs[0].timestamp), `event ${ev}`).to.equal(ev / 1000n);
      // Without the adjustment the library's float math is off by a microsecond now and then.
      const [g] = readableSpansFromOtlp([resourceSpans('svc', [span({ traceId: newTraceId(), name: 'x', startTimeUnixNano: start, endTimeUnixNano: end, events: [{ timeUnixNano: ev, name: 'e', attributes: [], droppedAttributesCount: 0 }] })])]);
      const raw = spanToThrift(g.spans[0]);
      if (i64(raw.logs[0].timestamp) !== ev / 1000n || i64(raw.startTime) !== start / 1000n) rawMismatches++;
    }
    expect(rawMismatches, 'the library alone should be off sometimes (else this adjustment is not needed)').to.be.greaterThan(0);
  });

  it('renders array attributes as JSON text (the library would join them with commas)', () => {
    expect(tagAttributes({ a: ['x', 'y,z'], n: [1, 2], s: 'keep', b: true })).to.deep.equal({ a: '["x","y,z"]', n: '[1,2]', s: 'keep', b: true });
    const attrs = { s: 'unchanged' };
    expect(tagAttributes(attrs)).to.equal(attrs);
  });

  it('keeps resource attributes off the spans in process-tags mode, and on them (arrays as JSON) in span-tags mode', () => {
    const t0 = 1_700_000_000_000_000_000n;
    const proc = spanToThrift(oneSpan(t0, t0 + 1000n, t0, true));
    expect(proc.tags.map((t) => t.key)).to.not.include.members(['service.name', 'list']);
    const onSpan = spanToThrift(oneSpan(t0, t0 + 1000n, t0, false));
    const list = onSpan.tags.find((t) => t.key === 'list')!;
    expect(list.vStr).to.equal('["a","b"]');
    expect(onSpan.tags.find((t) => t.key === 'service.name')!.vStr).to.equal('svc');
    expect(spanResourceFor({ a: 1 }, true).attributes).to.deep.equal(emptyResource().attributes);
  });

  it('passes an absent scope version as an empty string, not "undefined"', () => {
    const t0 = 1_700_000_000_000_000_000n;
    const t = spanToThrift(oneSpan(t0, t0, t0, true, ''));
    expect(t.tags.find((x) => x.key === 'otel.library.version')!.vStr).to.equal('');
    expect(t.tags.find((x) => x.key === 'otel.library.name')!.vStr).to.equal('lib');
  });

  it('sends integer attributes as DOUBLE tags (library behaviour) and big ones as exact strings', () => {
    const traceId = newTraceId();
    const s = span({ traceId, name: 'op', attributes: [kv('small', int(42)), kv('big', int(2n ** 60n))] });
    const [g] = readableSpansFromOtlp([resourceSpans('svc', [s])]);
    const t = spanToThrift(forJaegerThrift(g.spans[0], spanResourceFor(g.resourceAttributes, true)));
    expect(t.tags.find((x) => x.key === 'small')).to.include({ vType: 'DOUBLE', vDouble: 42 });
    expect(t.tags.find((x) => x.key === 'big')).to.include({ vType: 'STRING', vStr: '1152921504606846976' });
  });
});
