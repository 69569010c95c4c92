// appendSpanAttributes with a sampling threshold (the span trace_state rewrite, pipeline/sdk/otlp/stamp.ts):
// the output decodes (full protobufjs decoder) to the same spans with only the stamped attributes and
// trace_state changed; on canonical requests it is byte-identical to encoding the expected spans; spans
// without trace_state get it right after span_id; repeated and out-of-order trace_state fields; and, on
// random tracestates (valid, merged, malformed, full) and on mutated/truncated requests, the same bytes
// or the same error as the simple reference implementation (stamp-reference.ts).

import { expect } from 'chai';
import { Writer } from 'protobufjs';
import { decodeTraces, encodeTraces, type OtlpResourceSpans } from '../../../../pipeline/sdk/otlp/decode';
import { appendSpanAttributes } from '../../../../pipeline/sdk/otlp/stamp';
import type { AttrValue } from '../../../../pipeline/sdk/otlp/wire';
import {
  encodeThreshold,
  parseThreshold,
  probabilityToThreshold,
  TraceStateThreshold,
} from '../../../../pipeline/sdk/otlp/tracestate';
import { rng } from '../../../helpers/random';
import { flatten } from './expect-spans';
import { makeFixture, type Fixture } from './fixtures';
import { appendSpanAttributesReference, mutate, outcome } from './stamp-reference';

const ATTRS: Readonly<Record<string, AttrValue>> = {
  'sampling.policy': 'rest',
  'sampling.adjusted_count': 4,
  'http.method': 'REPLACED',
};

/** A random tracestate: absent, valid (with or without ot, th, rv), malformed, or full. */
function randomTraceState(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => pick('0123456789abcdef'.split(''))).join('');
  const vendors = () =>
    Array.from(
      { length: Math.floor(rand() * 4) },
      (_, i) => `${pick(['rojo', 'congo', 't0@sys', 'dd'])}${i}=${pick(['00f067aa0ba902b7', 'x y', 't61rcWkgMzE'])}`,
    );
  const ot = () =>
    `ot=${[pick([`th:${hex(1 + Math.floor(rand() * 14))}`, 'th:0', 'th:8', '']), pick([`rv:${hex(14)}`, '', 'x1:A.b'])].filter((e) => e !== '').join(';') || 'rv:00000000000001'}`;
  switch (Math.floor(rand() * 8)) {
    case 0:
    case 1:
      return '';
    case 2:
      return vendors().join(',');
    case 3:
    case 4: {
      const list = vendors();
      list.splice(Math.floor(rand() * (list.length + 1)), 0, ot());
      return list.join(pick([',', ' , ', ',\t,']));
    }
    case 5:
      return pick(['A=1', 'a=1,a=2', 'ot=th:zz', 'ot=th', 'ot=th:123456789abcdef', 'a=é', 'ot=th:8;th:9']);
    case 6:
      return Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(',');
    default:
      return `ot=th:${hex(14)}`;
  }
}

/** withTraceStates sets every span's (and link's) trace_state from `next` and re-encodes canonically (protobufjs). */
function withTraceStates(request: Uint8Array, next: () => string): { spans: OtlpResourceSpans[]; request: Uint8Array } {
  const spans = decodeTraces(request);
  for (const { span } of flatten(spans)) {
    span.traceState = next();
    for (const l of span.links) l.traceState = next();
  }
  return { spans, request: encodeTraces(spans) };
}

/** expectedTraceState is what the rewrite must leave in a span's trace_state. */
function expectedTraceState(original: string, stage: bigint): string {
  if (original === '') return `ot=th:${encodeThreshold(stage)}`;
  return new TraceStateThreshold(stage).rewriteText(original).text ?? original;
}

