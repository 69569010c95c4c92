// Late spans and logs follow their trace's decision: from the state's local store of recent decisions, or
// from the ledger when another replica / an earlier run decided (replay). Logs with a trace id are held
// with the trace.

import { expect } from 'chai';
import type { DecisionRecord } from '../../../pipeline/sdk/component';
import type { LogChunk } from '../../../pipeline/sdk/trace-batch';
import { FINGERPRINT_POLICY, type LedgerRecord } from '../../../processors/tail-sampling/state/types';
import { chunkOf, metricValue, newSpanId, newTraceId } from './helpers/fixtures';
import { harness, status } from './helpers/harness';

function logChunk(traceId: string, n = 1): LogChunk {
  return { traceId, data: new Uint8Array([0x0a, 0x00, n]), recordCount: n };
}

describe('tail_sampling late spans and logs', () => {
  it('a late span of a kept trace is exported with the same policy attribute', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'keep', type: 'always_sample' }] });
    const id = newTraceId();
    await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] }), h.advance(100)]);
    const late = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    const late2 = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    expect(await status(late)).to.equal('pending'); // sent with the next tick's batch
    await h.advance(100);
    expect(await status(late)).to.equal('resolved');
    expect(await status(late2)).to.equal('resolved');
    expect(h.next.calls).to.equal(2);
    expect(h.next.exportedTraceIds()).to.deep.equal([id, id, id]);
    expect(h.next.exportedSpans().map((s) => s.attributes?.['sampling.policy'])).to.deep.equal([
      'keep',
      'keep',
      'keep',
    ]);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_late_spans_total')).to.equal(2);
  });

  it('a late span of a dropped trace is dropped and resolves', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'none', type: 'never' }] });
    const id = newTraceId();
    await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] }), h.advance(100)]);
    expect(
      await status(h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] })),
    ).to.equal('resolved');
    expect(h.next.calls).to.equal(0);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_late_spans_total')).to.equal(1);
  });

  it('spans of a trace decided elsewhere follow the ledger at the next tick, without waiting', async () => {
    const ledger = new Map<string, DecisionRecord>();
    const id = newTraceId();
    ledger.set(id, {
      traceId: id,
      decision: 'sampled',
      policy: 'errors',
      reason: 'other replica',
      inputs: {},
      decidedAt: 1,
    });
    const h = await harness({ decision_wait: '30s', policies: [{ name: 'none', type: 'never' }] }, { ledger });
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    await h.advance(100);
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.exportedSpans().map((s) => s.attributes?.['sampling.policy'])).to.deep.equal(['errors']);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_late_spans_total')).to.equal(1);
    expect(h.state.calls.recordLatency).to.equal(0); // the first decider counted it
  });

  it('an earlier decision returned by recordDecisions wins over ours (first decision wins)', async () => {
    const h = await harness({ root_settle_delay: '1s', policies: [{ name: 'keep', type: 'always_sample' }] });
    const id = newTraceId();
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
    // Another replica records its decision before ours. The first chunk held the root: no lookup, the write answers.
    await h.p.tick();
    expect(h.state.calls.lookupDecisions).to.equal(0);
    h.state.ledger.set(id, {
      traceId: id,
      decision: 'not_sampled',
      policy: 'other',
      reason: 'raced',
      inputs: {},
      decidedAt: 1,
    });
    await h.advance(1000);
    expect(h.state.calls.recordDecisions).to.equal(1);
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.calls).to.equal(0);
    expect((await h.p.explainDecision(id))?.policy).to.equal('other');
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_ledger_conflicts_total')).to.equal(1);
  });

  it('asks the ledger early only for a trace whose first chunk has no root', async () => {
    const h = await harness({ root_settle_delay: '1s', decision_wait: '5s' });
    const [rooted, partial] = [newTraceId(), newTraceId()];
    void h.p.consumeTraces({
      chunks: [chunkOf([{ traceId: rooted }]), chunkOf([{ traceId: partial, parentSpanId: newSpanId() }])],
    });
    await h.p.tick();
    expect(h.state.calls.lookupDecisions).to.equal(1);
    expect(h.state.lookedUp, 'the partial trace only').to.deep.equal([partial]);
  });

  it('a fingerprint "dropped" answer of the write is re-checked: must-keep policies override it', async () => {
    // Traces nobody asked the ledger about (their first chunk held the root) get the fingerprint from the write.
    const fingerprint = (traceId: string): LedgerRecord => ({
      traceId,
      decision: 'not_sampled',
      policy: FINGERPRINT_POLICY,
      reason: '',
      inputs: {},
      decidedAt: 1,
      fingerprintOnly: { windowMs: 900_000 },
    });
    const [withError, plain] = [newTraceId(), newTraceId()];
    const ledger = new Map([withError, plain].map((id) => [id, fingerprint(id)]));
    const policies = [
      { name: 'errors', type: 'status_code', codes: ['ERROR'] },
      { name: 'all', type: 'always_sample' },
    ];
    const h = await harness({ root_settle_delay: 0, policies }, { ledger });
    const settled = h.p.consumeTraces({
      chunks: [chunkOf([{ traceId: withError, status: 'ERROR' }]), chunkOf([{ traceId: plain }])],
    });
    await h.advance(100);
    expect(await status(settled)).to.equal('resolved');
    expect(h.state.calls.lookupDecisions).to.equal(0);
    // The first write answers with both fingerprints; the error trace is written again, overriding its fingerprint.
    expect(h.state.overridings.map((o) => (o === undefined ? undefined : [...o]))).to.deep.equal([
      undefined,
      [withError],
    ]);
    expect(h.next.exportedTraceIds()).to.deep.equal([withError]);
    expect((await h.p.explainDecision(withError))?.policy).to.equal('errors');
    expect((await h.p.explainDecision(plain))?.policy).to.equal(FINGERPRINT_POLICY);
    const follows = (result: string): Promise<number | undefined> =>
      metricValue(h.settings.metrics, 'tusk_sampler_ledger_fingerprint_follows_total', { result });
    expect(await follows('overridden')).to.equal(1);
    expect(await follows('followed')).to.equal(1);
  });

  it('keeps deciding locally when the ledger fails, and says so in metrics', async () => {
    const h = await harness({ decision_wait: '100ms' });
    h.state.failRecord = true;
    h.state.failLookup = true;
    // No root: looked up at the first tick (fails), decided at decision_wait (the write fails).
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId(), parentSpanId: newSpanId() }])] });
    await h.advance(100);
    await h.advance(100);
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.calls).to.equal(1);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_state_errors_total', { op: 'record_decisions' }),
    ).to.equal(1);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_state_errors_total', { op: 'lookup_decisions' }),
    ).to.equal(1);
  });

  it("a late span follows the decision from the state's local ledger, without a lookup", async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'keep', type: 'always_sample' }] });
    const id = newTraceId();
    await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] }), h.advance(100)]);
    expect(h.state.local.get(id)?.policy, 'the state holds the decision').to.equal('keep');
    const lookups = h.state.calls.lookupDecisions;
    const late = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    await h.advance(100);
    expect(await status(late)).to.equal('resolved');
    expect(h.state.calls.lookupDecisions, 'no ledger lookup for the late span').to.equal(lookups);
    expect(h.next.exportedSpans().map((s) => s.attributes?.['sampling.policy'])).to.deep.equal(['keep', 'keep']);
  });

  it('when the ledger call failed, late spans follow the local decision the processor kept', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'keep', type: 'always_sample' }] });
    h.state.failRecord = true;
    const id = newTraceId();
    await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] }), h.advance(100)]);
    expect(h.state.ledger.has(id), 'the ledger holds nothing').to.equal(false);
    expect(h.state.remembered.get(id)?.policy, "the decision was handed to the state's local store").to.equal('keep');
    const asked = h.state.calls.recentDecision;
    const late = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    await h.advance(100);
    expect(await status(late)).to.equal('resolved');
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_late_spans_total')).to.equal(1);
    expect(h.next.exportedSpans().map((s) => s.attributes?.['sampling.policy'])).to.deep.equal(['keep', 'keep']);
    expect(h.state.calls.recentDecision, "the late span asked the state's local store").to.be.greaterThan(asked);
    expect((await h.p.explainDecision(id))?.policy).to.equal('keep');
  });

  it('late logs of a logs-only trace follow its local decision (never written to the ledger)', async () => {
    const h = await harness({ decision_wait: '1s', policies: [{ name: 'keep', type: 'always_sample' }] });
    const id = newTraceId();
    const logs = h.p.consumeLogs({ chunks: [logChunk(id)] });
    await h.advance(1100);
    expect(await status(logs)).to.equal('resolved');
    expect(h.state.ledger.has(id)).to.equal(false);
    expect(h.state.calls.recordDecisions, 'logs alone never write the ledger').to.equal(0);
    expect(h.state.remembered.get(id)?.policy, "held in the state's local store").to.equal('keep');
    const late = h.p.consumeLogs({ chunks: [logChunk(id, 2)] });
    await h.advance(100);
    expect(await status(late)).to.equal('resolved');
    expect(h.next.logBatches).to.have.length(2);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_late_logs_total')).to.equal(2);
  });

  it('logs with a trace id are held with the trace and kept with it', async () => {
    const h = await harness({ root_settle_delay: 0 });
    const id = newTraceId();
    const logs = h.p.consumeLogs({ chunks: [logChunk(id, 2)] });
    const spans = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
    expect(await status(logs)).to.equal('pending');
    await h.advance(100);
    expect(await status(logs)).to.equal('resolved');
    expect(await status(spans)).to.equal('resolved');
    expect(h.next.logBatches.flatMap((b) => b.chunks.map((c) => c.traceId))).to.deep.equal([id]);
  });

  it('logs of a dropped trace are dropped with it; late logs follow the decision', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'none', type: 'never' }] });
    const id = newTraceId();
    const logs = h.p.consumeLogs({ chunks: [logChunk(id)] });
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
    await h.advance(100);
    expect(await status(logs)).to.equal('resolved');
    expect(await status(h.p.consumeLogs({ chunks: [logChunk(id, 3)] }))).to.equal('resolved');
    expect(h.next.logBatches).to.have.length(0);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_late_logs_total')).to.equal(3);
  });

  it('late logs of a kept trace are sent on', async () => {
    const h = await harness({ root_settle_delay: 0 });
    const id = newTraceId();
    await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] }), h.advance(100)]);
    const late = h.p.consumeLogs({ chunks: [logChunk(id)] });
    await h.advance(100);
    expect(await status(late)).to.equal('resolved');
    expect(h.next.logBatches).to.have.length(1);
  });

  it('logs without a trace id pass straight through', async () => {
    const h = await harness();
    await h.p.consumeLogs({ chunks: [logChunk(''), logChunk('')] });
    expect(h.next.logBatches).to.have.length(1);
    expect(h.next.logBatches[0].chunks).to.have.length(2);
  });

  it('logs whose spans never arrive here follow the ledger at decision_wait', async () => {
    const h = await harness({ decision_wait: '10s', policies: [{ name: 'none', type: 'never' }] });
    const id = newTraceId();
    const logs = h.p.consumeLogs({ chunks: [logChunk(id)] });
    await h.advance(100);
    h.state.ledger.set(id, {
      traceId: id,
      decision: 'sampled',
      policy: 'slow',
      reason: 'other owner',
      inputs: {},
      decidedAt: 1,
    });
    expect(await status(logs)).to.equal('pending');
    await h.advance(10_000);
    expect(await status(logs)).to.equal('resolved');
    expect(h.next.logBatches).to.have.length(1);
    expect(h.state.ledger.get(id)?.policy).to.equal('slow'); // logs alone never write the ledger
  });
});
