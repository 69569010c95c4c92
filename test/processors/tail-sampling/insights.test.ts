// The tail sampler's console insights: the observed state forwards to the real store unchanged, lists the
// (service, operation) keys with live quantiles and each latency policy's threshold, the services' error
// state, throughput targets, and keeps a bounded ring of recent decisions, newest first.

import { expect } from 'chai';
import { MemorySamplingState } from '../../../processors/tail-sampling/state/memory';
import { MAX_RECENT_DECISIONS, SamplerInsights } from '../../../processors/tail-sampling/insights';
import { configSchema, type TailSamplingConfig } from '../../../processors/tail-sampling/config';
import type { LedgerRecord } from '../../../processors/tail-sampling/state/types';

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

describe('processors/tail-sampling: insights', () => {
  it('forwards every argument to the store it wraps (the fingerprint overrides included)', async () => {
    const seen: Array<ReadonlySet<string> | undefined> = [];
    class Recording extends MemorySamplingState {
      override recordDecisions(records: readonly LedgerRecord[], overriding?: ReadonlySet<string>) {
        seen.push(overriding);
        return super.recordDecisions(records);
      }
    }
    const inner = new Recording();
    const st = new SamplerInsights(inner, config, () => stats).state;
    const overriding = new Set([record(1).traceId]);
    await st.recordDecisions([record(1)], overriding);
    await st.recordDecisions([record(2)]);
    expect(seen).to.deep.equal([overriding, undefined]);
    st.rememberDecision(record(3, 'not_sampled'));
    expect(inner.recentDecision(record(3).traceId)?.policy).to.equal('(none)');
  });

  it('lists keys with quantiles and per-policy thresholds, services and targets', () => {
    const inner = new MemorySamplingState();
    const insights = new SamplerInsights(inner, config, () => stats);
    const st = insights.state;
    for (let i = 1; i <= 20; i++) st.recordLatency('shop', 'GET /cart', i * 1000);
    st.recordLatency('shop', 'POST /pay', 5000);
    st.recordTraceOutcome('shop', true);
    st.recordSeen('shop:GET /cart');
    const snap = insights.snapshot();
    expect(snap.kind).to.equal('sampling');
    expect(snap.state).to.equal('memory');
    expect(snap.policies.map((p) => p.name)).to.deep.equal(['errors', 'slow', 'floor', 'rest']);
    expect(snap.latency.map((l) => `${l.service} ${l.operation}`)).to.deep.equal(['shop GET /cart', 'shop POST /pay']);
    const cart = snap.latency[0];
    const q = inner.latencyQuantiles('shop', 'GET /cart')!;
    expect(cart.p95Us).to.equal(q.p95);
    expect(cart.count).to.equal(20);
    expect(cart.thresholds).to.deep.equal([
      { policy: 'slow', thresholdUs: q.p95 * 2 },
      { policy: 'floor', thresholdUs: 500_000 },
    ]);
    // One observation is below min_observations: the relative rule cannot tell yet.
    expect(snap.latency[1].thresholds[0]).to.deep.equal({ policy: 'slow', thresholdUs: null });
    expect(snap.services).to.have.length(1);
    expect(snap.services[0].service).to.equal('shop');
    expect(snap.targets).to.deep.equal([
      {
        policy: 'rest',
        key: 'shop:GET /cart',
        targetPerSec: 5,
        seenPerSec: inner.clusterRate('shop:GET /cart') ?? null,
      },
    ]);
    expect(snap.buffer).to.deep.equal(stats);
  });

  it('forwards decisions to the store and keeps the newest in a bounded ring', async () => {
    const inner = new MemorySamplingState();
    const insights = new SamplerInsights(inner, config, () => stats);
    const first = await insights.state.recordDecisions([record(1), record(2, 'not_sampled')]);
    expect(first.size).to.equal(0);
    expect(inner.recentDecision(record(1).traceId)?.policy).to.equal('errors');
    // A decision already in the ledger wins, and the ring shows the winner.
    const again = await insights.state.recordDecisions([{ ...record(1), policy: 'other', decidedAt: 5000 }]);
    expect(again.get(record(1).traceId)?.policy).to.equal('errors');
    const recent = insights.recentDecisions(10);
    expect(recent[0]).to.include({
      traceId: record(2).traceId,
      decision: 'not_sampled',
      service: 'shop',
      operation: 'GET /cart',
      rootDurationUs: 1002,
    });
    expect(recent.map((d) => d.policy)).to.not.include('other');
    const many = Array.from({ length: MAX_RECENT_DECISIONS + 50 }, (_, i) => record(100 + i));
    await insights.state.recordDecisions(many);
    const all = insights.recentDecisions(5000);
    expect(all).to.have.length(MAX_RECENT_DECISIONS);
    expect(all[0].traceId).to.equal(many[many.length - 1].traceId);
    expect(insights.recentDecisions(3)).to.have.length(3);
  });

  it("keeps the store's replica id and stats", () => {
    const inner = new MemorySamplingState();
    const st = new SamplerInsights(inner, config, () => stats).state;
    expect(st.replicaId).to.equal(undefined); // memory: not shared
    expect(st.stats?.()).to.deep.equal(inner.stats?.());
    expect(st.health()).to.deep.equal(inner.health());
  });
});
