// Table-driven tests of the span_count policy.

import { expect } from 'chai';
import { SpanCount } from '../../../../processors/tail-sampling/policies/span-count';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: span_count', () => {
  const cases = [
    { min: 2, max: undefined, spans: 1, want: 'not_sampled' },
    { min: 2, max: undefined, spans: 2, want: 'sampled' },
    { min: 2, max: 3, spans: 3, want: 'sampled' },
    { min: 2, max: 3, spans: 4, want: 'not_sampled' },
    { min: 1, max: 1, spans: 1, want: 'sampled' },
  ];
  for (const c of cases) {
    it(`[${c.min}, ${c.max ?? '∞'}] with ${c.spans} spans -> ${c.want}`, () => {
      const p = new SpanCount({ type: 'span_count', min_spans: c.min, max_spans: c.max });
      expect(p.evaluate(view(Array.from({ length: c.spans }, () => summary()))).verdict).to.equal(c.want);
    });
  }
});
