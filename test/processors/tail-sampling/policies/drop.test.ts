// Table-driven tests of the `drop` composite (a veto; its precedence is tested in ../decisions.test.ts).

import { expect } from 'chai';
import type { PolicyConfig } from '../../../../processors/tail-sampling/policies/config';
import { Drop } from '../../../../processors/tail-sampling/policies/drop';
import { buildPolicy } from '../../../../processors/tail-sampling/policies/registry';
import { asyncCtx, ctx, errors, errorTrace, health, okTrace } from './composite-fixtures';

describe('tail_sampling policies: drop', () => {
  const cases: { name: string; cfg: PolicyConfig; trace: typeof okTrace; want: string }[] = [
    { name: 'all match -> dropped', cfg: { type: 'drop', policies: [health] }, trace: errorTrace, want: 'dropped' },
    {
      name: 'no match -> not_sampled (no veto)',
      cfg: { type: 'drop', policies: [health] },
      trace: okTrace,
      want: 'not_sampled',
    },
    {
      name: 'needs every sub-policy',
      cfg: { type: 'drop', policies: [health, { type: 'never' }] },
      trace: errorTrace,
      want: 'not_sampled',
    },
    {
      name: 'two matching sub-policies',
      cfg: { type: 'drop', policies: [health, errors] },
      trace: errorTrace,
      want: 'dropped',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await buildPolicy(c.cfg, 'p', ctx).evaluate(c.trace);
      expect(d.verdict, d.reason).to.equal(c.want);
    });
  }

  it('accepts asynchronous sub-policies', async () => {
    expect((await new Drop({ type: 'drop', policies: [errors] }, 'd', asyncCtx).evaluate(okTrace)).verdict).to.equal(
      'dropped',
    );
  });
});
