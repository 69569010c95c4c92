// The tail sampler's console insights: they observe the decider's batches through its hook (the processor's
// store is not wrapped, so every argument reaches it: the fingerprint overrides included), list the
// (service, operation) keys with live quantiles and each latency policy's threshold, the services' error
// state with the boost's end, throughput targets with the actual kept rate, keep a bounded ring of recent
// decisions, newest first, and hand each batch to the decision stream's listeners.

import { expect } from 'chai';
import type { DecisionSummary } from '../../../pipeline/sdk/insights';
import { MemorySamplingState } from '../../../processors/tail-sampling/state/memory';
import { keptRateKey, MAX_RECENT_DECISIONS, SamplerInsights } from '../../../processors/tail-sampling/insights';
import type { Decided } from '../../../processors/tail-sampling/decider';
import { configSchema, type TailSamplingConfig } from '../../../processors/tail-sampling/config';
import type { LedgerRecord } from '../../../processors/tail-sampling/state/types';
import { FINGERPRINT_POLICY } from '../../../processors/tail-sampling/state/types';
import type { BufferedTrace } from '../../../processors/tail-sampling/trace-buffer';
import { chunkOf, newSpanId, newTraceId } from './helpers/fixtures';
import { harness } from './helpers/harness';

function config(): TailSamplingConfig {
  return configSchema.parse({
    policies: [
      { name: 'errors', type: 'status_code', codes: ['ERROR'] },
      { name: 'slow', type: 'latency', above: 'p95', factor: 2, min_observations: 10 },
      { name: 'floor', type: 'latency', threshold_ms: 500 },
      { name: 'rest', type: 'adaptive', target_traces_per_sec: 5 },
    ],
  });
}

const stats = { traces: 3, spans: 7, bytes: 900, exportingBytes: 0 };

function record(i: number, decision: 'sampled' | 'not_sampled' = 'sampled'): LedgerRecord {
  return {
    traceId: i.toString(16).padStart(32, '0'),
    decision,
    policy: decision === 'sampled' ? 'errors' : '(none)',
    reason: `r${i}`,
    inputs: { service: 'shop', operation: 'GET /cart', root_duration_us: 1000 + i },
    decidedAt: 1_000 + i,
  };
}

/** decided is what the decider hands its hook for one trace (spans: how many the trace held here). */
function decided(r: LedgerRecord, opts: { followed?: boolean; spans?: number; operation?: string } = {}): Decided {
  const operation = opts.operation ?? 'GET /cart';
  const trace = { traceId: r.traceId, spans: { count: opts.spans ?? 1 } } as unknown as BufferedTrace;
  return {
    trace,
    record: r,
    followed: opts.followed ?? false,
    recorded: true,
    view: { key: `shop:${operation}`, service: 'shop', operation, rootDurationUs: 1000, hasError: false },
  };
}

