// Decision triggers: root span + settle delay, decision_wait, per-trace caps, and memory/trace-count
// eviction (decided early, counted, never silently dropped).

import { expect } from 'chai';
import { chunkOf, metricValue, newSpanId, newTraceId } from './helpers/fixtures';
import { harness, status } from './helpers/harness';

describe('tail_sampling buffer triggers', () => {
  it('decides root_settle_delay after the root span arrived', async () => {
    const h = await harness({ root_settle_delay: '2s', decision_wait: '10s' });
    const id = newTraceId();
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
    await h.advance(1900);
    expect(h.next.calls).to.equal(0);
    expect(await status(settled)).to.equal('pending');
    await h.advance(200);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(await status(settled)).to.equal('resolved');
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_decision_triggers_total', { trigger: 'root_settled' }),
    ).to.equal(1);
    const lag = (await h.settings.metrics.getSingleMetric('tusk_sampler_decision_lag_seconds')!.get()).values as {
      metricName?: string;
      value: number;
    }[];
    expect(lag.find((v) => v.metricName === 'tusk_sampler_decision_lag_seconds_count')?.value).to.equal(1);
    expect(lag.find((v) => v.metricName === 'tusk_sampler_decision_lag_seconds_sum')?.value).to.be.closeTo(2.1, 0.001);
  });

  it('decides decision_wait after the first span when no root arrives', async () => {
    const h = await harness({ root_settle_delay: '2s', decision_wait: '10s' });
    const id = newTraceId();
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    await h.advance(9_800);
    expect(h.next.calls).to.equal(0);
    await h.advance(300);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(await status(settled)).to.equal('resolved');
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_decision_triggers_total', { trigger: 'decision_wait' }),
    ).to.equal(1);
  });

  it('a late root moves the deadline earlier, never later', async () => {
    const h = await harness({ root_settle_delay: '2s', decision_wait: '10s' });
    const id = newTraceId();
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    await h.advance(5_000);
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
    await h.advance(1_900);
    expect(h.next.calls).to.equal(0);
    await h.advance(200); // t = 7.1s < decision_wait
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    const spans = h.next.exportedSpans();
    expect(spans).to.have.length(2);
  });

  it('decides at once when max_spans_per_trace is reached', async () => {
    const h = await harness({ max_spans_per_trace: 3 });
    const id = newTraceId();
    const parent = newSpanId();
    void h.p.consumeTraces({
      chunks: [
        chunkOf([
          { traceId: id, parentSpanId: parent },
          { traceId: id, parentSpanId: parent },
        ]),
      ],
    });
    await h.advance(0);
    expect(h.next.calls).to.equal(0);
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: parent }])] });
    await h.advance(0);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_decision_triggers_total', { trigger: 'max_spans_per_trace' }),
    ).to.equal(1);
  });

  it('decides at once when max_bytes_per_trace is reached', async () => {
    const h = await harness({ max_bytes_per_trace: 2000 });
    const id = newTraceId();
    void h.p.consumeTraces({
      chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId(), attributes: { blob: 'x'.repeat(3000) } }])],
    });
    await h.advance(0);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_decision_triggers_total', { trigger: 'max_bytes_per_trace' }),
    ).to.equal(1);
  });

  it('over max_buffered_bytes, decides the oldest traces early and counts evictions', async () => {
    const h = await harness({ max_buffered_bytes: 6000, decision_wait: '60s' });
    const ids = Array.from({ length: 6 }, () => newTraceId());
    const settles = ids.map((id, i) => {
      h.clock.now += 10;
      return h.p.consumeTraces({
        chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId(), attributes: { pad: 'y'.repeat(600), i } }])],
      });
    });
    expect(h.p.stats().bytes).to.be.above(6000);
    await h.advance(0);
    const exported = h.next.exportedTraceIds();
    expect(exported.length).to.be.within(1, 5);
    expect(exported).to.deep.equal(ids.slice(0, exported.length)); // oldest first
    expect(h.p.stats().bytes).to.be.at.most(6000);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_evictions_total', { reason: 'max_buffered_bytes' }),
    ).to.equal(exported.length);
    // Nothing was dropped: the rest is still buffered and decided in time.
    await h.advance(61_000);
    expect(h.next.exportedTraceIds().sort()).to.deep.equal([...ids].sort());
    for (const s of settles) expect(await status(s)).to.equal('resolved');
  });

  it('over num_traces, decides the oldest traces early', async () => {
    const h = await harness({ num_traces: 2, decision_wait: '60s' });
    const ids = Array.from({ length: 5 }, () => newTraceId());
    for (const id of ids) void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    await h.advance(0);
    expect(h.next.exportedTraceIds()).to.deep.equal(ids.slice(0, 3));
    expect(h.p.stats().traces).to.equal(2);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_evictions_total', { reason: 'num_traces' })).to.equal(3);
  });

  it('reports buffered traces, spans and bytes as gauges', async () => {
    const h = await harness({ decision_wait: '60s' });
    const id = newTraceId();
    void h.p.consumeTraces({
      chunks: [
        chunkOf([
          { traceId: id, parentSpanId: newSpanId() },
          { traceId: id, parentSpanId: newSpanId() },
        ]),
      ],
    });
    await h.advance(0);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_traces_buffered')).to.equal(1);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_spans_buffered')).to.equal(2);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_bytes_buffered')).to.be.above(512);
    await h.advance(61_000);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_traces_buffered')).to.equal(0);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_bytes_buffered')).to.equal(0);
  });
});
