// Replica announcement against the stack Redis: two registries under one fresh key prefix see each other
// after one refresh, with TTL'd records (a record not refreshed is marked stale, then gone at its TTL), and a
// stopped replica removes its record at once.

import { expect } from 'chai';
import { Redis } from 'ioredis';
import { ReplicaRegistry, type ReplicasView } from '../../pipeline/runtime/replicas';
import { requireStack } from '../helpers/stack';
import { STACK_REDIS_URL } from './sampling-state-redis-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ids(v: ReplicasView): string[] {
  if (!v.available) throw new Error(v.reason);
  return v.replicas.map((r) => `${r.id}${r.self ? ' (self)' : ''}${r.stale ? ' stale' : ''}`);
}

describe('replica announcement in Redis', function () {
  this.timeout(30_000);
  const prefix = `test-replicas-${process.pid}-${Date.now()}:`;
  let redis: Redis;

  before(async () => {
    await requireStack(['redis']);
    redis = new Redis(STACK_REDIS_URL);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  function registry(id: string): ReplicaRegistry {
    return new ReplicaRegistry({
      redis: { url: STACK_REDIS_URL, clusterNodes: [], keyPrefix: prefix },
      self: () => ({
        id,
        pipelines: [id.startsWith('ingest') ? 'ingest' : 'sample'],
        adminUrl: `http://127.0.0.1:1${id.length}`,
        version: '0.0.0',
        hostname: 'h',
        startedAt: 5,
      }),
      refreshMs: 200,
      ttlMs: 2000,
    });
  }

  it('lists every replica, marks one that stopped refreshing stale, forgets it at its TTL', async () => {
    const a = registry('ingest-a');
    const b = registry('sample-b');
    a.start();
    b.start();
    await sleep(500);
    expect(ids(a.view())).to.deep.equal(['ingest-a (self)', 'sample-b']);
    expect(ids(b.view())).to.deep.equal(['ingest-a', 'sample-b (self)']);
    const rec = JSON.parse((await redis.get(`${prefix}{replicas}:sample-b`))!) as { lastSeen: number };
    expect(rec).to.include({ id: 'sample-b', version: '0.0.0', startedAt: 5 });
    expect(await redis.pttl(`${prefix}{replicas}:sample-b`)).to.be.within(1, 2000);
    // A replica that hangs: its record (written here, 500 ms old, expiring in 900 ms) is no longer refreshed. It shows
    // as stale after two refresh periods, and is gone at its TTL.
    const hung = JSON.stringify({ ...rec, id: 'sample-c', lastSeen: Date.now() - 500 });
    await redis
      .multi()
      .set(`${prefix}{replicas}:sample-c`, hung, 'PX', 900)
      .sadd(`${prefix}{replicas}`, 'sample-c')
      .exec();
    await sleep(250);
    expect(ids(a.view())).to.include('sample-c stale');
    await sleep(1000);
    expect(ids(a.view())).to.deep.equal(['ingest-a (self)', 'sample-b']);
    expect(await redis.sismember(`${prefix}{replicas}`, 'sample-c'), 'expired ids leave the index').to.equal(0);
    await b.stop();
    await sleep(300);
    expect(ids(a.view())).to.deep.equal(['ingest-a (self)']);
    await a.stop();
    expect(await redis.exists(`${prefix}{replicas}:ingest-a`)).to.equal(0);
  });
});
