// The Collector's probabilistic decision, checked against vectors computed with Go's hash/fnv and
// math/big exactly as contrib's probabilistic policy calls them (hashTraceID, calculateThreshold).

import { expect } from 'chai';
import {
  CollectorSampler,
  collectorThreshold,
  fnv1a64,
  toBigInt,
} from '../../../../processors/tail-sampling/policies/collector-hash';
import { Probabilistic } from '../../../../processors/tail-sampling/policies/probabilistic';
import { summary, view } from '../helpers/fixtures';

/** [salt (raw, as written to the hasher), trace id, Go's fnv.New64a() Sum64()]. */
const HASHES: [string, string, bigint][] = [
  ['default-hash-seed', '0af7651916cd43dd8448eb211c80319c', 3728843964641534796n],
  ['default-hash-seed', '00000000000000000000000000000001', 16254957729900898954n],
  ['default-hash-seed', 'ffffffffffffffffffffffffffffffff', 1711019809656077869n],
  ['default-hash-seed', '4bf92f3577b34da6a3ce929d0e0e4736', 11908981664384643253n],
  ['tier-2', '0af7651916cd43dd8448eb211c80319c', 16126585104569101487n],
  ['tier-2', '5b8efff798038103d269b633813fc60c', 143876512103348864n],
  ['ünïcode-salt', '4bf92f3577b34da6a3ce929d0e0e4736', 6644539945700414242n],
  ['ünïcode-salt', '5b8efff798038103d269b633813fc60c', 697373765603491644n],
  ['', '0af7651916cd43dd8448eb211c80319c', 5550680739742810548n],
  ['', 'ffffffffffffffffffffffffffffffff', 15447475403222018133n],
];

/** [sampling_percentage, Go's calculateThreshold(percentage / 100)]. */
const THRESHOLDS: [number, bigint][] = [
  [0, 0n],
  [0.001, 184467440737095n],
  [0.1, 18446744073709551n],
  [1, 184467440737095519n],
  [10, 1844674407370955263n],
  [12.5, 2305843009213693951n],
  [33.333, 6148853202089604095n],
  [50, 9223372036854775807n],
  [66.7, 12303978297164271615n],
  [99.99, 18444899399302178815n],
  [100, 18446744073709551615n],
  [150, 18446744073709551615n],
];

describe('tail_sampling policies: the Collector probabilistic hash', () => {
  it('FNV-1a 64 matches the published vectors', () => {
    expect(toBigInt(fnv1a64(new Uint8Array(0)))).to.equal(0xcbf29ce484222325n);
    expect(toBigInt(fnv1a64(Buffer.from('a')))).to.equal(0xaf63dc4c8601ec8cn);
    expect(toBigInt(fnv1a64(Buffer.from('foo'), Buffer.from('bar')))).to.equal(0x85944171f73967e8n);
  });

  for (const [salt, id, want] of HASHES) {
    it(`hashes salt ${JSON.stringify(salt)} + ${id} as Go does`, () => {
      expect(toBigInt(fnv1a64(Buffer.from(salt, 'utf8'), Buffer.from(id, 'hex')))).to.equal(want);
    });
  }

  for (const [pct, want] of THRESHOLDS) {
    it(`computes the threshold of ${pct}% as Go's big.Float does`, () => {
      expect(collectorThreshold(pct / 100)).to.equal(want);
    });
  }

  it('decides hash <= threshold, with "default-hash-seed" for an empty salt', () => {
    // hash("default-hash-seed", 0af7...) = 3728843964641534796: above 10% (1844674407370955263), below 33.333%.
    const id = '0af7651916cd43dd8448eb211c80319c';
    const ten = new CollectorSampler('', 0.1);
    const third = new CollectorSampler('', 0.33333);
    expect(ten.sampled(ten.hash(id))).to.equal(false);
    expect(third.sampled(third.hash(id))).to.equal(true);
    // Exactly at the threshold is sampled (<=), one above is not.
    const s = new CollectorSampler('tier-2', 0);
    expect(s.sampled({ hi: 0, lo: 0 })).to.equal(true);
    expect(s.sampled({ hi: 0, lo: 1 })).to.equal(false);
  });

  it('makes the probabilistic policy with hash_algorithm fnv1a64 follow the Collector', () => {
    const policy = (pct: number, salt = '') =>
      new Probabilistic({ type: 'probabilistic', percentage: pct, hash_salt: salt, hash_algorithm: 'fnv1a64' });
    for (const [salt, id, hash] of HASHES.filter(([s]) => s !== '')) {
      const configured = salt === 'default-hash-seed' ? '' : salt;
      for (const [pct, thr] of THRESHOLDS) {
        const got = policy(pct, configured).evaluate(view([summary({ traceId: id })], id)).verdict;
        expect(got, `${salt} ${id} ${pct}%`).to.equal(hash <= thr ? 'sampled' : 'not_sampled');
      }
    }
  });

  it('keeps about the configured fraction of random ids', () => {
    const p = new Probabilistic({ type: 'probabilistic', percentage: 20, hash_salt: 'x', hash_algorithm: 'fnv1a64' });
    let kept = 0;
    for (let i = 0; i < 4000; i++) {
      const id = (BigInt(i) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32);
      if (p.evaluate(view([summary({ traceId: id })], id)).verdict === 'sampled') kept++;
    }
    expect(kept / 4000).to.be.closeTo(0.2, 0.03);
  });
});
