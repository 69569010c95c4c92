// Tests of the bytes_limiting policy: a token bucket of burst_capacity bytes, refilled at bytes_per_second.

import { expect } from 'chai';
import { BytesLimiting } from '../../../../processors/tail-sampling/policies/bytes-limiting';
import { summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: bytes_limiting', () => {
  // 97 + 3 bytes of framing = 100 bytes per span.
  const trace = (spans: number) => view(Array.from({ length: spans }, () => summary({ sizeBytes: 97 })));

  it('starts full at burst_capacity, then refills at bytes_per_second', () => {
    let now = 0;
    const p = new BytesLimiting({ type: 'bytes_limiting', bytes_per_second: 1000, burst_capacity: 500 }, () => now);
    expect(p.evaluate(trace(3)).verdict).to.equal('sampled'); // 300 of 500
    expect(p.evaluate(trace(2)).verdict).to.equal('sampled'); // 500 of 500
    expect(p.evaluate(trace(1)).verdict).to.equal('not_sampled');
    now = 100; // +100 bytes
    expect(p.evaluate(trace(1)).verdict).to.equal('sampled');
    expect(p.evaluate(trace(1)).verdict).to.equal('not_sampled');
    now = 10_000; // refill caps at the burst
    expect(p.evaluate(trace(5)).verdict).to.equal('sampled');
    expect(p.evaluate(trace(1)).verdict).to.equal('not_sampled');
  });

  it('defaults burst_capacity to twice bytes_per_second; a trace larger than the bucket never passes', () => {
    const p = new BytesLimiting({ type: 'bytes_limiting', bytes_per_second: 100 }, () => 0);
    const d = p.evaluate(trace(3));
    expect(d.verdict).to.equal('not_sampled');
    expect(d.inputs).to.include({ burst_capacity: 200, cost_bytes: 300 });
    expect(p.evaluate(trace(2)).verdict).to.equal('sampled');
  });
});
