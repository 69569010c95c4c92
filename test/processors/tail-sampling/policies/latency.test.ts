// Table-driven tests of the latency policy: absolute threshold on the trace duration, relative to the
// live quantile of the root's (service, operation), min_observations, upper bound, both combined.

import { expect } from 'chai';
import type { LatencyConfig } from '../../../../processors/tail-sampling/policies/config';
import { Latency } from '../../../../processors/tail-sampling/policies/latency';
import { FakeSamplingState } from '../helpers/fake-state';
import { summary, view } from '../helpers/fixtures';

function cfg(over: Partial<LatencyConfig>): LatencyConfig {
  return { type: 'latency', factor: 1, min_observations: 100, ...over };
}

describe('tail_sampling policies: latency', () => {
  const state = new FakeSamplingState();
  state.quantiles.set('api:GET /x', { p50: 20_000, p95: 100_000, p99: 300_000, count: 500 });
  state.quantiles.set('api:rare', { p50: 1_000, p95: 2_000, p99: 3_000, count: 5 });

  // A root of `rootMs` plus a child that extends the trace to `traceMs`.
  const trace = (rootMs: number, traceMs = rootMs, name = 'GET /x') =>
    view([
      summary({ service: 'api', name, startMs: 1000, durationMs: rootMs }),
      summary({ parentSpanId: 'ab', startMs: 1000, durationMs: traceMs }),
    ]);

  const cases: { name: string; cfg: LatencyConfig; t: ReturnType<typeof trace>; want: string }[] = [
    {
      name: 'absolute: trace duration over threshold',
      cfg: cfg({ threshold_ms: 50 }),
      t: trace(10, 60),
      want: 'sampled',
    },
    { name: 'absolute: under threshold', cfg: cfg({ threshold_ms: 50 }), t: trace(10, 40), want: 'not_sampled' },
    // With an upper bound, the Collector's rule: threshold < duration <= upper (whole ms).
    {
      name: 'absolute: above upper bound',
      cfg: cfg({ threshold_ms: 50, upper_threshold_ms: 100 }),
      t: trace(10, 101),
      want: 'not_sampled',
    },
    {
      name: 'absolute: at upper bound',
      cfg: cfg({ threshold_ms: 50, upper_threshold_ms: 100 }),
      t: trace(10, 100),
      want: 'sampled',
    },
    {
      name: 'absolute: at threshold with upper',
      cfg: cfg({ threshold_ms: 50, upper_threshold_ms: 100 }),
      t: trace(10, 50),
      want: 'not_sampled',
    },
    {
      name: 'absolute: span by span, a prefix in range samples',
      cfg: cfg({ threshold_ms: 50, upper_threshold_ms: 100 }),
      t: trace(80, 200),
      want: 'sampled',
    },
    {
      name: 'absolute: inside (threshold, upper]',
      cfg: cfg({ threshold_ms: 50, upper_threshold_ms: 100 }),
      t: trace(10, 51),
      want: 'sampled',
    },
    { name: 'relative p95: root slower than P95', cfg: cfg({ above: 'p95' }), t: trace(101), want: 'sampled' },
    { name: 'relative p95: root faster than P95', cfg: cfg({ above: 'p95' }), t: trace(99, 500), want: 'not_sampled' },
    { name: 'relative p99', cfg: cfg({ above: 'p99' }), t: trace(200), want: 'not_sampled' },
    { name: 'relative with factor 2', cfg: cfg({ above: 'p95', factor: 2 }), t: trace(150), want: 'not_sampled' },
    {
      name: 'relative: too few observations',
      cfg: cfg({ above: 'p95' }),
      t: trace(100, 100, 'rare'),
      want: 'not_sampled',
    },
    {
      name: 'relative: too few observations falls back to threshold',
      cfg: cfg({ above: 'p95', threshold_ms: 50 }),
      t: trace(60, 60, 'rare'),
      want: 'sampled',
    },
    {
      name: 'relative: unknown key',
      cfg: cfg({ above: 'p95', min_observations: 0 }),
      t: trace(100, 100, 'unknown'),
      want: 'not_sampled',
    },
    {
      name: 'both: threshold floors the quantile',
      cfg: cfg({ above: 'p50', threshold_ms: 50 }),
      t: trace(30),
      want: 'not_sampled',
    },
    { name: 'both: over both', cfg: cfg({ above: 'p50', threshold_ms: 50 }), t: trace(60), want: 'sampled' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = new Latency(c.cfg, state).evaluate(c.t);
      expect(d.verdict, d.reason).to.equal(c.want);
    });
  }

  it('records the quantile it used in the inputs', () => {
    const d = new Latency(cfg({ above: 'p95' }), state).evaluate(trace(150));
    expect(d.inputs).to.include({ p95_us: 100_000, duration_us: 150_000, observations: 500 });
  });
});
