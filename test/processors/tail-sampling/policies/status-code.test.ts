// Table-driven tests of the status_code policy.

import { expect } from 'chai';
import { StatusCode } from '../../../../processors/tail-sampling/policies/status-code';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: status_code', () => {
  const cases: { codes: ('ERROR' | 'OK' | 'UNSET')[]; statuses: (0 | 1 | 2)[]; want: string }[] = [
    { codes: ['ERROR'], statuses: [0, 0, 2], want: 'sampled' },
    { codes: ['ERROR'], statuses: [0, 1, 1], want: 'not_sampled' },
    { codes: ['OK'], statuses: [0, 1], want: 'sampled' },
    { codes: ['UNSET'], statuses: [1, 2], want: 'not_sampled' },
    { codes: ['ERROR', 'OK'], statuses: [0, 1], want: 'sampled' },
    { codes: ['ERROR'], statuses: [], want: 'not_sampled' },
  ];
  for (const c of cases) {
    it(`codes ${c.codes.join('|')} on statuses [${c.statuses.join(',')}] -> ${c.want}`, () => {
      const p = new StatusCode({ type: 'status_code', codes: c.codes });
      expect(p.evaluate(view(c.statuses.map((s) => summary({ statusCode: s })))).verdict).to.equal(c.want);
    });
  }
});
