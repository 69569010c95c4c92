// Table-driven tests of always_sample.

import { expect } from 'chai';
import { AlwaysSample } from '../../../../processors/tail-sampling/policies/always-sample';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: always_sample', () => {
  const traces = [view([]), view([summary()]), view([summary({ statusCode: 2 }), summary({ parentSpanId: 'aa' })])];
  for (const [i, t] of traces.entries()) {
    it(`samples trace #${i}, with no probability`, () => {
      const d = new AlwaysSample().evaluate(t);
      expect(d.verdict).to.equal('sampled');
      expect(d.probability).to.equal(undefined);
    });
  }
});
