// Unit tests of the sampling-state support code: option validation and the Redis key layout / shard batch
// builder (no network). The decision codec is tested in ledger.test.ts, the local store in decision-cache.test.ts.

import { expect } from 'chai';
import { PipelineError } from '../../../../pipeline/sdk/errors';
import { createSamplingState, ERR_STATE_OPTIONS, RedisSamplingState } from '../../../../processors/tail-sampling/state';
import { resolveStateOptions } from '../../../../processors/tail-sampling/state/options';
import {
  KeyLayout,
  latencyField,
  MAX_FIELDS_PER_READ,
  MAX_PAIRS_PER_WRITE,
  ShardBatch,
  shardOf,
} from '../../../../processors/tail-sampling/state/redis-batch';

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
      resolveStateOptions({
        keyPrefix: 'a{b}',
        syncIntervalMs: 0,
        degradedBoost: 0.5,
        windowMs: 1001,
        clusterNodes: ['nohost'],
      });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PipelineError);
    const pe = err as PipelineError;
    expect(pe.code).to.equal(ERR_STATE_OPTIONS);
    expect(pe.retriable).to.equal(false);
    for (const field of ['keyPrefix', 'syncIntervalMs', 'degradedBoost', 'windowMs', 'clusterNodes'])
      expect(pe.message).to.contain(field);
  });

  it('gathers the connection (url or cluster nodes, credentials, TLS, Sentinel) into one config', () => {
    const tls = {
      enabled: true,
      ca_file: '/ca.pem',
      cert_file: '',
      key_file: '',
      insecure_skip_verify: false,
      server_name_override: '',
    };
    const sentinel = { master_name: 'm', nodes: ['s:26379'] };
    expect(resolveStateOptions({}).connection).to.deep.equal({ url: 'redis://127.0.0.1:6379', cluster_nodes: [] });
    const o = resolveStateOptions({ username: 'u', passwordFile: '/pw', tls, sentinel });
    expect(o.connection).to.deep.equal({
      url: 'redis://127.0.0.1:6379',
      cluster_nodes: [],
      username: 'u',
      password_file: '/pw',
      tls,
      sentinel,
    });
    expect(o.shards, 'one master behind Sentinel: one shard').to.equal(1);
    expect(() => resolveStateOptions({ clusterNodes: ['a:1'], sentinel })).to.throw(
      PipelineError,
      'clusterNodes and sentinel are exclusive',
    );
    expect(() => resolveStateOptions({ password: 'p', passwordFile: '/pw' })).to.throw(
      PipelineError,
      'password and passwordFile are exclusive',
    );
  });

  it('a redis store whose client cannot be built (unreadable CA file) fails to start with a stable code', async () => {
    const r = new RedisSamplingState({
      url: 'redis://127.0.0.1:1',
      tls: {
        enabled: true,
        ca_file: '/nonexistent/ca.pem',
        cert_file: '',
        key_file: '',
        insecure_skip_verify: false,
        server_name_override: '',
      },
    });
    let err: unknown;
    try {
      await r.start();
    } catch (e) {
      err = e;
    }
    await r.shutdown();
    expect(err).to.be.instanceOf(PipelineError);
    expect((err as PipelineError).code).to.equal('ERR_STATE_REDIS_CLIENT');
    expect((err as PipelineError).message).to.contain('/nonexistent/ca.pem');
  });

  it('createSamplingState validates too, and builds a redis store without I/O', async () => {
    expect(() => createSamplingState('memory', { rateWindowMs: 1500 })).to.throw(PipelineError);
    const r = createSamplingState('redis', { url: 'redis://127.0.0.1:1' });
    expect(r).to.be.instanceOf(RedisSamplingState);
    expect(r.health()).to.include({ ready: false });
    await r.shutdown(); // without start: no connection was ever made
  });

  it('a redis store keeps remembered decisions in its local store only, never queued for Redis', async () => {
    const r = new RedisSamplingState({ url: 'redis://127.0.0.1:1', ledgerMaxEntries: 10 });
    const d = {
      traceId: 'a'.repeat(32),
      decision: 'sampled' as const,
      policy: 'keep',
      reason: 'logs only',
      inputs: { spans: 0 },
      decidedAt: 5,
    };
    r.rememberDecision(d);
    expect(r.recentDecision(d.traceId)).to.deep.equal(d);
    expect((await r.lookupDecisions([d.traceId])).get(d.traceId), 'answered locally').to.deep.equal(d);
    expect(r.stats()).to.include({ pendingDecisions: 0, undecodable: 0 });
    // Recorded while Redis is unusable: held locally and queued; the remembered one counts as the first decision.
    const other = { ...d, traceId: 'b'.repeat(32) };
    expect((await r.recordDecisions([{ ...d, policy: 'later' }, other])).get(d.traceId)?.policy).to.equal('keep');
    expect(r.stats().pendingDecisions).to.equal(1);
    expect(r.recentDecision(other.traceId)).to.deep.equal({ ...other, decidedBy: r.replicaId });
    await r.shutdown();
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
    expect(p.s).to.deep.equal([
      [
        [2, 1],
        ['a', 'b'],
      ],
    ]);
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
