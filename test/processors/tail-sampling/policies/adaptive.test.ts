// Table-driven tests of the adaptive policy: base rate, x error, x slow, service boost, target mode with floor.

import { expect } from 'chai';
import { Adaptive } from '../../../../processors/tail-sampling/policies/adaptive';
import type { AdaptiveConfig } from '../../../../processors/tail-sampling/policies/config';
import { FakeSamplingState } from '../helpers/fake-state';
import { newTraceId, summary, view } from '../helpers/fixtures';

function cfg(over: Partial<AdaptiveConfig> = {}): AdaptiveConfig {
  return {
    type: 'adaptive',
    base_rate: 0.1,
    error_multiplier: 2,
    slow_multiplier: 1.5,
    slow_quantile: 'p95',
    min_observations: 100,
    min_rate: 0.001,
    use_error_boost: true,
    hash_salt: '',
    ...over,
  };
}

describe('tail_sampling policies: adaptive', () => {
  const state = new FakeSamplingState();
  state.quantiles.set('api:GET', { p50: 10_000, p95: 50_000, p99: 90_000, count: 1000 });
  state.rates.set('api:GET', 400);
  state.rates.set('api:rare', 2);
  state.errorStates.set('degraded', { errorRate: 0.5, baseline: 0.01, degraded: true, boost: 3 });

  const t = (o: { error?: boolean; ms?: number; service?: string; name?: string } = {}) =>
    view([
      summary({
        service: o.service ?? 'api',
        name: o.name ?? 'GET',
        durationMs: o.ms ?? 10,
        statusCode: o.error ? 2 : 0,
      }),
    ]);

  const cases: { name: string; cfg: AdaptiveConfig; trace: ReturnType<typeof t>; p: number }[] = [
    { name: 'base rate', cfg: cfg(), trace: t(), p: 0.1 },
    { name: 'x2 for errors', cfg: cfg(), trace: t({ error: true }), p: 0.2 },
    { name: 'x1.5 for slower than P95', cfg: cfg(), trace: t({ ms: 60 }), p: 0.15 },
    { name: 'errors and slow multiply', cfg: cfg(), trace: t({ ms: 60, error: true }), p: 0.3 },
    { name: 'slow needs min_observations', cfg: cfg({ min_observations: 5000 }), trace: t({ ms: 60 }), p: 0.1 },
    { name: 'slow_quantile p99', cfg: cfg({ slow_quantile: 'p99' }), trace: t({ ms: 60 }), p: 0.1 },
    { name: 'service error-state boost', cfg: cfg(), trace: t({ service: 'degraded' }), p: 0.3 },
    { name: 'boost can be disabled', cfg: cfg({ use_error_boost: false }), trace: t({ service: 'degraded' }), p: 0.1 },
    { name: 'target mode: target / cluster rate', cfg: cfg({ target_traces_per_sec: 20 }), trace: t(), p: 0.05 },
    {
      name: 'target mode: rare key kept in full',
      cfg: cfg({ target_traces_per_sec: 20 }),
      trace: t({ name: 'rare' }),
      p: 1,
    },
    { name: 'target mode: floor', cfg: cfg({ target_traces_per_sec: 0.01, min_rate: 0.01 }), trace: t(), p: 0.01 },
    {
      name: 'target mode: unknown rate falls back to base_rate',
      cfg: cfg({ target_traces_per_sec: 20 }),
      trace: t({ name: 'new' }),
      p: 0.1,
    },
    { name: 'clamped at 1', cfg: cfg({ base_rate: 0.8 }), trace: t({ error: true }), p: 1 },
  ];
  for (const c of cases) {
    it(`${c.name}: p = ${c.p}`, () => {
      const d = new Adaptive(c.cfg, state).evaluate(c.trace);
      expect(d.inputs?.p).to.be.closeTo(c.p, 1e-9);
      expect(d.verdict).to.equal(c.trace.hash < c.p ? 'sampled' : 'not_sampled');
    });
  }

  it('keeps about p of the traces, deterministically', () => {
    const a = new Adaptive(cfg({ base_rate: 0.2 }), state);
    let kept = 0;
    for (let i = 0; i < 3000; i++) {
      const id = newTraceId();
      const tv = view([summary({ traceId: id, service: 'api', name: 'GET' })], id);
      const v = a.evaluate(tv).verdict;
      expect(new Adaptive(cfg({ base_rate: 0.2 }), state).evaluate(tv).verdict).to.equal(v);
      if (v === 'sampled') kept++;
    }
    expect(kept / 3000).to.be.closeTo(0.2, 0.03);
  });

  it('records its inputs (cluster rate, P95, duration)', () => {
    const d = new Adaptive(cfg({ target_traces_per_sec: 20 }), state).evaluate(t({ ms: 60 }));
    expect(d.inputs).to.include({ cluster_rate: 400, p95_us: 50_000, duration_us: 60_000, slow_multiplier: 1.5 });
    expect(d.probability).to.be.closeTo(0.075, 1e-9);
  });
});
