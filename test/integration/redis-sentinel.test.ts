// The sampling state on a real Sentinel group: a master and a replica (TLS, ACL user) watched by 3 sentinels
// (TLS, their own password), all private processes on loopback started by the test. The state works through
// the master Sentinel names; after SENTINEL FAILOVER, then a kill -9 of the new master, it follows each new
// master, and every ledger write acknowledged after the failover completed (and the ones replicated before
// it) can be read back.

import { expect } from 'chai';
import { RedisSamplingState } from '../../processors/tail-sampling/state';
import type { LedgerRecord } from '../../processors/tail-sampling/state';
import {
  captureLogger,
  MASTER_NAME,
  PASSWORD,
  SecureRedisSet,
  SENTINEL_PASSWORD,
  sleep,
  USER,
  waitFor,
} from './redis-secure-helpers';
import { keptDecision } from './sampling-state-redis-helpers';

describe('integration: Redis Sentinel with TLS and passwords', function () {
  this.timeout(120_000);
  let set: SecureRedisSet;
  let group: { master: number; replica: number; sentinels: number[] };
  const open: RedisSamplingState[] = [];
  const prefix = `tusk-it:sentinel:${process.pid}:`;

  before(async () => {
    set = new SecureRedisSet();
    group = await set.sentinelGroup();
  });

  after(async () => {
    await Promise.all(open.splice(0).map((s) => s.shutdown()));
    await set?.stopAll();
  });

  const make = async (sentinelPassword = SENTINEL_PASSWORD, logger = captureLogger().logger) => {
    const s = new RedisSamplingState({
      username: USER,
      password: PASSWORD,
      tls: set.tls,
      sentinel: {
        master_name: MASTER_NAME,
        nodes: group.sentinels.map((p) => `127.0.0.1:${p}`),
        password: sentinelPassword,
      },
      keyPrefix: prefix,
      syncIntervalMs: 200,
      logger,
    });
    open.push(s);
    await s.start();
    return s;
  };

  const decisions = (from: number, n: number, policy: string): LedgerRecord[] =>
    Array.from({ length: n }, (_, i) => keptDecision((from + i).toString(16).padStart(32, '0'), policy, Date.now()));

  /**
   * failover: writes a batch (replicated before the failover), runs `trigger`, waits until the failover is
   * complete (the sentinels name `to` as master, `to` takes writes, `from` is demoted or gone) and the state
   * synced, then writes a second batch; both must be readable through a fresh client. Returns the state's
   * error count during the switch (requests that failed).
   */
  const failover = async (
    s: RedisSamplingState,
    from: number,
    to: number,
    batch: number,
    trigger: () => void,
  ): Promise<number> => {
    const before = decisions(batch, 100, `before-${batch}`);
    expect((await s.recordDecisions(before)).size).to.equal(0);
    expect(s.stats().pendingDecisions, 'written, not queued').to.equal(0);
    // acknowledged by the replica too before the failover starts (replication is asynchronous)
    expect(set.cli(from, 'data', 'wait', '1', '5000')).to.equal('1');
    const errorsBefore = s.stats().errors;

    trigger();
    await waitFor(`the sentinels to name ${to} as master`, 30_000, () =>
      group.sentinels.every((p) => set.masterPort(p) === to) ? true : undefined,
    );
    await waitFor(`${to} to take writes`, 30_000, () =>
      set.tryCli(to, 'data', 'role')?.startsWith('master') ? true : undefined,
    );
    // The failover is complete once the old master is demoted (or gone): until then it still takes writes,
    // which its resync from the new master then discards (Redis replication is asynchronous).
    await waitFor(`${from} to be demoted or gone`, 30_000, () => {
      const role = set.tryCli(from, 'data', 'role');
      return role === undefined || role.startsWith('slave') ? true : undefined;
    });
    // the state reconnects to the new master by itself (failover detector; READONLY -> reconnect)
    await waitFor('a successful sync on the new master', 30_000, async () => {
      await s.syncNow();
      return !s.health().degraded && s.stats().pendingDecisions === 0 ? true : undefined;
    });

    const after = decisions(batch + 0x100, 100, `after-${batch}`);
    expect((await s.recordDecisions(after)).size).to.equal(0);
    expect(s.stats().pendingDecisions, 'acknowledged by the new master').to.equal(0);

    const reader = await make();
    const all = [...before, ...after];
    const found = await reader.lookupDecisions(all.map((d) => d.traceId));
    const lost = all.filter((d) => found.get(d.traceId)?.policy !== d.policy).map((d) => d.traceId);
    expect(lost, 'acknowledged ledger writes lost').to.deep.equal([]);
    await reader.shutdown();
    return s.stats().errors - errorsBefore;
  };

  it('works through the master, follows SENTINEL FAILOVER, then a kill -9 of the new master', async () => {
    const s = await make();
    expect(s.health(), s.health().detail).to.include({ ready: true, degraded: false });
    expect(s.health().detail).to.contain(`redis sentinel tls ${MASTER_NAME}@127.0.0.1:`);

    const e1 = await failover(s, group.master, group.replica, 0x1000, () => {
      expect(set.cli(group.sentinels[0], 'sentinel', 'sentinel', 'failover', MASTER_NAME)).to.equal('OK');
    });
    await waitFor('the old master to serve as a replica', 30_000, () =>
      set.tryCli(group.master, 'data', 'info', 'replication')?.includes('master_link_status:up') ? true : undefined,
    );

    const e2 = await failover(s, group.replica, group.master, 0x3000, () => set.kill9(group.replica));
    console.log(
      `      sentinel: SENTINEL FAILOVER ${group.master} -> ${group.replica} (${e1} failed requests), ` +
        `kill -9 ${group.replica} -> ${group.master} (${e2} failed requests); 400 ledger writes read back`,
    );
  });

  it("a wrong sentinel password: one clear error line naming the sentinels' password, health says why", async () => {
    const { logger, lines } = captureLogger();
    const s = await make('not-the-sentinel-password', logger);
    await sleep(2500); // several rounds over the 3 sentinels
    expect(s.health()).to.include({ ready: true, degraded: true });
    expect(s.health().detail).to.match(/authentication failed: .*\(check redis sentinel username \/ password\)/);
    const errors = lines.filter((l) => l.level >= 50).map((l) => l.msg);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/^sampling state: redis authentication failed: .*WRONGPASS/);
    expect(JSON.stringify(lines)).to.not.contain('not-the-sentinel-password');
  });
});
