// Table-driven tests of the and / not / drop composites, built through the registry from configs.

import { expect } from 'chai';
import type { PolicyConfig } from '../../../../processors/tail-sampling/policies/config';
import { buildPolicy } from '../../../../processors/tail-sampling/policies/registry';
import { And } from '../../../../processors/tail-sampling/policies/and';
import { Drop } from '../../../../processors/tail-sampling/policies/drop';
import { Not } from '../../../../processors/tail-sampling/policies/not';
import type { PolicyContext, PolicyEvaluator } from '../../../../processors/tail-sampling/policies/types';
import { FakeSamplingState } from '../helpers/fake-state';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: and / not / drop', () => {
  const ctx = { state: new FakeSamplingState(), now: () => 0 };
  const errorTrace = view([summary({ statusCode: 2, attributes: { 'http.route': '/health' } })]);
  const okTrace = view([summary({ statusCode: 1, attributes: { 'http.route': '/api' } })]);
  const errors: PolicyConfig = { type: 'status_code', codes: ['ERROR'] };
  const health: PolicyConfig = { type: 'string_attribute', key: 'http.route', values: ['/health'], regex: false, scope: 'any', invert_match: false };

  const cases: { name: string; cfg: PolicyConfig; trace: typeof okTrace; want: string }[] = [
    { name: 'and: all match', cfg: { type: 'and', policies: [errors, health] }, trace: errorTrace, want: 'sampled' },
    { name: 'and: one fails', cfg: { type: 'and', policies: [errors, health] }, trace: okTrace, want: 'not_sampled' },
    { name: 'not: inverts sampled', cfg: { type: 'not', policy: errors }, trace: errorTrace, want: 'not_sampled' },
    { name: 'not: inverts not sampled', cfg: { type: 'not', policy: errors }, trace: okTrace, want: 'sampled' },
    { name: 'drop: all match -> dropped', cfg: { type: 'drop', policies: [health] }, trace: errorTrace, want: 'dropped' },
    { name: 'drop: no match -> not_sampled', cfg: { type: 'drop', policies: [health] }, trace: okTrace, want: 'not_sampled' },
    { name: 'and of not', cfg: { type: 'and', policies: [{ type: 'not', policy: health }, { type: 'always_sample' }] }, trace: okTrace, want: 'sampled' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await buildPolicy(c.cfg, 'p', ctx).evaluate(c.trace);
      expect(d.verdict, d.reason).to.equal(c.want);
    });
  }

  it('and carries the smallest probability of its sub-policies', async () => {
    const cfg: PolicyConfig = { type: 'and', policies: [{ type: 'probabilistic', rate: 1, hash_salt: '' }, { type: 'probabilistic', rate: 0.9999, hash_salt: '' }, errors] };
    expect(errorTrace.hash).to.be.below(0.9999);
    const d = await buildPolicy(cfg, 'p', ctx).evaluate(errorTrace);
    expect(d.verdict).to.equal('sampled');
    expect(d.probability).to.equal(0.9999);
  });

  it('and stops at the first sub-policy that does not sample (a rate limiter after it keeps its tokens)', async () => {
    const cfg: PolicyConfig = { type: 'and', policies: [errors, { type: 'rate_limiting', traces_per_second: 1 }] };
    const p = buildPolicy(cfg, 'p', ctx);
    for (let i = 0; i < 5; i++) expect((await p.evaluate(okTrace)).verdict).to.equal('not_sampled');
    expect((await p.evaluate(errorTrace)).verdict).to.equal('sampled');
    expect((await p.evaluate(errorTrace)).verdict).to.equal('not_sampled');
  });

  it('accepts asynchronous sub-policies (and, not, drop)', async () => {
    const asyncYes: PolicyEvaluator = { evaluate: async () => ({ verdict: 'sampled', reason: 'async yes' }) };
    const asyncCtx: PolicyContext = { ...ctx, build: () => asyncYes };
    const and = new And({ type: 'and', policies: [errors, errors] }, 'a', asyncCtx).evaluate(okTrace);
    expect(and).to.be.instanceOf(Promise);
    expect((await and).verdict).to.equal('sampled');
    expect((await new Not({ type: 'not', policy: errors }, 'n', asyncCtx).evaluate(okTrace)).verdict).to.equal('not_sampled');
    expect((await new Drop({ type: 'drop', policies: [errors] }, 'd', asyncCtx).evaluate(okTrace)).verdict).to.equal('dropped');
  });
});
