// A sampler counts its own latency observations that are not yet synced to Redis (issue 19): quantiles are
// the other replicas' window merged with this replica's own, and a burst on a new (service, operation)
// key is judged on what this replica saw so far, not on the count of the last sync (which is 0 for a new
// key). No Redis is reachable here: the state answers from local data, as it must during an outage too.

import { expect } from 'chai';
import { RedisSamplingState } from '../../../../processors/tail-sampling/state';
import { SlicedSketch, localDeltaStale } from '../../../../processors/tail-sampling/state/windows';

describe('sampling state: own not-yet-synced latency observations count', () => {
  it('a burst on a new key reaches min_observations without a sync (as the embedded mode does)', async () => {
    const s = new RedisSamplingState({ url: 'redis://127.0.0.1:1', syncIntervalMs: 60_000 });
    const counts: number[] = [];
    for (let i = 0; i < 2000; i++) {
      // The latency policy reads the quantile, then the decider records the root's duration.
      counts.push(s.latencyQuantiles('checkout', 'GET /new')?.count ?? 0);
      s.recordLatency('checkout', 'GET /new', i % 10 === 0 ? 900_000 : 10_000);
    }
    const q = s.latencyQuantiles('checkout', 'GET /new');
    expect(q?.count).to.be.within(Math.floor(2000 / 1.1), 2000);
    // At most 10 % of the own observations may be missing from any answer (the cache's bound).
    counts.forEach((c, i) => expect(c, `answer ${i}`).to.be.at.least(Math.floor(i / 1.1)));
    expect(
      counts.findIndex((c) => c >= 100),
      'first answer with >= 100 observations',
    ).to.be.at.most(111);
    expect(q!.p95).to.be.closeTo(900_000, 900_000 * 0.02);
    await s.shutdown();
  });

  it('localDeltaStale: empty cache with data, growth beyond 10 %, and a fresh cache', () => {
    const opts = { relativeAccuracy: 0.01, maxBuckets: 2048 };
    const cluster = new SlicedSketch(opts);
    const mine = new SlicedSketch(opts);
    expect(localDeltaStale(undefined, cluster, mine)).to.equal(false);
    mine.add(1, 5);
    expect(localDeltaStale(undefined, cluster, mine)).to.equal(true);
    for (let i = 0; i < 100; i++) cluster.add(1, 10);
    const cached = { p50: 10, p95: 10, p99: 10, count: 101 };
    expect(localDeltaStale(cached, cluster, mine)).to.equal(false);
    for (let i = 0; i < 10; i++) mine.add(1, 5);
    expect(localDeltaStale(cached, cluster, mine), '10 new of 101 cached').to.equal(false);
    for (let i = 0; i < 2; i++) mine.add(1, 5);
    expect(localDeltaStale(cached, cluster, mine), '12 new of 101 cached').to.equal(true);
  });
});
