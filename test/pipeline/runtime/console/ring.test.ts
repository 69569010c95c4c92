// The console's metrics ring: samples only the pipeline's own series, computes rates (reset-safe), gauge and
// rate series, histogram quantiles from bucket increases, and forgets samples older than its window.

import { expect } from 'chai';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricsRing } from '../../../../pipeline/runtime/console/ring';

describe('pipeline/runtime/console: metrics ring', () => {
  let now = 0;
  let registry: Registry;
  let decisions: Counter<'decision'>;
  let buffered: Gauge;
  let lag: Histogram;
  let ring: MetricsRing;

  beforeEach(() => {
    now = 1_000_000;
    registry = new Registry();
    decisions = new Counter({
      name: 'tusk_test_decisions_total',
      help: 'h',
      labelNames: ['decision'],
      registers: [registry],
    });
    buffered = new Gauge({ name: 'tusk_test_buffered', help: 'h', registers: [registry] });
    lag = new Histogram({ name: 'tusk_test_lag_seconds', help: 'h', buckets: [1, 2, 4], registers: [registry] });
    new Counter({ name: 'tusk_process_cpu_seconds_total', help: 'h', registers: [registry] }).inc(5);
    new Counter({ name: 'http_requests_total', help: 'h', registers: [registry] }).inc(5);
    ring = new MetricsRing(registry, { intervalMs: 1000, windowMs: 10_000, now: () => now });
  });

  it('turns counter increases into per-second rates, per label and in total', async () => {
    await ring.sample();
    expect(ring.rate('tusk_test_decisions_total')).to.equal(0);
    decisions.inc({ decision: 'kept' }, 10);
    decisions.inc({ decision: 'dropped' }, 30);
    now += 2000;
    await ring.sample();
    expect(ring.rate('tusk_test_decisions_total', (l) => l.decision === 'kept')).to.equal(5);
    expect(ring.rate('tusk_test_decisions_total')).to.equal(20);
    expect(ring.rateSeries('tusk_test_decisions_total')).to.deep.equal([{ t: now, v: 20 }]);
    expect(ring.has('tusk_test_decisions_total')).to.equal(true);
    expect(ring.has('tusk_process_cpu_seconds_total'), 'process metrics are not sampled').to.equal(false);
    expect(ring.has('http_requests_total'), 'span metrics are not sampled').to.equal(false);
  });

  it('counts a counter that went down (a restart) as what it has now', async () => {
    decisions.inc({ decision: 'kept' }, 100);
    await ring.sample();
    decisions.reset();
    decisions.inc({ decision: 'kept' }, 4);
    now += 1000;
    await ring.sample();
    expect(ring.rate('tusk_test_decisions_total')).to.equal(4);
  });

  it('reports gauges now and over time, and forgets samples past the window', async () => {
    for (let i = 0; i < 15; i++) {
      buffered.set(i);
      await ring.sample();
      now += 1000;
    }
    expect(ring.latest('tusk_test_buffered')).to.equal(14);
    expect(ring.size).to.equal(11);
    expect(ring.gaugeSeries('tusk_test_buffered').map((p) => p.v)).to.deep.equal([
      4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
  });

  it('estimates quantiles from histogram bucket increases, undefined when nothing was observed', async () => {
    await ring.sample();
    now += 1000;
    await ring.sample();
    expect(ring.quantile('tusk_test_lag_seconds', 0.5)).to.equal(undefined);
    for (let i = 0; i < 50; i++) lag.observe(0.5);
    for (let i = 0; i < 50; i++) lag.observe(3);
    now += 1000;
    await ring.sample();
    expect(ring.quantile('tusk_test_lag_seconds', 0.25)).to.be.closeTo(0.5, 1e-9);
    expect(ring.quantile('tusk_test_lag_seconds', 0.99)).to.be.within(2, 4);
  });

  it('caps the number of series it keeps', async () => {
    const small = new MetricsRing(registry, { maxSeries: 2, now: () => now });
    decisions.inc({ decision: 'a' });
    decisions.inc({ decision: 'b' });
    buffered.set(1);
    await small.sample();
    expect(small.latestBy('tusk_test_decisions_total').length + small.latestBy('tusk_test_buffered').length).to.equal(
      2,
    );
  });
});
