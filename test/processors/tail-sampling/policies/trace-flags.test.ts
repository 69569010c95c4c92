// Table-driven tests of the trace_flags policy: sampled when any span has the W3C sampled flag (bit 0).

import { expect } from 'chai';
import { TraceFlags } from '../../../../processors/tail-sampling/policies/trace-flags';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: trace_flags', () => {
  const cases = [
    { name: 'no span flagged', flags: [0, 0], want: 'not_sampled' },
    { name: 'one span sampled', flags: [0, 1], want: 'sampled' },
    { name: 'random flag only (0x02) is not sampled', flags: [2], want: 'not_sampled' },
    { name: 'sampled among other bits (0x103)', flags: [0x103], want: 'sampled' },
    { name: 'flags unknown (no index field)', flags: [undefined], want: 'not_sampled' },
    { name: 'no spans', flags: [], want: 'not_sampled' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const t = view(c.flags.map((flags) => summary({ flags })));
      expect(new TraceFlags().evaluate(t).verdict).to.equal(c.want);
    });
  }
});
