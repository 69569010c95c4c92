// The processor over a real MemorySamplingState: every decision it knows without I/O comes from the state's
// one local store of recent decisions (bounded by decision_cache_size): late spans and logs follow it, the
// decisions of logs-only traces are held there too, explainDecision answers from it, and the bound evicts.

import { expect } from 'chai';
import type { LogChunk } from '../../../pipeline/sdk/trace-batch';
import { configSchema } from '../../../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../../../processors/tail-sampling/processor';
import { MemorySamplingState } from '../../../processors/tail-sampling/state';
import { chunkOf, metricValue, newSpanId, newTraceId, settings } from './helpers/fixtures';
import { FakeNext, HOST, status } from './helpers/harness';

function logChunk(traceId: string, n = 1): LogChunk {
  return { traceId, data: new Uint8Array([0x0a, 0x00, n]), recordCount: n };
}

/** A started processor whose state is a MemorySamplingState sized like the factory sizes it. */
async function memoryHarness(raw: Record<string, unknown>) {
  const clock = { now: 1_700_000_000_000 };
  const policies = [{ name: 'keep', type: 'always_sample' }];
  const config = configSchema.parse({ root_settle_delay: 0, policies, ...raw });
  const state = new MemorySamplingState({ ledgerMaxEntries: config.decision_cache_size, now: () => clock.now });
  const next = new FakeNext();
  const s = settings();
  const p = new TailSamplingProcessor(s, config, next, { state, now: () => clock.now, autoTick: false });
  await p.start(HOST);
  const advance = async (ms: number): Promise<void> => {
    clock.now += ms;
    await p.tick();
  };
  return { p, state, next, metrics: s.metrics, advance };
}

describe('tail_sampling recent decisions (one local store, memory state)', () => {
  it("late spans follow the decision held in the state's store; explain answers the full record", async () => {
    const h = await memoryHarness({});
    const id = newTraceId();
    const root = newSpanId();
    await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, spanId: root }])] }), h.advance(100)]);
    expect(h.state.recentDecision(id)).to.deep.include({ decision: 'sampled', policy: 'keep' });
    const late = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: root }])] });
    expect(h.p.stats().traces, 'not buffered as a new trace').to.equal(0);
    await h.advance(100);
    expect(await status(late)).to.equal('resolved');
    expect(h.next.exportedSpans().map((s) => s.attributes?.['sampling.policy'])).to.deep.equal(['keep', 'keep']);
    expect(await metricValue(h.metrics, 'tusk_sampler_late_spans_total')).to.equal(1);
    const answer = await h.p.explainDecision(id.toUpperCase());
    expect(answer).to.deep.include({ traceId: id, decision: 'sampled', policy: 'keep' });
    expect(answer?.reason).to.not.equal('');
    expect(answer).to.not.have.property('explanation');
  });

  it('holds the decision of a logs-only trace for its late logs and spans', async () => {
    const h = await memoryHarness({ decision_wait: '1s' });
    const id = newTraceId();
    const logs = h.p.consumeLogs({ chunks: [logChunk(id)] });
    await h.advance(1100);
    expect(await status(logs)).to.equal('resolved');
    expect(h.state.recentDecision(id), 'held in the one store').to.deep.include({ policy: 'keep' });
    const lateLogs = h.p.consumeLogs({ chunks: [logChunk(id, 2)] });
    const lateSpans = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    expect(h.p.stats().traces, 'nothing buffered anew').to.equal(0);
    await h.advance(100);
    expect([await status(lateLogs), await status(lateSpans)]).to.deep.equal(['resolved', 'resolved']);
    expect(h.next.logBatches).to.have.length(2);
    expect(await metricValue(h.metrics, 'tusk_sampler_late_logs_total')).to.equal(2);
    expect(await metricValue(h.metrics, 'tusk_sampler_late_spans_total')).to.equal(1);
    expect((await h.p.explainDecision(id))?.policy).to.equal('keep');
  });

  it("is bounded by decision_cache_size: an evicted trace's late span starts a new trace", async () => {
    const h = await memoryHarness({ decision_cache_size: 2, decision_wait: '10s' });
    const ids = [newTraceId(), newTraceId(), newTraceId()];
    for (const id of ids) {
      await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] }), h.advance(100)]);
    }
    expect(ids.map((id) => h.state.recentDecision(id)?.policy)).to.deep.equal([undefined, 'keep', 'keep']);
    expect(h.state.stats().dropped, 'one eviction').to.equal(1);
    expect(await h.p.explainDecision(ids[0])).to.equal(undefined);
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: ids[0], parentSpanId: newSpanId() }])] });
    expect(h.p.stats().traces, 'buffered as a new trace').to.equal(1);
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: ids[2], parentSpanId: newSpanId() }])] });
    expect(h.p.stats().traces, 'a held one still follows').to.equal(1);
    expect(await metricValue(h.metrics, 'tusk_sampler_late_spans_total')).to.equal(1);
  });
});