describe('processors/tail-sampling: insights', () => {
  it("the processor's store gets every argument while the console observes (the fingerprint overrides)", async () => {
    // A fingerprint-only "dropped" answer (which can be another trace's) for an error trace: the must-keep policy
    // keeps what arrived, so the decider records it with the override set, and the console still sees it.
    const id = newTraceId();
    const ledger = new Map<string, LedgerRecord>([
      [
        id,
        {
          traceId: id,
          decision: 'not_sampled',
          policy: FINGERPRINT_POLICY,
          reason: '',
          inputs: {},
          decidedAt: 1_699_999_000_000,
          fingerprintOnly: { windowMs: 900_000 },
        },
      ],
    ]);
    const h = await harness(
      { root_settle_delay: 0, policies: [{ name: 'errors', type: 'status_code', codes: ['ERROR'] }] },
      { ledger },
    );
    await Promise.all([
      h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, spanId: newSpanId(), status: 'ERROR' }])] }),
      h.advance(100),
      h.advance(100),
    ]);
    const calls = h.state.overridings.filter((o) => o !== undefined);
    expect(calls, 'the override set reached the store').to.have.length(1);
    expect([...calls[0]!]).to.deep.equal([id]);
    expect(h.p.recentDecisions(10).map((d) => `${d.traceId} ${d.decision} ${d.policy}`)).to.deep.equal([
      `${id} sampled errors`,
    ]);
    await h.p.shutdown();
  });

  it('lists keys with quantiles and per-policy thresholds, services and targets with the kept rate', () => {
    const st = new MemorySamplingState();
    const insights = new SamplerInsights(st, config, () => stats);
    for (let i = 1; i <= 20; i++) st.recordLatency('shop', 'GET /cart', i * 1000);
    st.recordLatency('shop', 'POST /pay', 5000);
    st.recordTraceOutcome('shop', true);
    st.recordSeen('shop:GET /cart');
    st.recordSeen('shop:GET /cart');
    insights.observe([
      decided(record(1)),
      decided(record(2, 'not_sampled')),
      decided(record(3), { operation: 'POST /pay', followed: true }),
    ]);
    const snap = insights.snapshot();
    expect(snap.kind).to.equal('sampling');
    expect(snap.state).to.equal('memory');
    expect(snap.policies.map((p) => p.name)).to.deep.equal(['errors', 'slow', 'floor', 'rest']);
    // A followed decision was not evaluated here: no latency key of its own.
    expect(snap.latency.map((l) => `${l.service} ${l.operation}`)).to.deep.equal(['shop GET /cart']);
    const cart = snap.latency[0];
    const q = st.latencyQuantiles('shop', 'GET /cart')!;
    expect(cart.p95Us).to.equal(q.p95);
    expect(cart.count).to.equal(20);
    expect(cart.thresholds).to.deep.equal([
      { policy: 'slow', thresholdUs: q.p95 * 2 },
      { policy: 'floor', thresholdUs: 500_000 },
    ]);
    expect(snap.services).to.have.length(1);
    expect(snap.services[0]).to.include({ service: 'shop', boostUntil: null, aboveThreshold: false });
    // The kept trace of the target key was counted in the store's rate counts; the followed one (another replica
    // decided it and counted it there) was not.
    expect(st.clusterRate(keptRateKey('shop:GET /cart'))).to.be.greaterThan(0);
    expect(st.clusterRate(keptRateKey('shop:POST /pay'))).to.equal(undefined);
    expect(snap.targets).to.deep.equal([
      {
        policy: 'rest',
        key: 'shop:GET /cart',
        targetPerSec: 5,
        seenPerSec: st.clusterRate('shop:GET /cart'),
        keptPerSec: st.clusterRate(keptRateKey('shop:GET /cart')),
      },
      { policy: 'rest', key: 'shop:POST /pay', targetPerSec: 5, seenPerSec: null, keptPerSec: null },
    ]);
    expect(snap.targets[0].keptPerSec! * 2, 'one of two seen traces kept').to.equal(snap.targets[0].seenPerSec);
    expect(snap.buffer).to.deep.equal(stats);
  });

  it('counts no kept traces without a throughput target', () => {
    const st = new MemorySamplingState();
    const noTarget = () => configSchema.parse({ policies: [{ name: 'all', type: 'always_sample' }] });
    const insights = new SamplerInsights(st, noTarget, () => stats);
    insights.observe([decided(record(1))]);
    expect(st.clusterRate(keptRateKey('shop:GET /cart'))).to.equal(undefined);
    expect(insights.snapshot().targets).to.deep.equal([]);
  });

  it("shows until when a degraded service's boost lasts", () => {
    let now = 1_700_000_000_000;
    const st = new MemorySamplingState({ now: () => now, minErrorVolume: 5, degradedDecayMs: 60_000 });
    const insights = new SamplerInsights(st, config, () => stats);
    insights.observe([decided(record(1))]);
    // A long healthy baseline, then a burst of errors.
    for (let s = 0; s < 120; s++, now += 1000) for (let i = 0; i < 10; i++) st.recordTraceOutcome('shop', false);
    for (let i = 0; i < 50; i++) st.recordTraceOutcome('shop', true);
    const spiking = insights.snapshot().services[0];
    expect(spiking).to.include({ degraded: true, aboveThreshold: true, boostUntil: now + 60_000 });
    // The errors stop: once the recent window no longer holds them, the boost decays and its end stays put.
    let lastAbove = now;
    let decaying = spiking;
    for (let s = 0; s < 300 && decaying.aboveThreshold; s++) {
      lastAbove = now;
      now += 1000;
      for (let i = 0; i < 10; i++) st.recordTraceOutcome('shop', false);
      decaying = insights.snapshot().services[0];
    }
    expect(decaying).to.include({ degraded: true, aboveThreshold: false, boostUntil: lastAbove + 60_000 });
    expect(decaying.boost).to.be.greaterThan(1);
    now += 10_000;
    expect(insights.snapshot().services[0].boostUntil, 'fixed while decaying').to.equal(lastAbove + 60_000);
    now = decaying.boostUntil! + 1;
    expect(insights.snapshot().services[0]).to.include({ degraded: false, boost: 1, boostUntil: null });
  });

  it('keeps the newest decisions in a bounded ring and streams each batch to its listeners', () => {
    const insights = new SamplerInsights(new MemorySamplingState(), config, () => stats);
    const batches: Array<readonly DecisionSummary[]> = [];
    const unsubscribe = insights.subscribe((b) => batches.push(b));
    // A logs-only trace (no span here) is not the ledger's decision: not listed.
    insights.observe([decided(record(1)), decided(record(2, 'not_sampled')), decided(record(9), { spans: 0 })]);
    const recent = insights.recentDecisions(10);
    expect(recent.map((d) => d.traceId)).to.deep.equal([record(2).traceId, record(1).traceId]);
    expect(recent[0]).to.include({
      traceId: record(2).traceId,
      decision: 'not_sampled',
      service: 'shop',
      operation: 'GET /cart',
      rootDurationUs: 1002,
    });
    expect(batches.map((b) => b.map((d) => d.traceId))).to.deep.equal([[record(1).traceId, record(2).traceId]]);
    unsubscribe();
    const many = Array.from({ length: MAX_RECENT_DECISIONS + 50 }, (_, i) => decided(record(100 + i)));
    insights.observe(many);
    expect(batches, 'no listener after unsubscribe').to.have.length(1);
    const all = insights.recentDecisions(5000);
    expect(all).to.have.length(MAX_RECENT_DECISIONS);
    expect(all[0].traceId).to.equal(many[many.length - 1].record.traceId);
    expect(insights.recentDecisions(3)).to.have.length(3);
  });

  it('the decider calls its hook once per decided batch; a failing observer does not stop deciding', async () => {
    const h = await harness({ root_settle_delay: 0 });
    const batches: string[][] = [];
    h.p.subscribeDecisions((b) => batches.push(b.map((d) => d.traceId)));
    const ids = [newTraceId(), newTraceId(), newTraceId()];
    const chunks = ids.map((traceId) => chunkOf([{ traceId, spanId: newSpanId() }]));
    await Promise.all([h.p.consumeTraces({ chunks }), h.advance(100)]);
    expect(batches).to.have.length(1);
    expect([...batches[0]].sort()).to.deep.equal([...ids].sort());
    h.p.subscribeDecisions(() => {
      throw new Error('observer bug');
    });
    const late = newTraceId();
    await Promise.all([h.p.consumeTraces({ chunks: [chunkOf([{ traceId: late }])] }), h.advance(100)]);
    expect(h.next.exportedTraceIds()).to.include(late);
    expect(batches).to.have.length(2);
    await h.p.shutdown();
  });

  it("reports the store's replica id", () => {
    const insights = new SamplerInsights(new MemorySamplingState(), config, () => stats);
    expect(insights.snapshot()).to.not.have.property('replicaId'); // memory: not shared
  });
});
