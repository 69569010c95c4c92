// Table-driven tests of numeric_attribute (scope any/root, invert_match).

import { expect } from 'chai';
import type { PolicyEvaluator } from '../../../../processors/tail-sampling/policies/types';
import { summary, view } from '../helpers/fixtures';
import { NumericAttribute } from '../../../../processors/tail-sampling/policies/numeric-attribute';

describe('tail_sampling policies: numeric_attribute', () => {
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
      name: 'numeric in range',
      policy: new NumericAttribute({ ...base, type: 'numeric_attribute', key: 'http.status_code', min: 500, max: 599 }),
      want: 'sampled',
    },
    {
      name: 'numeric root only out of range',
      policy: new NumericAttribute({
        ...base,
        scope: 'root',
        type: 'numeric_attribute',
        key: 'http.status_code',
        min: 500,
        max: 599,
      }),
      want: 'not_sampled',
    },
    {
      name: 'numeric min only (inclusive)',
      policy: new NumericAttribute({ ...base, type: 'numeric_attribute', key: 'http.status_code', min: 503 }),
      want: 'sampled',
    },
    {
      name: 'numeric max only',
      policy: new NumericAttribute({ ...base, type: 'numeric_attribute', key: 'http.status_code', max: 100 }),
      want: 'not_sampled',
    },
    {
      name: 'numeric missing key',
      policy: new NumericAttribute({ ...base, type: 'numeric_attribute', key: 'nope', min: 0 }),
      want: 'not_sampled',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await c.policy.evaluate(t);
      expect(d.verdict, d.reason).to.equal(c.want);
    });
  }
});
