// The sampling threshold in the tracestate of kept spans, through the processor: written when a
// probability decided (merged with what the spans carry), not written when a non-random policy decided
// or p = 1, recorded in the decision's inputs, and a malformed tracestate left as it was and counted.

import { expect } from 'chai';
import { decodeTraces, encodeTraces, parseThreshold, thresholdAdjustedCount } from '../../../pipeline/sdk/otlp/index';
import type { TraceChunk } from '../../../pipeline/sdk/trace-batch';
import { traceIdHash } from '../../../processors/tail-sampling/trace-view';
import { chunkOf, metricValue, newSpanId, newTraceId } from './helpers/fixtures';
import { harness } from './helpers/harness';

/** traceIdBelow returns a trace id whose hash is below p (kept by a probability p). */
function traceIdBelow(p: number): string {
  let id = newTraceId();
  while (traceIdHash(id) >= p) id = newTraceId();
  return id;
}

/** withRawTraceStates sets the spans' trace_state to arbitrary strings (the SDK would drop invalid members). */
function withRawTraceStates(chunk: TraceChunk, states: readonly string[]): TraceChunk {
  const rss = decodeTraces(chunk.data);
  let i = 0;
  for (const rs of rss) for (const ss of rs.scopeSpans) for (const s of ss.spans) s.traceState = states[i++];
  return { ...chunk, data: encodeTraces(rss) };
}

describe('tail_sampling tracestate threshold on kept spans', () => {
  it('writes ot=th for the deciding probability, keeping other vendors and raising an upstream th', async () => {
    const h = await harness({
      root_settle_delay: 0,
      policies: [{ name: 'quarter', type: 'probabilistic', percentage: 25 }],
    });
    const id = traceIdBelow(0.25);
    const root = newSpanId();
    void h.p.consumeTraces({
      chunks: [
        chunkOf([
          { traceId: id, spanId: root },
          { traceId: id, parentSpanId: root, traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' },
          { traceId: id, parentSpanId: root, traceState: 'congo=t61rcWkgMzE,ot=th:8;rv:0123456789abcd' },
        ]),
      ],
    });
    await h.advance(100);
    const spans = h.next.exportedSpans();
    expect(spans.map((s) => s.traceState)).to.deep.equal([
      'ot=th:c',
      'ot=th:c,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
      // Head-sampled at 1/2, then kept here at 1/4 with independent randomness: 1/8.
      'ot=th:e;rv:0123456789abcd,congo=t61rcWkgMzE',
    ]);
    for (const s of spans)
      expect(s.attributes).to.include({ 'sampling.policy': 'quarter', 'sampling.adjusted_count': 4 });
    const r = await h.p.explainDecision(id);
    expect(r?.inputs).to.include({ adjusted_count: 4, sampling_threshold: 'c' });
  });

  it("a consistent mode writes its own threshold, never lowers a span's, and counts an invalid ot value", async () => {
    const h = await harness({
      root_settle_delay: 0,
      policies: [{ name: 'eq-half', type: 'probabilistic', mode: 'equalizing', percentage: 50 }],
    });
    const id = `${newTraceId().slice(0, 18)}c0000000000000`; // R = c0...: kept at 1/2 (and at 1/4)
    const root = newSpanId();
    void h.p.consumeTraces({
      chunks: [
        withRawTraceStates(
          chunkOf([
            { traceId: id, spanId: root },
            { traceId: id, parentSpanId: root },
            { traceId: id, parentSpanId: root },
            { traceId: id, parentSpanId: root },
          ]),
          ['', 'ot=th:4;rv:c0000000000000', 'ot=th:c,congo=t61rcWkgMzE', 'ot=rv:nothex'],
        ),
      ],
    });
    await h.advance(100);
    expect(h.next.exportedSpans().map((s) => s.traceState)).to.deep.equal([
      'ot=th:8', // no threshold upstream: ours
      'ot=th:8;rv:c0000000000000', // 1/4 -> 1/2 would need R >= 8...: consistent rule takes the larger
      'ot=th:c,congo=t61rcWkgMzE', // already 1/4: left as it is (no upsampling)
      // The invalid rv was ignored (counted): R came from the trace id; the writer keeps the sub-key as it is.
      'ot=th:8;rv:nothex',
    ]);
    const r = await h.p.explainDecision(id);
    expect(r?.inputs).to.include({ sampling_threshold: '8', sampling_threshold_rule: 'consistent' });
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_policy_warnings_total', {
        policy: 'eq-half',
        kind: 'tracestate_ignored',
      }),
    ).to.equal(1);
  });

  it("uses the adaptive policy's p, at 4 significant hex digits", async () => {
    const h = await harness({
      root_settle_delay: 0,
      policies: [{ name: 'rest', type: 'adaptive', base_rate: 0.1, use_error_boost: false }],
    });
    const id = traceIdBelow(0.1);
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
    await h.advance(100);
    const [span] = h.next.exportedSpans();
    expect(span.traceState).to.equal('ot=th:e666'); // the spec's table: 1 in 10 at precision 4
    expect(span.attributes?.['sampling.adjusted_count']).to.equal(10);
    expect(thresholdAdjustedCount(parseThreshold('e666')!)).to.be.closeTo(10, 0.001);
  });

  it('leaves the tracestate alone when a non-random policy decided, or the probability was 1', async () => {
    for (const policies of [
      [{ name: 'all', type: 'always_sample' }],
      [{ name: 'one', type: 'probabilistic', rate: 1 }],
      [
        { name: 'half', type: 'probabilistic', rate: 0.5 },
        { name: 'all', type: 'always_sample' },
      ],
    ]) {
      const h = await harness({ root_settle_delay: 0, policies });
      void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId(), traceState: 'rojo=1' }])] });
      void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
      await h.advance(100);
      expect(
        h.next
          .exportedSpans()
          .map((s) => s.traceState)
          .sort(),
        policies[0].name,
      ).to.deep.equal(['', 'rojo=1']);
    }
  });

  it('leaves a malformed tracestate as it was and counts it; the other spans are stamped', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'half', type: 'probabilistic', rate: 0.5 }] });
    const id = traceIdBelow(0.5);
    const chunk = withRawTraceStates(chunkOf([{ traceId: id }, { traceId: id }, { traceId: id }]), [
      'Bad=1',
      'a=1,a=2',
      'ok=1',
    ]);
    void h.p.consumeTraces({ chunks: [chunk] });
    await h.advance(100);
    expect(h.next.exportedSpans().map((s) => s.traceState)).to.deep.equal(['Bad=1', 'a=1,a=2', 'ot=th:8,ok=1']);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_tracestate_skipped_total', { reason: 'malformed' }),
    ).to.equal(2);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_tracestate_skipped_total', { reason: 'full' })).to.equal(
      0,
    );
  });
});
