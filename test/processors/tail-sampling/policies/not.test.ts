// Table-driven tests of the `not` composite.

import { expect } from 'chai';
import type { PolicyConfig } from '../../../../processors/tail-sampling/policies/config';
import { Not } from '../../../../processors/tail-sampling/policies/not';
import { buildPolicy } from '../../../../processors/tail-sampling/policies/registry';
import { asyncCtx, ctx, errors, errorTrace, okTrace } from './composite-fixtures';

describe('tail_sampling policies: not', () => {
  const cases: { name: string; cfg: PolicyConfig; trace: typeof okTrace; want: string }[] = [
    { name: 'inverts sampled', cfg: { type: 'not', policy: errors }, trace: errorTrace, want: 'not_sampled' },
    { name: 'inverts not sampled', cfg: { type: 'not', policy: errors }, trace: okTrace, want: 'sampled' },
    {
      name: 'double negation',
      cfg: { type: 'not', policy: { type: 'not', policy: errors } },
      trace: errorTrace,
      want: 'sampled',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await buildPolicy(c.cfg, 'p', ctx).evaluate(c.trace);
      expect(d.verdict, d.reason).to.equal(c.want);
      expect(d.probability).to.equal(undefined);
    });
  }

  it('accepts an asynchronous sub-policy', async () => {
    expect((await new Not({ type: 'not', policy: errors }, 'n', asyncCtx).evaluate(okTrace)).verdict).to.equal(
      'not_sampled',
    );
  });
});
