// Unit tests of MemorySamplingState with an injectable clock: latency window, local rates, error state
// (baseline, degraded, boost decay, minimum volume), decision ledger (first wins, TTL, LRU bound), bounds.

import { expect } from 'chai';
import type { DecisionRecord } from '../../../../pipeline/sdk/component';
import { createSamplingState, MemorySamplingState } from '../../../../processors/tail-sampling/state';
import { rng } from '../../../helpers/random';
import { DISTRIBUTIONS, exactQuantile, FakeClock } from './random';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

function decision(traceId: string, policy: string, decision: DecisionRecord['decision'] = 'sampled'): DecisionRecord {
  return {
    traceId,
    decision,
    policy,
    reason: `decided by ${policy}`,
    inputs: { p95: 1234, boosted: false },
    decidedAt: T0,
  };
}

/** Feeds `perSecond` outcomes per second for `seconds`, `errorRate` of them errors, advancing the clock. */
function feedOutcomes(
  s: MemorySamplingState,
  clock: FakeClock,
  service: string,
  seconds: number,
  perSecond: number,
  errorRate: number,
): void {
  let acc = 0;
  for (let t = 0; t < seconds; t++) {
    for (let i = 0; i < perSecond; i++) {
      acc += errorRate;
      const err = acc >= 1;
      if (err) acc -= 1;
      s.recordTraceOutcome(service, err);
    }
    clock.advance(1000);
  }
}

