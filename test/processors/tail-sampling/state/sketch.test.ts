// Unit tests of LatencySketch: relative accuracy vs exact quantiles on several distributions, merge ==
// union, subtract inverts merge, bounded bucket count, serialization round trip and malformed input.

import { expect } from 'chai';
import { LatencySketch } from '../../../../processors/tail-sampling/state/sketch';
import { rng } from '../../../helpers/random';
import { DISTRIBUTIONS, exactQuantile } from './random';

const QS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function buckets(s: LatencySketch): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  s.forEachBucket((i, c) => out.push([i, c]));
  return out;
}

function sketchOf(values: readonly number[]): LatencySketch {
  const s = new LatencySketch();
  for (const v of values) s.add(v);
  return s;
}

function sample(name: string, n: number, seed: number): number[] {
  const u = rng(seed);
  const draw = DISTRIBUTIONS[name];
  return Array.from({ length: n }, () => draw(u));
}

describe('state/sketch LatencySketch', () => {
  describe('relative accuracy against exact quantiles', () => {
    for (const alpha of [0.01, 0.02]) {
      for (const name of Object.keys(DISTRIBUTIONS)) {
        it(`alpha=${alpha}: ${name}`, () => {
          const values = sample(name, 50_000, 7);
          const s = new LatencySketch({ relativeAccuracy: alpha });
          for (const v of values) s.add(v);
          const sorted = [...values].sort((a, b) => a - b);
          expect(s.count).to.equal(values.length);
          let worst = 0;
          for (const q of QS) {
            const exact = exactQuantile(sorted, q);
            const err = Math.abs(s.quantile(q) - exact) / exact;
            worst = Math.max(worst, err);
            expect(err, `q=${q} exact=${exact} got=${s.quantile(q)}`).to.be.at.most(alpha * (1 + 1e-9));
          }
          // The guarantee is not vacuous: the estimates are not exact.
          expect(worst).to.be.greaterThan(0);
        });
      }
    }

    it('quantiles() in one pass equals quantile() per q, in any order', () => {
      const s = new LatencySketch();
      for (const v of sample('lognormal(median 20ms, sigma 1)', 5000, 3)) s.add(v);
      const qs = [0.99, 0.5, 0.95, 0, 1];
      expect(s.quantiles(qs)).to.deep.equal(qs.map((q) => s.quantile(q)));
    });

    it('values below the indexable minimum (0, negatives) count as 0; NaN is ignored', () => {
      const s = new LatencySketch();
      s.add(0);
      s.add(-5);
      s.add(Number.NaN);
      s.add(1000, 2);
      expect(s.count).to.equal(4);
      expect(s.zeroCount).to.equal(2);
      expect(s.quantile(0)).to.equal(0);
      expect(s.quantile(1)).to.be.closeTo(1000, 10);
    });

    it('an empty sketch answers NaN, and a bad quantile is a RangeError', () => {
      const s = new LatencySketch();
      expect(Number.isNaN(s.quantile(0.5))).to.equal(true);
      s.add(1);
      expect(() => s.quantile(1.5)).to.throw(RangeError);
      expect(() => s.add(1, 0.5)).to.throw(RangeError);
    });
  });

  describe('merge', () => {
    it('merging parts gives exactly the sketch of the union', () => {
      const values = sample('pareto(alpha 1.2, min 500us)', 30_000, 11);
      const whole = new LatencySketch();
      const parts = [new LatencySketch(), new LatencySketch(), new LatencySketch()];
      const u = rng(5);
      for (const v of values) {
        whole.add(v);
        parts[Math.floor(u() * 3)].add(v);
      }
      const merged = new LatencySketch().merge(parts[2]).merge(parts[0]).merge(parts[1]);
      expect(merged.count).to.equal(whole.count);
      expect(buckets(merged)).to.deep.equal(buckets(whole));
      expect(merged.quantiles(QS)).to.deep.equal(whole.quantiles(QS));
    });

    it('subtract undoes merge', () => {
      const a = new LatencySketch();
      const b = new LatencySketch();
      for (const v of sample('exponential(mean 5ms)', 5000, 1)) a.add(v);
      for (const v of sample('uniform(1ms..100ms)', 5000, 2)) b.add(v);
      const before = buckets(a);
      a.merge(b).subtract(b);
      expect(a.count).to.equal(5000);
      expect(buckets(a)).to.deep.equal(before);
      a.subtract(a.clone());
      expect(a.isEmpty()).to.equal(true);
      expect(a.bucketCount()).to.equal(0);
    });

    it('refuses sketches built with different options', () => {
      expect(() =>
        new LatencySketch({ relativeAccuracy: 0.01 }).merge(new LatencySketch({ relativeAccuracy: 0.02 })),
      ).to.throw(RangeError);
    });
  });

  describe('bounded bucket count', () => {
    it('collapses the lowest buckets and keeps the high quantiles accurate', () => {
      // 200 buckets of 2 % each keep the top factor e^4 ~ 55 of the range: enough for p95 and above here.
      const s = new LatencySketch({ maxBuckets: 200 });
      const values = sample('lognormal(median 20ms, sigma 1)', 50_000, 9);
      expect(new LatencySketch().merge(sketchOf(values)).bucketCount()).to.be.greaterThan(200);
      for (const v of values) s.add(v);
      expect(s.bucketCount()).to.be.at.most(200);
      expect(s.count).to.equal(values.length);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.95, 0.99, 0.999]) {
        const exact = exactQuantile(sorted, q);
        expect(Math.abs(s.quantile(q) - exact) / exact, `q=${q}`).to.be.at.most(0.01 * (1 + 1e-9));
      }
      // The lowest quantiles were collapsed upward: they are no longer accurate, but never above the truth by more than the kept range.
      expect(s.quantile(0)).to.be.greaterThan(exactQuantile(sorted, 0) * 1.01);
    });

    it('stays bounded when values jump far above the current range', () => {
      const s = new LatencySketch({ maxBuckets: 16 });
      s.add(1);
      s.add(1e12);
      s.add(1e-3);
      expect(s.bucketCount()).to.be.at.most(16);
      expect(s.count).to.equal(3);
      expect(s.quantile(1)).to.be.closeTo(1e12, 1e10);
    });
  });

  describe('serialization', () => {
    it('round-trips exactly and compactly', () => {
      const s = new LatencySketch();
      for (const v of sample('lognormal(median 20ms, sigma 1)', 100_000, 4)) s.add(v);
      s.add(0, 3);
      const bytes = s.serialize();
      const back = LatencySketch.deserialize(bytes);
      expect(back.count).to.equal(s.count);
      expect(back.zeroCount).to.equal(3);
      expect(buckets(back)).to.deep.equal(buckets(s));
      expect(back.quantiles(QS)).to.deep.equal(s.quantiles(QS));
      // ~2 bytes per non-empty bucket (counts up to a few thousand) plus a small header.
      expect(bytes.length).to.be.lessThan(3 * s.bucketCount() + 16);
      expect(LatencySketch.fromBase64(s.toBase64()).quantile(0.95)).to.equal(s.quantile(0.95));
    });

    it('round-trips custom options, sparse buckets and large counts', () => {
      const s = new LatencySketch({ relativeAccuracy: 0.02, maxBuckets: 500, minIndexableValue: 0.5 });
      s.add(1, 2 ** 40);
      s.add(1e6, 3);
      s.add(0.1);
      const back = LatencySketch.deserialize(s.serialize());
      expect(back.options()).to.deep.equal(s.options());
      expect(buckets(back)).to.deep.equal(buckets(s));
      expect(back.count).to.equal(2 ** 40 + 4);
    });

    it('round-trips the empty sketch', () => {
      const back = LatencySketch.deserialize(new LatencySketch().serialize());
      expect(back.isEmpty()).to.equal(true);
    });

    it('rejects malformed input with RangeError', () => {
      const s = new LatencySketch();
      s.add(42);
      const bytes = s.serialize();
      expect(() => LatencySketch.deserialize(bytes.subarray(0, bytes.length - 1))).to.throw(RangeError);
      expect(() => LatencySketch.deserialize(Buffer.concat([bytes, Buffer.from([0])]))).to.throw(RangeError);
      const bad = Buffer.from(bytes);
      bad[0] = 99;
      expect(() => LatencySketch.deserialize(bad)).to.throw(RangeError, /version/);
    });
  });
});
