// Table-driven tests of the probabilistic policy: deterministic on the trace id, proportional to the rate.

import { expect } from 'chai';
import { Probabilistic } from '../../../../processors/tail-sampling/policies/probabilistic';
import { traceIdHash } from '../../../../processors/tail-sampling/trace-view';
import { newTraceId, summary, view } from '../helpers/fixtures';

describe('tail_sampling policies: probabilistic', () => {
  const ids = Array.from({ length: 4000 }, () => newTraceId());

  const cases = [
    { cfg: { rate: 0 }, expect: 0 },
    { cfg: { percentage: 10 }, expect: 0.1 },
    { cfg: { rate: 0.25 }, expect: 0.25 },
    { cfg: { percentage: 50 }, expect: 0.5 },
    { cfg: { rate: 1 }, expect: 1 },
  ];
  for (const c of cases) {
    it(`keeps about ${c.expect * 100}% with ${JSON.stringify(c.cfg)}`, () => {
      const p = new Probabilistic({ type: 'probabilistic', hash_salt: '', ...c.cfg });
      const kept =
        ids.filter((id) => p.evaluate(view([summary({ traceId: id })], id)).verdict === 'sampled').length / ids.length;
      expect(kept).to.be.closeTo(c.expect, 0.03);
    });
  }

  it('is deterministic: same trace id => same verdict, on any instance', () => {
    const a = new Probabilistic({ type: 'probabilistic', rate: 0.3, hash_salt: '' });
    const b = new Probabilistic({ type: 'probabilistic', rate: 0.3, hash_salt: '' });
    for (const id of ids.slice(0, 500)) {
      const t = view([summary({ traceId: id })], id);
      expect(a.evaluate(t).verdict).to.equal(b.evaluate(t).verdict);
    }
  });

  it('is nested: a trace kept at rate r is kept at every rate above r', () => {
    const lo = new Probabilistic({ type: 'probabilistic', rate: 0.1, hash_salt: '' });
    const hi = new Probabilistic({ type: 'probabilistic', rate: 0.4, hash_salt: '' });
    for (const id of ids.slice(0, 1000)) {
      const t = view([summary({ traceId: id })], id);
      if (lo.evaluate(t).verdict === 'sampled') expect(hi.evaluate(t).verdict).to.equal('sampled');
    }
  });

  it('reports the probability it applied (adjusted count 1/p)', () => {
    const d = new Probabilistic({ type: 'probabilistic', percentage: 20, hash_salt: '' }).evaluate(view([summary()]));
    expect(d.probability).to.equal(0.2);
    expect(d.inputs).to.have.property('rate', 0.2);
  });

  it('a salt gives an independent decision', () => {
    const plain = new Probabilistic({ type: 'probabilistic', rate: 0.5, hash_salt: '' });
    const salted = new Probabilistic({ type: 'probabilistic', rate: 0.5, hash_salt: 'tier-2' });
    let differ = 0;
    for (const id of ids.slice(0, 1000)) {
      const t = view([summary({ traceId: id })], id);
      if (plain.evaluate(t).verdict !== salted.evaluate(t).verdict) differ++;
    }
    expect(differ).to.be.within(400, 600);
  });

  it('traceIdHash is uniform on sequential (non-random) trace ids', () => {
    const seq = Array.from({ length: 2000 }, (_, i) => i.toString(16).padStart(32, '0'));
    const below = seq.filter((id) => traceIdHash(id) < 0.5).length;
    expect(below).to.be.within(900, 1100);
    expect(traceIdHash(seq[7])).to.equal(traceIdHash(seq[7]));
  });
});