describe('pipeline/sdk/otlp appendSpanAttributes with a sampling threshold (trace_state)', () => {
  const fixtures: Fixture[] = [];
  before(async function () {
    this.timeout(20000);
    for (let seed = 31; seed <= 36; seed++) {
      fixtures.push(
        await makeFixture({
          seed,
          traces: 4 + (seed % 5),
          resources: 1 + (seed % 3),
          maxSpansPerTrace: 8,
          rich: seed % 2 === 0,
        }),
      );
    }
  });

  it('decodes to the same spans with the trace_state rewritten and links untouched (6 fixtures x 12 probabilities)', () => {
    const rand = rng(4242);
    let spans = 0;
    const seen = { absent: 0, merged: 0, malformed: 0, full: 0 };
    for (const fx of fixtures) {
      for (let k = 0; k < 12; k++) {
        const { spans: input, request } = withTraceStates(fx.request, () => randomTraceState(rand));
        const stage = probabilityToThreshold(0.001 + rand() * 0.9)!;
        const threshold = new TraceStateThreshold(stage);
        const stamped = decodeTraces(appendSpanAttributes(request, ATTRS, threshold));
        // Everything but trace_state must be what stamping the attributes alone gives.
        const want = decodeTraces(appendSpanAttributes(request, ATTRS));
        const originals = flatten(input).map((f) => f.span.traceState);
        flatten(want).forEach((f, i) => {
          f.span.traceState = expectedTraceState(originals[i], stage);
        });
        expect(stamped).to.deep.equal(want);
        spans += originals.length;
        for (const o of originals) {
          const r = new TraceStateThreshold(stage).rewriteText(o);
          if (o === '') seen.absent++;
          else if (r.outcome === 'malformed') seen.malformed++;
          else if (r.outcome === 'full') seen.full++;
          else if (/(^|,)\s*ot=/.test(o)) seen.merged++;
        }
        expect(
          threshold.counts.stamped + threshold.counts.unchanged + threshold.counts.malformed + threshold.counts.full,
        ).to.equal(originals.length);
      }
    }
    expect(spans).to.be.greaterThan(300);
    for (const [kind, n] of Object.entries(seen)) expect(n, `${kind} tracestates exercised`).to.be.greaterThan(10);
  });

  it('on a canonical request is byte-identical to encoding the expected spans (field 3 in place, or right after span_id)', () => {
    const rand = rng(99);
    const stage = parseThreshold('c')!;
    for (const fx of fixtures) {
      const { spans, request } = withTraceStates(fx.request, () => randomTraceState(rand));
      const got = Buffer.from(appendSpanAttributes(request, {}, new TraceStateThreshold(stage)));
      for (const { span } of flatten(spans)) span.traceState = expectedTraceState(span.traceState, stage);
      expect(got.equals(Buffer.from(encodeTraces(spans)))).to.equal(true);
    }
  });

  it('writes the field of a span without trace_state between span_id and parent_span_id', () => {
    const span = Writer.create();
    span
      .uint32(0x0a)
      .bytes(Buffer.alloc(16, 1))
      .uint32(0x12)
      .bytes(Buffer.alloc(8, 2))
      .uint32(0x22)
      .bytes(Buffer.alloc(8, 3))
      .uint32(0x2a)
      .string('op');
    const request = Writer.create();
    request.uint32(0x0a).fork().uint32(0x12).fork().uint32(0x12).bytes(span.finish()).ldelim().ldelim();
    const out = Buffer.from(appendSpanAttributes(request.finish(), {}, new TraceStateThreshold(parseThreshold('8')!)));
    const want = Writer.create();
    want
      .uint32(0x0a)
      .bytes(Buffer.alloc(16, 1))
      .uint32(0x12)
      .bytes(Buffer.alloc(8, 2))
      .uint32(0x1a)
      .string('ot=th:8')
      .uint32(0x22)
      .bytes(Buffer.alloc(8, 3))
      .uint32(0x2a)
      .string('op');
    expect(out.subarray(out.length - want.finish().length).equals(Buffer.from(want.finish()))).to.equal(true);
  });

  it('collapses repeated trace_state fields into one (the last value wins), placed before the first field above 3', () => {
    // span: name (5), trace_state "a=1", span_id (2), trace_state "b=2": non-canonical but valid protobuf.
    const span = Writer.create();
    span
      .uint32(0x2a)
      .string('op')
      .uint32(0x1a)
      .string('a=1')
      .uint32(0x12)
      .bytes(Buffer.alloc(8, 2))
      .uint32(0x1a)
      .string('b=2');
    const request = Writer.create();
    request.uint32(0x0a).fork().uint32(0x12).fork().uint32(0x12).bytes(span.finish()).ldelim().ldelim();
    const threshold = new TraceStateThreshold(parseThreshold('c')!);
    const out = appendSpanAttributes(request.finish(), {}, threshold);
    expect(
      Buffer.from(out).equals(
        Buffer.from(appendSpanAttributesReference(request.finish(), {}, new TraceStateThreshold(parseThreshold('c')!))),
      ),
    ).to.equal(true);
    const s = flatten(decodeTraces(out))[0].span;
    expect([s.traceState, s.name, s.spanId]).to.deep.equal(['ot=th:c,b=2', 'op', '0202020202020202']);
    const want = Writer.create();
    want.uint32(0x1a).string('ot=th:c,b=2').uint32(0x2a).string('op').uint32(0x12).bytes(Buffer.alloc(8, 2));
    expect(
      Buffer.from(out)
        .subarray(out.length - want.finish().length)
        .equals(Buffer.from(want.finish())),
    ).to.equal(true);
    expect(threshold.counts.stamped).to.equal(1);
  });

  it('leaves a malformed trace_state byte for byte and counts it', () => {
    const rand = rng(5);
    const { request } = withTraceStates(fixtures[0].request, () => (rand() < 0.5 ? 'Bad=1' : 'ot=th:nothex'));
    const threshold = new TraceStateThreshold(parseThreshold('c')!);
    const out = appendSpanAttributes(request, {}, threshold);
    expect(Buffer.from(out).equals(Buffer.from(request))).to.equal(true);
    expect(threshold.counts.malformed).to.equal(flatten(decodeTraces(request)).length);
    expect(threshold.counts.stamped).to.equal(0);
  });

  it('writes the same bytes as the reference implementation for random tracestates, thresholds and attribute sets', () => {
    const rand = rng(20261126);
    for (const fx of fixtures) {
      for (let k = 0; k < 25; k++) {
        const { request } = withTraceStates(fx.request, () => randomTraceState(rand));
        const stage = probabilityToThreshold(rand() < 0.2 ? 0.5 : 1e-6 + rand() * 0.999, 1 + Math.floor(rand() * 14))!;
        if (stage === 0n) continue;
        const attrs: Record<string, AttrValue> = rand() < 0.5 ? ATTRS : { 'sampling.policy': `p${k}` };
        const a = new TraceStateThreshold(stage);
        const b = new TraceStateThreshold(stage);
        const got = Buffer.from(appendSpanAttributes(request, attrs, a));
        expect(
          got.equals(Buffer.from(appendSpanAttributesReference(request, attrs, b))),
          `fixture ${fixtures.indexOf(fx)} set ${k}`,
        ).to.equal(true);
        expect(a.counts).to.deep.equal(b.counts);
        // Stamping again raises every threshold again (proportional): still the same as the reference.
        expect(
          Buffer.from(appendSpanAttributes(got, attrs, new TraceStateThreshold(stage))).equals(
            Buffer.from(appendSpanAttributesReference(got, attrs, new TraceStateThreshold(stage))),
          ),
        ).to.equal(true);
      }
    }
  });

  it('agrees with the reference on mutated and truncated requests: same bytes or both OtlpDecodeError (bounded fuzz)', function () {
    this.timeout(20000);
    const rand = rng(17);
    const sources = fixtures.map((fx) => withTraceStates(fx.request, () => randomTraceState(rand)).request);
    const deadline = Date.now() + 8000;
    let errors = 0;
    let ok = 0;
    for (let iter = 0; iter < 3000 && Date.now() < deadline; iter++) {
      const src = Buffer.from(sources[iter % sources.length]);
      const input = mutate(src, iter, rand);
      const stage = parseThreshold('e666')!;
      const want = outcome(() => appendSpanAttributesReference(input, ATTRS, new TraceStateThreshold(stage)));
      const got = outcome(() => appendSpanAttributes(input, ATTRS, new TraceStateThreshold(stage)));
      if ('bytes' in want) {
        expect(
          'bytes' in got,
          `iteration ${iter}: new version threw ${'error' in got ? got.error.message : ''}`,
        ).to.equal(true);
        if ('bytes' in got) expect(got.bytes.equals(want.bytes), `iteration ${iter}`).to.equal(true);
        ok++;
      } else {
        expect('error' in got, `iteration ${iter}: reference threw ${want.error.message}, new one did not`).to.equal(
          true,
        );
        errors++;
      }
    }
    expect(errors).to.be.greaterThan(100);
    expect(ok).to.be.greaterThan(100);
  });
});
