// LruTtlMap (lru.ts): least recently used evicted first, entries expire after their TTL, and a randomized
// run against a reference model (the Map re-insertion LRU it replaced) agrees operation for operation.

import { expect } from 'chai';
import { LruTtlMap } from '../../../processors/tail-sampling/lru';
import { rng } from '../../helpers/random';
import { FakeClock } from './state/random';

/** The reference: a Map kept in recency order by re-insertion, evicting from its front. */
class ModelLru {
  readonly map = new Map<number, { value: number; expiresAt: number }>();
  evicted = 0;
  constructor(
    private readonly max: number,
    private readonly ttl: number,
    private readonly now: () => number,
  ) {}
  get(k: number): number | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    this.map.delete(k);
    if (e.expiresAt <= this.now()) return undefined;
    this.map.set(k, e);
    return e.value;
  }
  set(k: number, value: number): void {
    this.map.delete(k);
    this.map.set(k, { value, expiresAt: this.now() + this.ttl });
    while (this.map.size > this.max) {
      this.map.delete(this.map.keys().next().value as number);
      this.evicted++;
    }
  }
  sweep(limit: number): number {
    let n = 0;
    for (const [k, e] of this.map) {
      if (n >= limit) break;
      if (e.expiresAt <= this.now()) {
        this.map.delete(k);
        n++;
      }
    }
    return n;
  }
}

describe('tail_sampling LruTtlMap', () => {
  it('expires entries and evicts the least recently used', () => {
    const clock = new FakeClock(0);
    const m = new LruTtlMap<string, number>(2, 100, clock.now);
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).to.equal(1); // refresh a
    m.set('c', 3); // evicts b
    expect(m.get('b')).to.equal(undefined);
    expect(m.evicted).to.equal(1);
    clock.advance(100);
    expect(m.get('a')).to.equal(undefined);
    m.set('d', 4);
    expect(m.sweep()).to.equal(1); // c expired
    expect(m.size).to.equal(1);
  });

  it('without a TTL never expires; set on a held key updates it and makes it the most recent', () => {
    const m = new LruTtlMap<string, string>(3);
    m.set('a', '1');
    m.set('b', '2');
    m.set('c', '3');
    m.set('a', 'one'); // a is now the newest: b goes first
    m.set('d', '4');
    expect([...m.oldestFirst()]).to.deep.equal([
      ['c', '3'],
      ['a', 'one'],
      ['d', '4'],
    ]);
    expect(m.get('b')).to.equal(undefined);
    expect(m.sweep()).to.equal(0);
    expect(m.delete('c')).to.equal(true);
    expect(m.delete('c')).to.equal(false);
    expect([...m.oldestFirst()].map(([k]) => k)).to.deep.equal(['a', 'd']);
    expect(m.evicted).to.equal(1);
  });

  it('agrees with the reference model over 20,000 random operations', () => {
    const rand = rng(42);
    const clock = new FakeClock(0);
    const m = new LruTtlMap<number, number>(50, 1000, clock.now);
    const ref = new ModelLru(50, 1000, clock.now);
    for (let i = 0; i < 20_000; i++) {
      const k = Math.floor(rand() * 120);
      const op = rand();
      if (op < 0.45) {
        m.set(k, i);
        ref.set(k, i);
      } else if (op < 0.9) {
        expect(m.get(k), `get ${k} at ${i}`).to.equal(ref.get(k));
      } else if (op < 0.95) {
        expect(m.delete(k)).to.equal(ref.map.delete(k));
      } else if (op < 0.97) {
        expect(m.sweep(5)).to.equal(ref.sweep(5));
      } else {
        clock.advance(Math.floor(rand() * 200));
      }
      expect(m.size).to.equal(ref.map.size);
    }
    expect(m.evicted).to.equal(ref.evicted);
    expect([...m.oldestFirst()].map(([k, v]) => [k, v])).to.deep.equal([...ref.map].map(([k, e]) => [k, e.value]));
  });
});
