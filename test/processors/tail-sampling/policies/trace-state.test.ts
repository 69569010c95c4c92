// Table-driven tests of the trace_state policy and its tracestate parser.

import { expect } from 'chai';
import { parseTraceStateValue, TraceState } from '../../../../processors/tail-sampling/policies/trace-state';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: trace_state', () => {
  const cases = [
    { states: ['vendor=a,ot=th:8'], key: 'vendor', values: ['a'], want: 'sampled' },
    { states: ['', 'x=1, vendor = b '], key: 'vendor', values: ['a', 'b'], want: 'sampled' },
    { states: ['vendor=c'], key: 'vendor', values: ['a'], want: 'not_sampled' },
    { states: ['other=a'], key: 'vendor', values: ['a'], want: 'not_sampled' },
    { states: [''], key: 'vendor', values: ['a'], want: 'not_sampled' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.states)} ${c.key} in ${c.values} -> ${c.want}`, () => {
      const p = new TraceState({ type: 'trace_state', key: c.key, values: c.values });
      expect(p.evaluate(view(c.states.map((s) => summary({ traceState: s })))).verdict).to.equal(c.want);
    });
  }

  it('parseTraceStateValue reads list members', () => {
    expect(parseTraceStateValue('a=1,b=2', 'b')).to.equal('2');
    expect(parseTraceStateValue('a=1,b=2', 'c')).to.equal(undefined);
    expect(parseTraceStateValue('junk,a=1', 'a')).to.equal('1');
  });
});
