// Table-driven tests of string_attribute (scope any/root, invert_match, regex).

import { expect } from 'chai';
import type { PolicyEvaluator } from '../../../../processors/tail-sampling/policies/types';
import { summary, view } from '../helpers/fixtures';
import { StringAttribute } from '../../../../processors/tail-sampling/policies/string-attribute';

describe('tail_sampling policies: string_attribute', () => {
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
      name: 'string exact, any span',
      policy: new StringAttribute({ ...base, type: 'string_attribute', key: 'tier', values: ['gold'], regex: false }),
      want: 'sampled',
    },
    {
      name: 'string exact, root only',
      policy: new StringAttribute({
        ...base,
        scope: 'root',
        type: 'string_attribute',
        key: 'tier',
        values: ['gold'],
        regex: false,
      }),
      want: 'not_sampled',
    },
    {
      name: 'string exact miss',
      policy: new StringAttribute({ ...base, type: 'string_attribute', key: 'tier', values: ['silver'], regex: false }),
      want: 'not_sampled',
    },
    {
      name: 'string regex',
      policy: new StringAttribute({
        ...base,
        type: 'string_attribute',
        key: 'http.route',
        values: ['^/api/orders/\\d+$'],
        regex: true,
      }),
      want: 'sampled',
    },
    {
      name: 'string regex not applied without regex',
      policy: new StringAttribute({
        ...base,
        type: 'string_attribute',
        key: 'http.route',
        values: ['^/api/.*'],
        regex: false,
      }),
      want: 'not_sampled',
    },
    {
      name: 'string invert: some span matches',
      policy: new StringAttribute({
        ...base,
        invert_match: true,
        type: 'string_attribute',
        key: 'http.route',
        values: ['/health'],
        regex: false,
      }),
      want: 'not_sampled',
    },
    {
      name: 'string invert: no span matches',
      policy: new StringAttribute({
        ...base,
        invert_match: true,
        type: 'string_attribute',
        key: 'http.route',
        values: ['/metrics'],
        regex: false,
      }),
      want: 'sampled',
    },
    {
      name: 'string does not match a number',
      policy: new StringAttribute({
        ...base,
        type: 'string_attribute',
        key: 'http.status_code',
        values: ['503'],
        regex: false,
      }),
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
