// Integration test of a real Redis outage under RedisSamplingState: the server is stopped (SHUTDOWN NOSAVE)
// while a replica keeps recording and deciding, then restarted with the same command. Nothing throws,
// calls fail fast, health says degraded, decisions fall back to the local ledger, and after the restart
// the replica resyncs: pending deltas and decisions are written, health recovers.
//
// The server is a private redis-server on its own loopback port, started with the stack script's flags,
// so stopping it does not break other test runs that share the stack Redis on 6379.

import { expect } from 'chai';
import type { DecisionRecord } from '../../pipeline/sdk/component';
import { RedisSamplingState } from '../../processors/tail-sampling/state';
import { PrivateRedis, sleep, uniquePrefix } from './sampling-state-redis-helpers';

function decision(traceId: string, policy: string): DecisionRecord {
  return { traceId, decision: 'sampled', policy, reason: `by ${policy}`, inputs: {}, decidedAt: Date.now() };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - t0;
}

describe('integration: RedisSamplingState through a real Redis outage', function () {
  this.timeout(20_000);
  let server: PrivateRedis;
  const open: RedisSamplingState[] = [];

  before(async () => {
    server = await PrivateRedis.start();
  });

  after(async () => {
    await Promise.all(open.splice(0).map((s) => s.shutdown()));
    await server.destroy();
  });

  it('keeps deciding while Redis is down, reports degraded, and resyncs after the restart', async () => {
    const prefix = uniquePrefix('outage');
    const opts = {
      url: server.url,
      keyPrefix: prefix,
      syncIntervalMs: 200,
      redisTimeoutMs: 500,
      latencyRefreshMs: 200,
    };
    const a = new RedisSamplingState(opts);
    open.push(a);
    await a.start();
    expect(a.health()).to.include({ ready: true, degraded: false });
    a.recordLatency('svc', 'op', 1000);
    expect((await a.recordDecisions([decision('before-outage', 'A')])).size).to.equal(0);
    await a.syncNow();

    await server.down();
    await until('degraded health', () => a.health().degraded === true, 5000);
    const down = a.health();
    expect(down.ready).to.equal(true);
    expect(down.detail)
      .to.match(/unreachable/)
      .and.match(/local state/);

    // Keep working for ~1.5 s with Redis down: nothing throws, nothing waits.
    const outageDecisions: DecisionRecord[] = [];
    let slowest = 0;
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < 1500; i++) {
      for (let j = 0; j < 100; j++) {
        a.recordLatency('svc', 'op', 50_000);
        a.recordSeen('svc');
        a.recordTraceOutcome('svc', j % 10 === 0);
      }
      const d = decision(`during-${i}`, 'A');
      outageDecisions.push(d);
      const s = Date.now();
      const earlier = await a.recordDecisions([d, decision('before-outage', 'A2')]);
      const found = await a.lookupDecisions([d.traceId, 'unknown']);
      slowest = Math.max(slowest, Date.now() - s);
      expect(earlier.has(d.traceId)).to.equal(false);
      expect(earlier.get('before-outage')!.policy).to.equal('A'); // local ledger still answers first-wins
      expect(found.get(d.traceId)!.policy).to.equal('A');
      expect(a.latencyQuantiles('svc', 'op')!.p50).to.be.closeTo(50_000, 1000); // local deltas count
      expect(a.clusterRate('svc')).to.be.greaterThan(0);
      await sleep(50);
    }
    expect(slowest, 'ledger calls fail fast while Redis is down (ms)').to.be.lessThan(100);
    const pending = a.stats().pendingObservations;
    expect(pending).to.be.greaterThan(1000);
    expect(a.stats().pendingDecisions).to.equal(outageDecisions.length);
    expect(a.health().detail).to.contain(`${outageDecisions.length} decisions`);

    // Restart with the same command; the replica reconnects on its own and flushes what is pending.
    await server.up();
    const recoveredIn = await until('healthy again', () => a.health().degraded === false, 10_000);
    await until('pending flushed', () => a.stats().pendingObservations === 0 && a.stats().pendingDecisions === 0, 5000);
    console.log(
      `      recovered ${recoveredIn} ms after the restart; flushed ${pending} pending observations, ${outageDecisions.length} decisions`,
    );

    // A second replica sees what A recorded during the outage (the restarted server started empty).
    const b = new RedisSamplingState(opts);
    open.push(b);
    await b.start();
    b.latencyQuantiles('svc', 'op');
    await b.syncNow();
    const q = b.latencyQuantiles('svc', 'op')!;
    expect(q.count).to.be.at.least(pending / 3);
    expect(q.p50).to.be.closeTo(50_000, 1000);
    const found = await b.lookupDecisions(outageDecisions.map((d) => d.traceId));
    expect(found.size).to.equal(outageDecisions.length);
  });

  it('a decision taken locally during the outage yields to one recorded in Redis meanwhile', async () => {
    const prefix = uniquePrefix('outage-conflict');
    // A's loop is slow (60 s): the test drives its ticks, so B can write first after the restart.
    const a = new RedisSamplingState({
      url: server.url,
      keyPrefix: prefix,
      syncIntervalMs: 60_000,
      redisTimeoutMs: 500,
    });
    const b = new RedisSamplingState({
      url: server.url,
      keyPrefix: prefix,
      syncIntervalMs: 60_000,
      redisTimeoutMs: 500,
    });
    open.push(a, b);
    await a.start();
    await b.start();
    await server.down();
    await until('A sees the outage', () => a.health().degraded === true, 5000);
    expect((await a.recordDecisions([decision('contested', 'A-local')])).size).to.equal(0);
    expect(a.stats().pendingDecisions).to.equal(1);
    await server.up();
    await until(
      'B reconnected',
      async () => {
        await b.syncNow();
        return b.health().degraded === false;
      },
      10_000,
    );
    expect((await b.recordDecisions([decision('contested', 'B')])).size).to.equal(0);
    await until(
      'A resynced',
      async () => {
        await a.syncNow();
        return a.health().degraded === false && a.stats().pendingDecisions === 0;
      },
      10_000,
    );
    expect((await a.lookupDecisions(['contested'])).get('contested')!.policy).to.equal('B');
    expect((await a.recordDecisions([decision('contested', 'A-again')])).get('contested')!.policy).to.equal('B');
  });

  it('starts degraded (without throwing or blocking) when Redis is down, and recovers when it comes up', async () => {
    await server.down();
    const a = new RedisSamplingState({
      url: server.url,
      keyPrefix: uniquePrefix('cold'),
      syncIntervalMs: 200,
      redisTimeoutMs: 500,
    });
    open.push(a);
    const t0 = Date.now();
    await a.start();
    expect(Date.now() - t0).to.be.lessThan(1000);
    expect(a.health()).to.include({ ready: true, degraded: true });
    a.recordSeen('k');
    expect(a.clusterRate('k')).to.be.greaterThan(0);
    expect((await a.recordDecisions([decision('cold-1', 'A')])).size).to.equal(0);
    await server.up();
    await until('healthy', () => a.health().degraded === false && a.stats().pendingDecisions === 0, 10_000);
  });
});
