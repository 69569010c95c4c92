// Table-driven tests of boolean_attribute (scope any/root, invert_match).

import { expect } from 'chai';
import type { PolicyEvaluator } from '../../../../processors/tail-sampling/policies/types';
import { summary, view } from '../helpers/fixtures';
import { BooleanAttribute } from '../../../../processors/tail-sampling/policies/boolean-attribute';

describe('tail_sampling policies: boolean_attribute', () => {
  const t = view([
    summary({ attributes: { 'http.route': '/health', 'http.status_code': 200, retry: false } }),
    summary({
      parentSpanId: 'ab',
      attributes: { 'http.route': '/api/orders/42', 'http.status_code': 503, 'db.cached': true, tier: 'gold' },
    }),
  ]);
  const base = { scope: 'any' as const, invert_match: false };
  const cases: { name: string; policy: PolicyEvaluator; want: string }[] = [
    {
      name: 'boolean true',
      policy: new BooleanAttribute({ ...base, type: 'boolean_attribute', key: 'db.cached', value: true }),
      want: 'sampled',
    },
    {
      name: 'boolean false on root',
      policy: new BooleanAttribute({ ...base, scope: 'root', type: 'boolean_attribute', key: 'retry', value: false }),
      want: 'sampled',
    },
    {
      name: 'boolean mismatch',
      policy: new BooleanAttribute({ ...base, type: 'boolean_attribute', key: 'retry', value: true }),
      want: 'not_sampled',
    },
    {
      name: 'boolean invert',
      policy: new BooleanAttribute({
        ...base,
        invert_match: true,
        type: 'boolean_attribute',
        key: 'retry',
        value: true,
      }),
      want: 'sampled',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await c.policy.evaluate(t);
      expect(d.verdict, d.reason).to.equal(c.want);
    });
  }
});