describe('state/memory MemorySamplingState', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock(T0);
  });

  it('is what createSamplingState("memory") builds, and its lifecycle is idempotent', async () => {
    const s = createSamplingState('memory', { now: clock.now });
    expect(s).to.be.instanceOf(MemorySamplingState);
    await s.shutdown(); // safe without start
    const t = createSamplingState('memory', {});
    await t.start();
    await t.start();
    expect(t.health()).to.include({ ready: true, degraded: false });
    await t.shutdown();
    await t.shutdown();
    expect(t.health().ready).to.equal(false);
  });

  describe('latency quantiles', () => {
    it('answers p50/p95/p99 within the sketch accuracy', () => {
      const s = new MemorySamplingState({ now: clock.now });
      expect(s.latencyQuantiles('cart', 'GET /cart')).to.equal(undefined);
      const u = rng(1);
      const values = Array.from({ length: 20_000 }, () => DISTRIBUTIONS['lognormal(median 20ms, sigma 1)'](u));
      for (const v of values) s.recordLatency('cart', 'GET /cart', v);
      s.recordLatency('cart', 'GET /cart', Number.NaN); // ignored
      s.recordLatency('cart', 'GET /cart', -1); // ignored
      const sorted = [...values].sort((a, b) => a - b);
      const q = s.latencyQuantiles('cart', 'GET /cart')!;
      expect(q.count).to.equal(values.length);
      for (const [name, p] of [
        ['p50', 0.5],
        ['p95', 0.95],
        ['p99', 0.99],
      ] as const) {
        const exact = exactQuantile(sorted, p);
        expect(Math.abs(q[name] - exact) / exact, name).to.be.at.most(0.01);
      }
      expect(s.latencyQuantiles('cart', 'POST /cart')).to.equal(undefined);
      expect(s.latencyQuantiles('cart2', 'GET /cart')).to.equal(undefined);
    });

    it('slides: old slices leave the window, new data moves the quantiles', () => {
      const s = new MemorySamplingState({ now: clock.now, windowMs: 60_000, latencySlices: 6 });
      for (let i = 0; i < 1000; i++) s.recordLatency('a', 'op', 1000);
      expect(s.latencyQuantiles('a', 'op')!.p95).to.be.closeTo(1000, 10);
      clock.advance(30_000);
      for (let i = 0; i < 1000; i++) s.recordLatency('a', 'op', 50_000);
      const mixed = s.latencyQuantiles('a', 'op')!;
      expect(mixed.count).to.equal(2000);
      expect(mixed.p95).to.be.closeTo(50_000, 500);
      expect(mixed.p50).to.be.closeTo(1000, 10); // rank 999.5 falls in the first half
      clock.advance(40_000); // the first 1000 values (slice at T0) are now out of the 60 s window
      const later = s.latencyQuantiles('a', 'op')!;
      expect(later.count).to.equal(1000);
      expect(later.p50).to.be.closeTo(50_000, 500);
      clock.advance(60_000);
      expect(s.latencyQuantiles('a', 'op')).to.equal(undefined);
    });
  });

  describe('rates', () => {
    it('measures traces/s over the sliding window', () => {
      const s = new MemorySamplingState({ now: clock.now, rateWindowMs: 10_000 });
      expect(s.clusterRate('k')).to.equal(undefined);
      for (let t = 0; t < 20; t++) {
        for (let i = 0; i < 40; i++) s.recordSeen('k');
        for (let i = 0; i < 5; i++) s.recordSeen('other');
        clock.advance(1000);
      }
      expect(s.clusterRate('k')).to.be.closeTo(40, 4);
      expect(s.clusterRate('other')).to.be.closeTo(5, 0.5);
    });

    it('does not under-count right after start (divides by the time covered)', () => {
      const s = new MemorySamplingState({ now: clock.now, rateWindowMs: 10_000 });
      for (let t = 0; t < 3; t++) {
        for (let i = 0; i < 50; i++) s.recordSeen('k');
        clock.advance(1000);
      }
      expect(s.clusterRate('k')).to.be.closeTo(50, 5);
    });

    it('falls to 0 when a key goes idle', () => {
      const s = new MemorySamplingState({ now: clock.now, rateWindowMs: 5000 });
      for (let i = 0; i < 100; i++) s.recordSeen('k');
      clock.advance(6000);
      expect(s.clusterRate('k')).to.equal(0);
    });
  });

  describe('error state', () => {
    const opts = (extra = {}) => ({
      errorBucketMs: 10_000,
      errorWindowMs: 60_000,
      baselineHalfLifeMs: 1_800_000,
      minErrorVolume: 20,
      degradedBoost: 2,
      degradedDecayMs: 60_000,
      ...extra,
    });

    it('is neutral for unknown services and without history', () => {
      const s = new MemorySamplingState({ now: clock.now, ...opts() });
      expect(s.serviceErrorState('nobody')).to.deep.equal({ errorRate: 0, baseline: 0, degraded: false, boost: 1 });
      feedOutcomes(s, clock, 'new', 5, 10, 0.9); // all in the first, still open bucket: no baseline yet
      const st = s.serviceErrorState('new');
      expect(st.errorRate).to.be.closeTo(0.9, 0.03);
      expect(st.degraded).to.equal(false);
    });

    it('goes degraded on a spike, then the boost decays linearly over degradedDecayMs', () => {
      const s = new MemorySamplingState({ now: clock.now, ...opts() });
      feedOutcomes(s, clock, 'pay', 600, 10, 0.02); // 10 min of 2 % errors
      const calm = s.serviceErrorState('pay');
      expect(calm.baseline).to.be.closeTo(0.02, 0.005);
      expect(calm.errorRate).to.be.closeTo(0.02, 0.01);
      expect(calm).to.include({ degraded: false, boost: 1 });

      feedOutcomes(s, clock, 'pay', 60, 10, 0.4); // one minute at 40 %
      const spike = s.serviceErrorState('pay');
      expect(spike.errorRate).to.be.greaterThan(0.3);
      expect(spike.baseline).to.be.lessThan(0.1);
      expect(spike).to.include({ degraded: true, boost: 2 });

      // Recovery: once the recent window no longer holds the spike, the boost decays from 2 to 1 over 60 s.
      feedOutcomes(s, clock, 'pay', 70, 10, 0.02);
      const recovered = s.serviceErrorState('pay');
      expect(recovered.errorRate).to.be.lessThan(0.05);
      expect(recovered.degraded).to.equal(true);
      expect(recovered.boost).to.be.greaterThan(1).and.lessThan(2);
      const b1 = recovered.boost;
      clock.advance(15_000);
      const b2 = s.serviceErrorState('pay').boost;
      expect(b1 - b2).to.be.closeTo(0.25, 0.01); // linear: 15 s of a 60 s decay = 0.25 of the (2 - 1) boost
      clock.advance(60_000);
      const done = s.serviceErrorState('pay');
      expect(done).to.include({ degraded: false, boost: 1 });
    });

    it('uses the configured boost and an immediate drop when degradedDecayMs is 0', () => {
      const s = new MemorySamplingState({ now: clock.now, ...opts({ degradedBoost: 3, degradedDecayMs: 0 }) });
      feedOutcomes(s, clock, 'pay', 300, 10, 0.01);
      feedOutcomes(s, clock, 'pay', 30, 10, 0.5);
      expect(s.serviceErrorState('pay')).to.include({ degraded: true, boost: 3 });
      feedOutcomes(s, clock, 'pay', 70, 10, 0.01);
      expect(s.serviceErrorState('pay')).to.include({ degraded: false, boost: 1 });
    });

    it('needs the absolute margin on a low baseline (max(2x, +0.05))', () => {
      const s = new MemorySamplingState({ now: clock.now, ...opts() });
      feedOutcomes(s, clock, 'low', 600, 10, 0.01);
      feedOutcomes(s, clock, 'low', 60, 10, 0.04); // 4x the baseline, but below baseline + 0.05
      expect(s.serviceErrorState('low').degraded).to.equal(false);
      feedOutcomes(s, clock, 'low', 60, 10, 0.1);
      expect(s.serviceErrorState('low').degraded).to.equal(true);
    });

    it('needs the minimum volume in the recent window', () => {
      const s = new MemorySamplingState({ now: clock.now, ...opts({ minErrorVolume: 100 }) });
      feedOutcomes(s, clock, 'tiny', 600, 1, 0.0);
      // 60 traces in the recent window, all errors: below minErrorVolume=100.
      feedOutcomes(s, clock, 'tiny', 60, 1, 1);
      const st = s.serviceErrorState('tiny');
      expect(st.errorRate).to.be.greaterThan(0.8);
      expect(st.degraded).to.equal(false);
    });

    it('absorbs a lasting shift into the baseline (EWMA half-life)', () => {
      const s = new MemorySamplingState({
        now: clock.now,
        ...opts({ baselineHalfLifeMs: 120_000, degradedDecayMs: 0 }),
      });
      feedOutcomes(s, clock, 'svc', 600, 10, 0.01);
      feedOutcomes(s, clock, 'svc', 30, 10, 0.3);
      expect(s.serviceErrorState('svc').degraded).to.equal(true);
      feedOutcomes(s, clock, 'svc', 900, 10, 0.3); // 15 min = 7.5 half-lives: the new normal
      const st = s.serviceErrorState('svc');
      expect(st.baseline).to.be.closeTo(0.3, 0.02);
      expect(st.degraded).to.equal(false);
    });
  });

  describe('decision ledger', () => {
    it('keeps the first decision and returns it to later writers', async () => {
      const s = new MemorySamplingState({ now: clock.now });
      expect(await s.recordDecisions([decision('t1', 'errors'), decision('t2', 'slow')])).to.have.property('size', 0);
      const earlier = await s.recordDecisions([decision('t1', 'rest', 'not_sampled'), decision('t3', 'rest')]);
      expect([...earlier.keys()]).to.deep.equal(['t1']);
      expect(earlier.get('t1')).to.deep.equal(decision('t1', 'errors'));
      const found = await s.lookupDecisions(['t1', 't2', 't3', 't4']);
      expect(found.get('t1')!.policy).to.equal('errors');
      expect(found.get('t2')!.policy).to.equal('slow');
      expect(found.get('t3')!.policy).to.equal('rest');
      expect(found.has('t4')).to.equal(false);
      expect(s.recentDecision('t1'), 'the same answer without I/O').to.deep.equal(decision('t1', 'errors'));
      expect(s.recentDecision('t4')).to.equal(undefined);
    });

    it('keeps remembered decisions (not recorded) in the same bounded store, the first one held winning', async () => {
      const s = new MemorySamplingState({ now: clock.now, ledgerMaxEntries: 2 });
      s.rememberDecision(decision('logs-only', 'keep'));
      expect(s.recentDecision('logs-only'), 'answered without I/O').to.deep.equal(decision('logs-only', 'keep'));
      await s.recordDecisions([decision('t1', 'errors')]);
      s.rememberDecision(decision('t1', 'other'));
      expect(s.recentDecision('t1')?.policy, 'a decision held already stays').to.equal('errors');
      await s.recordDecisions([decision('t2', 'slow')]);
      expect(s.recentDecision('logs-only'), 'evicted by the bound like any entry').to.equal(undefined);
      expect(s.stats()).to.include({ dropped: 1, undecodable: 0 });
    });

    it('first wins inside one batch too', async () => {
      const s = new MemorySamplingState({ now: clock.now });
      const earlier = await s.recordDecisions([decision('x', 'first'), decision('x', 'second')]);
      expect(earlier.get('x')!.policy).to.equal('first');
      expect((await s.lookupDecisions(['x'])).get('x')!.policy).to.equal('first');
    });

    it('forgets decisions after ledgerTtlMs', async () => {
      const s = new MemorySamplingState({ now: clock.now, ledgerTtlMs: 60_000 });
      await s.recordDecisions([decision('t1', 'a')]);
      clock.advance(59_000);
      expect((await s.lookupDecisions(['t1'])).size).to.equal(1);
      clock.advance(2_000);
      expect((await s.lookupDecisions(['t1'])).size).to.equal(0);
      // Expired: a new decision is accepted as the first one.
      expect((await s.recordDecisions([decision('t1', 'b')])).size).to.equal(0);
    });

    it('is bounded by ledgerMaxEntries (least recently used evicted first)', async () => {
      const s = new MemorySamplingState({ now: clock.now, ledgerMaxEntries: 3 });
      await s.recordDecisions(['a', 'b', 'c'].map((id) => decision(id, 'p')));
      await s.lookupDecisions(['a']); // a is now the most recent
      await s.recordDecisions([decision('d', 'p')]);
      const found = await s.lookupDecisions(['a', 'b', 'c', 'd']);
      expect([...found.keys()].sort()).to.deep.equal(['a', 'c', 'd']);
      expect(s.stats().dropped).to.equal(1);
    });
  });

  describe('bounds', () => {
    it('drops and counts keys beyond maxKeys, and forgets idle keys in housekeeping', () => {
      const s = new MemorySamplingState({ now: clock.now, maxKeys: 2, windowMs: 10_000, latencySlices: 2 });
      s.recordLatency('a', 'x', 1);
      s.recordLatency('b', 'x', 1);
      s.recordLatency('c', 'x', 1);
      expect(s.latencyQuantiles('c', 'x')).to.equal(undefined);
      expect(s.stats().dropped).to.equal(1);
      clock.advance(20_000);
      s.housekeeping();
      s.recordLatency('c', 'x', 5);
      expect(s.latencyQuantiles('c', 'x')!.count).to.equal(1);
    });
  });
});
