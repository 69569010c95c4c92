// Integration test of RedisSamplingState on a real Redis Cluster (`clusterNodes`): a private 3-master
// cluster on loopback ports. Every script call and MGET stays inside one hash slot (no CROSSSLOT errors),
// the data spreads over the masters, and two replicas share latency, rates and the ledger.

import { expect } from 'chai';
import { RedisSamplingState } from '../../processors/tail-sampling/state';
import { FakeClock } from '../processors/tail-sampling/state/random';
import { keptDecision, PrivateCluster, uniquePrefix } from './sampling-state-redis-helpers';

describe('integration: RedisSamplingState on a Redis Cluster', function () {
  this.timeout(30_000);
  let cluster: PrivateCluster;
  const open: RedisSamplingState[] = [];

  before(async () => {
    cluster = await PrivateCluster.start();
  });

  after(async () => {
    await Promise.all(open.splice(0).map((s) => s.shutdown()));
    await cluster?.destroy();
  });

  it('shares state between replicas with per-shard scripts, spread over the masters', async () => {
    const clock = new FakeClock(Date.UTC(2025, 5, 1, 10, 0, 0));
    const prefix = uniquePrefix('cluster');
    const make = async (): Promise<RedisSamplingState> => {
      const s = new RedisSamplingState({
        clusterNodes: cluster.addresses,
        keyPrefix: prefix,
        shards: 16,
        latencyRefreshMs: 1000,
        now: clock.now,
      });
      open.push(s);
      await s.start();
      return s;
    };
    const a = await make();
    const b = await make();
    expect(a.health(), a.health().detail).to.include({ ready: true, degraded: false });

    const services = Array.from({ length: 40 }, (_, i) => `svc-${i}`);
    for (let t = 0; t < 12; t++) {
      for (const s of services) {
        for (let i = 0; i < 5; i++) {
          a.recordLatency(s, 'op', 1000);
          b.recordLatency(s, 'op', 100_000);
          a.recordSeen(s);
          b.recordSeen(s);
          a.recordTraceOutcome(s, false);
        }
      }
      clock.advance(1000);
      await a.syncNow();
      await b.syncNow();
    }
    await a.syncNow();
    const sa = a.stats();
    expect(sa.errors, 'no failed request (e.g. CROSSSLOT)').to.equal(0);
    expect(sa.pendingObservations).to.equal(0);
    for (const s of services) {
      const q = a.latencyQuantiles(s, 'op')!;
      expect(q.count, s).to.equal(12 * 10);
      expect(q.p99).to.be.closeTo(100_000, 1000);
      expect(q.p50).to.be.closeTo(1000, 10); // rank 59.5 of 120: the lower half
      expect(a.clusterRate(s)).to.be.closeTo(10, 0.5);
    }
    // One round trip per shard with work, per tick: at most 16 per tick, whatever the number of keys.
    expect(sa.roundTrips / sa.syncs).to.be.at.most(16);

    const ids = Array.from({ length: 200 }, (_, i) => `${i.toString(16).padStart(32, '0')}`);
    const dec = (id: string, policy: string) => keptDecision(id, policy, clock.t);
    expect((await a.recordDecisions(ids.map((id) => dec(id, 'A')))).size).to.equal(0);
    const earlier = await b.recordDecisions(ids.map((id) => dec(id, 'B')));
    expect(earlier.size).to.equal(ids.length);
    const c = await make();
    const found = await c.lookupDecisions(ids);
    expect([...found.values()].every((r) => r.policy === 'A')).to.equal(true);
    expect(found.size).to.equal(ids.length);
    expect(b.stats().errors + c.stats().errors).to.equal(0);

    // Dropped traces (fingerprints in slot fields of the shard's bucket hash) are first-wins across replicas too.
    const dropped = Array.from({ length: 300 }, (_, i) => `${(0x10000 + i).toString(16).padStart(32, '0')}`);
    const drop = (id: string) => ({ ...dec(id, 'A'), decision: 'not_sampled' as const });
    expect((await a.recordDecisions(dropped.map(drop))).size).to.equal(0);
    const late = await b.recordDecisions(dropped.map((id) => dec(id, 'B')));
    expect(late.size, 'b follows every earlier drop').to.equal(dropped.length);
    expect([...late.values()].every((r) => r.decision === 'not_sampled')).to.equal(true);
    const cold = await make();
    const seen = await cold.lookupDecisions(dropped);
    expect(seen.size).to.equal(dropped.length);
    const byFingerprint = [...seen.values()].filter((r) => r.fingerprintOnly !== undefined).length;
    expect(byFingerprint, 'most drops are fingerprints only (sample 0.01)').to.be.greaterThan(280);
    expect(a.stats().errors + b.stats().errors + cold.stats().errors, 'no CROSSSLOT or script error').to.equal(0);

    const perNode = await cluster.keysPerNode(prefix);
    expect(perNode.filter((n) => n > 0).length, `keys per node ${perNode}`).to.equal(3);
    console.log(
      `      cluster: ${sa.roundTrips} round trips over ${sa.syncs} syncs (${(sa.roundTrips / sa.syncs).toFixed(1)}/tick for 40 services x 3 kinds); keys per master ${perNode.join('/')}`,
    );
  });
});
