// Table-driven tests of the rate_limiting policy (local token bucket, fake clock).

import { expect } from 'chai';
import { RateLimiting } from '../../../../processors/tail-sampling/policies/rate-limiting';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: rate_limiting', () => {
  const cases = [
    { name: '3 traces/s: 3 of 5 pass in the same instant', cfg: { traces_per_second: 3 }, spans: 1, n: 5, want: 3 },
    { name: '10 spans/s with 4-span traces: 2 pass', cfg: { spans_per_second: 10 }, spans: 4, n: 5, want: 2 },
    { name: 'limit 0 lets nothing through', cfg: { traces_per_second: 0 }, spans: 1, n: 3, want: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const now = 1_000_000;
      const p = new RateLimiting({ type: 'rate_limiting', ...c.cfg }, () => now);
      const t = view(Array.from({ length: c.spans }, () => summary()));
      const passed = Array.from({ length: c.n }, () => p.evaluate(t)).filter((d) => d.verdict === 'sampled').length;
      expect(passed).to.equal(c.want);
    });
  }

  it('refills with time', () => {
    let now = 0;
    const p = new RateLimiting({ type: 'rate_limiting', traces_per_second: 2 }, () => now);
    const t = view([summary()]);
    expect([p.evaluate(t), p.evaluate(t), p.evaluate(t)].map((d) => d.verdict)).to.deep.equal([
      'sampled',
      'sampled',
      'not_sampled',
    ]);
    now += 500;
    expect(p.evaluate(t).verdict).to.equal('sampled');
    expect(p.evaluate(t).verdict).to.equal('not_sampled');
  });
});
