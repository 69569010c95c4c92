// Tests of the recent-decision cache (decision-cache.ts): entries are stored as one encoded string, so
// every record must come back equal (numbers JSON cannot carry, odd keys, unicode), and the LRU bound and
// recency must work as before.

import { expect } from 'chai';
import type { DecisionRecord } from '../../../pipeline/sdk/component';
import { DecisionCache, decodeCachedDecision, encodeCachedDecision } from '../../../processors/tail-sampling/decision-cache';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

function record(over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    traceId: TRACE, decision: 'sampled', policy: 'errors', reason: 'span 00f067aa0ba902b7 has status ERROR',
    inputs: { codes: 'ERROR', span_id: '00f067aa0ba902b7', trigger: 'root_settled', spans: 12, adjusted_count: 10, hit: true }, decidedAt: 1_764_000_000_123, ...over,
  };
}

describe('tail_sampling decision cache', () => {
  it('round-trips records, including numbers JSON cannot carry and keys JSON or objects treat specially', () => {
    const inputs: Record<string, string | number | boolean> = {
      inf: Infinity, ninf: -Infinity, nan: NaN, negZero: -0, zero: 0, big: 2 ** 53 - 1, tiny: 5e-324, frac: 0.1 + 0.2,
      '10': 'integer-like key', 'a"b\\c': 'quote and backslash', empty: '', uni: 'ünïcödé ✓ \u{1F600}', sep: 'a\x1fb', f: false,
    };
    Object.defineProperty(inputs, '__proto__', { value: 'own', enumerable: true, writable: true, configurable: true });
    const cases: DecisionRecord[] = [
      record(),
      record({ decision: 'not_sampled', policy: '(none)', reason: 'no policy sampled the trace (a: x; b: y)', inputs }),
      record({ policy: 'we\x1fird "name"', reason: '', inputs: {}, decidedAt: 0 }),
      record({ decidedAt: -1 }),
    ];
    for (const r of cases) {
      const back = decodeCachedDecision(r.traceId, encodeCachedDecision(r));
      expect(back).to.deep.equal(r);
      expect(Object.keys(back)).to.deep.equal(Object.keys(r));
      expect(Object.keys(back.inputs)).to.deep.equal(Object.keys(r.inputs));
      for (const k of Object.keys(r.inputs)) expect(Object.is(back.inputs[k], r.inputs[k]), k).to.equal(true);
    }
    const odd = decodeCachedDecision(TRACE, encodeCachedDecision(cases[1]));
    expect(Object.getPrototypeOf(odd.inputs)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(odd.inputs, '__proto__')?.value).to.equal('own');
  });

  it('keeps an input that is undefined at run time as an own undefined property', () => {
    const r = record({ inputs: { p95_us: undefined as unknown as number, n: 1 } });
    const back = decodeCachedDecision(TRACE, encodeCachedDecision(r));
    expect(Object.keys(back.inputs)).to.deep.equal(['p95_us', 'n']);
    expect(back.inputs.p95_us).to.equal(undefined);
  });

  it('stores one string per entry and returns an equal record for the trace id', () => {
    const cache = new DecisionCache(10);
    cache.set(record());
    expect(cache.size).to.equal(1);
    expect(cache.get(TRACE)).to.deep.equal(record());
    expect(cache.get('ffffffffffffffffffffffffffffffff')).to.equal(undefined);
    cache.set(record({ decision: 'not_sampled', policy: 'later' }));
    expect(cache.size).to.equal(1);
    expect(cache.get(TRACE)?.policy).to.equal('later');
  });

  it('evicts the least recently used entry beyond capacity, counting get as a use', () => {
    const cache = new DecisionCache(3);
    const id = (i: number): string => i.toString(16).padStart(32, '0');
    for (let i = 1; i <= 3; i++) cache.set(record({ traceId: id(i), decidedAt: i }));
    expect(cache.get(id(1))?.decidedAt).to.equal(1); // 1 is now the most recent
    cache.set(record({ traceId: id(4), decidedAt: 4 }));
    expect(cache.size).to.equal(3);
    expect(cache.get(id(2))).to.equal(undefined);
    expect([1, 3, 4].map((i) => cache.get(id(i))?.decidedAt)).to.deep.equal([1, 3, 4]);
  });
});
