// Unit tests of the sampling-state support code: option validation, the ledger LRU/TTL map and decision
// codec, and the Redis key layout / shard batch builder (no network).

import { expect } from 'chai';
import { PipelineError } from '../../../../pipeline/sdk/errors';
import { createSamplingState, ERR_STATE_OPTIONS, RedisSamplingState } from '../../../../processors/tail-sampling/state';
import { decisionOutcome, decodeDecision, encodeDecision, shortDecision } from '../../../../processors/tail-sampling/state/ledger';
import { resolveStateOptions } from '../../../../processors/tail-sampling/state/options';
import { KeyLayout, latencyField, MAX_FIELDS_PER_READ, MAX_PAIRS_PER_WRITE, ShardBatch, shardOf } from '../../../../processors/tail-sampling/state/redis-batch';

describe('state/options resolveStateOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveStateOptions({});
    expect(o).to.include({
      url: 'redis://127.0.0.1:6379',
      keyPrefix: 'tusk:',
      syncIntervalMs: 1000,
      ledgerTtlMs: 3_600_000,
      windowMs: 300_000,
      degradedBoost: 2,
      degradedDecayMs: 60_000,
      shards: 1,
    });
    expect(resolveStateOptions({ clusterNodes: ['127.0.0.1:7000'] }).shards).to.equal(16);
  });

  it('reports every problem at once with a stable code', () => {
    let err: unknown;
    try {
      resolveStateOptions({ keyPrefix: 'a{b}', syncIntervalMs: 0, degradedBoost: 0.5, windowMs: 1001, clusterNodes: ['nohost'] });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PipelineError);
    const pe = err as PipelineError;
    expect(pe.code).to.equal(ERR_STATE_OPTIONS);
    expect(pe.retriable).to.equal(false);
    for (const field of ['keyPrefix', 'syncIntervalMs', 'degradedBoost', 'windowMs', 'clusterNodes']) expect(pe.message).to.contain(field);
  });

  it('createSamplingState validates too, and builds a redis store without I/O', async () => {
    expect(() => createSamplingState('memory', { rateWindowMs: 1500 })).to.throw(PipelineError);
    const r = createSamplingState('redis', { url: 'redis://127.0.0.1:1' });
    expect(r).to.be.instanceOf(RedisSamplingState);
    expect(r.health()).to.include({ ready: false });
    await r.shutdown(); // without start: no connection was ever made
  });
});

describe('state/ledger', () => {
  it('encodes decisions compactly and decodes them back', () => {
    const r = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      decision: 'not_sampled' as const,
      policy: 'rest',
      reason: 'adaptive rate 0.1',
      inputs: { rate: 0.1, key: 'svc', boosted: true },
      decidedAt: 1_700_000_000_000,
    };
    const text = encodeDecision(r);
    expect(text).not.to.contain(r.traceId);
    expect(text.length).to.be.lessThan(80);
    expect(decodeDecision(r.traceId, text)).to.deep.equal(r);
    expect(decodeDecision('x', 'not json')).to.equal(undefined);
    expect(decodeDecision('x', '{"d":"?","p":"a","t":1}')).to.equal(undefined);
    expect(decodeDecision('x', 'sa\x1f1\x1freason')).to.equal(undefined); // truncated (third field without its end)
    expect(decodeDecision('x', 'sa\x1f1\x1frA\x1fx')).to.equal(undefined); // short form with something after it
    expect(decodeDecision('x', 'sa')).to.equal(undefined); // no time
    expect(decodeDecision('x', 'sa\x1f\x1fr\x1f')).to.equal(undefined); // no time
    // No inputs, and a reason containing the separator, still round-trip.
    const bare = { ...r, decision: 'sampled' as const, reason: 'odd\x1freason', inputs: {} };
    expect(decodeDecision(r.traceId, encodeDecision(bare))).to.deep.equal(bare);
    expect(decisionOutcome(encodeDecision(bare))).to.equal('srest');
    // The short form stored in Redis keeps decision, policy, decidedAt and the shared items only.
    const short = shortDecision(text);
    expect(short).to.equal(`nrest\x1f${r.decidedAt.toString(36)}\x1f\x1f`);
    expect(decodeDecision(r.traceId, short)).to.deep.equal({ ...r, reason: '', inputs: {} });
    expect(decodeDecision('x', 'sa\x1f12!')).to.equal(undefined); // bad time
  });

  it('carries the deciding replica and a kept trace\'s sampling threshold into the short (Redis) form', () => {
    const kept = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      decision: 'sampled' as const,
      policy: 'rest',
      reason: 'trace-id hash 0.05 < p 0.1',
      inputs: { p: 0.1, adjusted_count: 10, sampling_threshold: 'e666' },
      decidedAt: 1_700_000_000_000,
      decidedBy: 'Ab3_x-9Z',
    };
    const text = encodeDecision(kept);
    expect(decodeDecision(kept.traceId, text), 'the full local form round-trips').to.deep.equal(kept);
    const short = shortDecision(text);
    expect(short).to.equal(`srest\x1f${kept.decidedAt.toString(36)}\x1frAb3_x-9Z,te666\x1f`);
    expect(decodeDecision(kept.traceId, short)).to.deep.equal({
      ...kept,
      reason: '',
      // The adjusted count is derived from the threshold: 2^56 / (2^56 - 0xe666 << 40).
      inputs: { sampling_threshold: 'e666', adjusted_count: 2 ** 56 / (2 ** 56 - 0xe666 * 2 ** 40) },
    });
    // The replica id given to encodeDecision (the recording store's) wins over the record's.
    expect(decodeDecision(kept.traceId, shortDecision(encodeDecision(kept, 'other')))?.decidedBy).to.equal('other');
    // A dropped trace carries no threshold; an invalid threshold is not carried; unknown items are skipped.
    expect(shortDecision(encodeDecision({ ...kept, decision: 'not_sampled' }))).to.match(/\x1frAb3_x-9Z\x1f$/);
    expect(shortDecision(encodeDecision({ ...kept, inputs: { sampling_threshold: 'xyz' } }))).to.match(/\x1frAb3_x-9Z\x1f$/);
    expect(decodeDecision('x', 'sa\x1f1\x1fq?,rR1,tzz\x1f')).to.deep.equal({ traceId: 'x', decision: 'sampled', policy: 'a', reason: '', inputs: {}, decidedAt: 1, decidedBy: 'R1' });
    // Entries of the previous layout (`<s|n><policy>␟<decidedAt>`) still decode, without a replica.
    expect(decodeDecision('x', 'nrest\x1f1a')).to.deep.equal({ traceId: 'x', decision: 'not_sampled', policy: 'rest', reason: '', inputs: {}, decidedAt: 46 });
    // A reader of the previous layout accepts a value with a second separator only when a later one closes
    // the reason (else "reason without inputs"): the trailing separator does, so during a rolling upgrade
    // old replicas still follow new entries (reading the shared items as the reason).
    const second = short.indexOf('\x1f', short.indexOf('\x1f') + 1);
    expect(short.lastIndexOf('\x1f')).to.be.greaterThan(second);
  });
});

