// Tests of the composite policy: the first sampling sub-policy decides, within its spans-per-second budget
// (rate_allocation of max_total_spans_per_second), counters restarting every second; the Collector's rules.

import { expect } from 'chai';
import { allocations, Composite } from '../../../../processors/tail-sampling/policies/composite';
import type { CompositeConfig } from '../../../../processors/tail-sampling/policies/config';
import { buildPolicy } from '../../../../processors/tail-sampling/policies/registry';
import type { PolicyContext } from '../../../../processors/tail-sampling/policies/types';
import { FakeSamplingState } from '../helpers/fake-state';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: composite', () => {
  let now = 0;
  const base = { state: new FakeSamplingState(), now: () => now };
  const ctx: PolicyContext = { ...base, build: (c, n) => buildPolicy(c, n, base) };
  const cfg: CompositeConfig = {
    type: 'composite',
    max_total_spans_per_second: 10,
    policies: [
      { name: 'errors', type: 'status_code', codes: ['ERROR'] },
      { name: 'all', type: 'always_sample' },
      { name: 'unallocated', type: 'always_sample' },
    ],
    rate_allocation: [
      { policy: 'errors', percent: 50 },
      { policy: 'all', percent: 30 },
    ],
  };
  const err = (spans: number) => view(Array.from({ length: spans }, () => summary({ statusCode: 2 })));
  const ok = (spans: number) => view(Array.from({ length: spans }, () => summary({ statusCode: 1 })));

  it('allocates percent x max (truncated), an equal share for percent 0, and 0 without an entry', () => {
    const a = allocations(
      {
        ...cfg,
        rate_allocation: [
          { policy: 'errors', percent: 33 },
          { policy: 'all', percent: 0 },
        ],
      },
      ['errors', 'all', 'unallocated'],
    );
    expect([...a.entries()]).to.deep.equal([
      ['errors', 3],
      ['all', 3],
      ['unallocated', 0],
    ]);
  });

  it('spends the deciding sub-policy budget, refuses over it without asking later ones, and resets each second', () => {
    now = 5_000;
    const p = new Composite(cfg, 'c', ctx);
    const verdicts = () => [
      p.evaluate(err(3)),
      p.evaluate(err(2)),
      p.evaluate(err(1)),
      p.evaluate(ok(3)),
      p.evaluate(ok(1)),
    ];
    const first = verdicts().map((d) => ('verdict' in d ? d.verdict : 'promise'));
    // errors: 3 + 2 = 5 of 5, then 1 more is refused (even though "all" would sample); all: 3 of 3, then refused.
    expect(first).to.deep.equal(['sampled', 'sampled', 'not_sampled', 'sampled', 'not_sampled']);
    now = 6_000;
    expect((p.evaluate(err(5)) as { verdict: string }).verdict).to.equal('sampled');
  });

  it('follows policy_order and names the deciding sub-policy in the inputs', () => {
    now = 9_000;
    const p = new Composite({ ...cfg, policy_order: ['all', 'errors', 'unallocated'] }, 'c', ctx);
    const d = p.evaluate(err(1)) as { verdict: string; inputs: Record<string, unknown> };
    expect(d.verdict).to.equal('sampled');
    expect(d.inputs.composite_policy).to.equal('all');
  });

  it('never samples with a sub-policy that has no allocation', () => {
    const p = new Composite(
      { ...cfg, policies: [{ name: 'unallocated', type: 'always_sample' }], rate_allocation: [] },
      'c',
      ctx,
    );
    expect((p.evaluate(ok(1)) as { verdict: string }).verdict).to.equal('not_sampled');
  });
});
