// Table-driven tests of never_sample (alias never).

import { expect } from 'chai';
import { NeverSample } from '../../../../processors/tail-sampling/policies/never-sample';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: never_sample', () => {
  const traces = [view([]), view([summary()]), view([summary({ statusCode: 2 }), summary({ parentSpanId: 'aa' })])];
  for (const [i, t] of traces.entries()) {
    it(`does not sample trace #${i}`, () => {
      expect(new NeverSample().evaluate(t).verdict).to.equal('not_sampled');
    });
  }
});
