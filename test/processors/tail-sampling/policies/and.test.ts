// Table-driven tests of the `and` composite.

import { expect } from 'chai';
import { And } from '../../../../processors/tail-sampling/policies/and';
import type { PolicyConfig } from '../../../../processors/tail-sampling/policies/config';
import { buildPolicy } from '../../../../processors/tail-sampling/policies/registry';
import { asyncCtx, ctx, errors, errorTrace, health, okTrace } from './composite-fixtures';

describe('tail_sampling policies: and', () => {
  const cases: { name: string; cfg: PolicyConfig; trace: typeof okTrace; want: string }[] = [
    { name: 'all match', cfg: { type: 'and', policies: [errors, health] }, trace: errorTrace, want: 'sampled' },
    { name: 'one fails', cfg: { type: 'and', policies: [errors, health] }, trace: okTrace, want: 'not_sampled' },
    {
      name: 'and of not',
      cfg: { type: 'and', policies: [{ type: 'not', policy: health }, { type: 'always_sample' }] },
      trace: okTrace,
      want: 'sampled',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await buildPolicy(c.cfg, 'p', ctx).evaluate(c.trace);
      expect(d.verdict, d.reason).to.equal(c.want);
    });
  }

  it('carries the smallest probability of its sub-policies', async () => {
    const cfg: PolicyConfig = {
      type: 'and',
      policies: [
        { type: 'probabilistic', rate: 1, hash_salt: '' },
        { type: 'probabilistic', rate: 0.9999, hash_salt: '' },
        errors,
      ],
    };
    expect(errorTrace.hash).to.be.below(0.9999);
    const d = await buildPolicy(cfg, 'p', ctx).evaluate(errorTrace);
    expect(d.verdict).to.equal('sampled');
    expect(d.probability).to.equal(0.9999);
  });

  it('stops at the first sub-policy that does not sample (a rate limiter after it keeps its tokens)', async () => {
    const cfg: PolicyConfig = { type: 'and', policies: [errors, { type: 'rate_limiting', traces_per_second: 1 }] };
    const p = buildPolicy(cfg, 'p', ctx);
    for (let i = 0; i < 5; i++) expect((await p.evaluate(okTrace)).verdict).to.equal('not_sampled');
    expect((await p.evaluate(errorTrace)).verdict).to.equal('sampled');
    expect((await p.evaluate(errorTrace)).verdict).to.equal('not_sampled');
  });

  it('is synchronous for synchronous sub-policies and accepts asynchronous ones', async () => {
    expect(buildPolicy({ type: 'and', policies: [errors] }, 'p', ctx).evaluate(okTrace)).to.not.be.instanceOf(Promise);
    const d = new And({ type: 'and', policies: [errors, errors] }, 'a', asyncCtx).evaluate(okTrace);
    expect(d).to.be.instanceOf(Promise);
    expect((await d).verdict).to.equal('sampled');
  });
});