describe('state/redis-batch', () => {
  it('shardOf is stable and spreads keys', () => {
    expect(shardOf('anything', 1)).to.equal(0);
    expect(shardOf('checkout', 16)).to.equal(shardOf('checkout', 16));
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(shardOf(`trace-${i}`, 16));
    expect(seen.size).to.equal(16);
  });

  it('every key of a shard carries the same hash tag, under the prefix', () => {
    const k = new KeyLayout('tusk:');
    const keys = [k.latency(3, 100), k.latencyReplicas(3, 100), k.seen(3, 5), k.errors(3, 7), k.ledger(3, 123)];
    for (const key of keys) {
      expect(key.startsWith('tusk:{s3}:')).to.equal(true);
      expect(key.match(/\{[^}]*\}/)![0]).to.equal('{s3}');
    }
    // Service/operation boundaries are unambiguous.
    expect(latencyField('ab', 'c')).not.to.equal(latencyField('a', 'bc'));
  });

  it('ShardBatch numbers keys once, chunks large reads and applies replies in order', () => {
    const b = new ShardBatch(0);
    expect(b.isEmpty()).to.equal(true);
    let written = false;
    b.incr('k1', 1000, ['f', '2'], () => {
      written = true;
    });
    const fields = Array.from({ length: MAX_FIELDS_PER_READ + 10 }, (_, i) => `f${i}`);
    let got: Array<string | null> = [];
    b.getFields('k1', fields, (v) => {
      got = v;
    });
    let sums: number[] = [];
    b.sumFields(['k2', 'k1'], ['a', 'b'], (s) => {
      sums = s;
    });
    let all: string[] = [];
    b.getAll('k2', (flat) => {
      all = flat;
    });
    expect(b.keys).to.deep.equal(['k1', 'k2']);
    const p = JSON.parse(b.payload());
    expect(p.i).to.deep.equal([[1, 1000, 'f', '2']]);
    expect(p.m).to.have.length(2); // chunked
    expect(p.m[0][0]).to.equal(1);
    expect(p.s).to.deep.equal([[[2, 1], ['a', 'b']]]);
    expect(p.g).to.deep.equal([2]);
    let members: string[][] = [];
    b.getMembers('k3', 'k3r', 'me', ['p1|', 'p2|'], (v) => {
      members = v;
    });
    let hwritten = false;
    const pairs = Array.from({ length: MAX_PAIRS_PER_WRITE + 1 }, (_, i) => [`h${i}`, 'v']).flat();
    b.hset('k3', 5000, 'k3r', 6000, 'me', pairs, () => {
      hwritten = true;
    });
    expect(b.keys).to.deep.equal(['k1', 'k2', 'k3', 'k3r']);
    const q = JSON.parse(b.payload());
    expect(q.l).to.deep.equal([[3, 4, 'me', 'p1|', 'p2|']]);
    expect(q.h).to.have.length(2); // chunked
    expect(q.h[0].slice(0, 7)).to.deep.equal([3, 5000, 4, 6000, 'me', 'h0', 'v']);
    expect(q.h[1]).to.deep.equal([3, 5000, 4, 6000, 'me', `h${MAX_PAIRS_PER_WRITE}`, 'v']);
    b.apply([
      [['x', '1']],
      [fields.slice(0, MAX_FIELDS_PER_READ).map(() => '1'), fields.slice(MAX_FIELDS_PER_READ).map(() => null)],
      [[3, 4]],
      [[['a', 'b'], []]],
    ]);
    expect(hwritten).to.equal(true);
    expect(members).to.deep.equal([['a', 'b'], []]);
    expect(written).to.equal(true);
    expect(got).to.have.length(fields.length);
    expect(got[0]).to.equal('1');
    expect(got[fields.length - 1]).to.equal(null);
    expect(sums).to.deep.equal([3, 4]);
    expect(all).to.deep.equal(['x', '1']);
  });
});
