// The sampling state and the replica announcement on a real Redis Cluster that requires TLS and an ACL
// user with a password: 3 private masters started by the test, certificates made at test time. The state
// syncs and reads the ledger through it; a wrong password is one clear log line and the health says so. Also
// one TLS server reached by a rediss:// URL with the password in a file.

import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReplicaRegistry } from '../../pipeline/runtime/replicas';
import { RedisSamplingState } from '../../processors/tail-sampling/state';
import { captureLogger, PASSWORD, SecureRedisSet, sleep, USER, waitFor } from './redis-secure-helpers';
import { keptDecision } from './sampling-state-redis-helpers';

describe('integration: Redis Cluster with TLS and an ACL user', function () {
  this.timeout(90_000);
  let set: SecureRedisSet;
  let nodes: string[];
  const open: Array<{ shutdown(): Promise<void> }> = [];

  before(async () => {
    set = new SecureRedisSet();
    nodes = (await set.cluster()).map((p) => `127.0.0.1:${p}`);
  });

  after(async () => {
    await Promise.all(open.splice(0).map((s) => s.shutdown()));
    await set?.stopAll();
  });

  const make = async (password: string, logger = captureLogger().logger): Promise<RedisSamplingState> => {
    const s = new RedisSamplingState({
      clusterNodes: nodes,
      username: USER,
      password,
      tls: set.tls,
      keyPrefix: `tusk-it:tls:${process.pid}:`,
      syncIntervalMs: 200,
      latencyRefreshMs: 200,
      logger,
    });
    open.push(s);
    await s.start();
    return s;
  };

  it('syncs shared aggregates and the ledger through the TLS cluster', async () => {
    const a = await make(PASSWORD);
    const b = await make(PASSWORD);
    expect(a.health(), a.health().detail).to.include({ ready: true, degraded: false });
    expect(a.health().detail).to.contain('redis cluster tls 127.0.0.1:');
    for (let i = 0; i < 50; i++) {
      a.recordLatency('svc', 'op', 1000);
      b.recordLatency('svc', 'op', 100_000);
    }
    await a.syncNow();
    await b.syncNow();
    await sleep(250);
    await a.syncNow();
    expect(a.latencyQuantiles('svc', 'op')?.count, 'both replicas observations').to.equal(100);

    const ids = Array.from({ length: 64 }, (_, i) => i.toString(16).padStart(32, '0'));
    const dec = (id: string, policy: string) => keptDecision(id, policy, Date.now());
    expect((await a.recordDecisions(ids.map((id) => dec(id, 'A')))).size).to.equal(0);
    expect(a.stats().pendingDecisions, 'written to Redis, not queued').to.equal(0);
    const earlier = await b.recordDecisions(ids.map((id) => dec(id, 'B')));
    expect(earlier.size, 'b follows a').to.equal(ids.length);
    const c = await make(PASSWORD);
    const found = await c.lookupDecisions(ids);
    expect(found.size).to.equal(ids.length);
    expect([...found.values()].every((r) => r.policy === 'A')).to.equal(true);
    expect(a.stats().errors + b.stats().errors + c.stats().errors).to.equal(0);
  });

  it('announces the replica through the same settings', async () => {
    const registry = new ReplicaRegistry({
      redis: {
        url: 'redis://127.0.0.1:6379',
        clusterNodes: nodes,
        username: USER,
        password: PASSWORD,
        tls: set.tls,
        keyPrefix: `tusk-it:tls-replicas:${process.pid}:`,
      },
      self: () => ({ id: 'r-1', pipelines: ['sample'], adminUrl: null, version: 't', hostname: 'h', startedAt: 1 }),
      refreshMs: 200,
    });
    open.push({ shutdown: () => registry.stop() });
    registry.start();
    const view = await waitFor('a successful refresh', 10_000, () => {
      const v = registry.view();
      return v.available && v.error === null ? v : undefined;
    });
    expect(view.replicas.map((r) => r.id)).to.deep.equal(['r-1']);
  });

  it('a wrong password: one clear error line, the health says why, the state decides locally', async () => {
    const { logger, lines } = captureLogger();
    const s = await make('not-the-password', logger);
    await sleep(1500); // several reconnect attempts
    const h = s.health();
    expect(h).to.include({ ready: true, degraded: true });
    expect(h.detail).to.match(/authentication failed: WRONGPASS .*\(check redis username \/ password\)/);
    expect(h.detail).to.contain('deciding from local state');
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg)).to.have.length(1);
    expect(errors[0].msg).to.match(/^sampling state: redis authentication failed: WRONGPASS /);
    expect(errors[0].msg).to.match(/\(check redis username \/ password\); deciding from local state, retrying$/);
    expect(JSON.stringify(lines)).to.not.contain('not-the-password');
  });

  it('one TLS server too: a rediss:// URL with the ACL user, the password from a file, the CA from tls', async () => {
    const port = await set.dataNode('single');
    const passwordFile = join(set.dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    const s = new RedisSamplingState({
      url: `rediss://${USER}@127.0.0.1:${port}`,
      passwordFile,
      tls: set.tls,
      keyPrefix: `tusk-it:tls-single:${process.pid}:`,
      logger: captureLogger().logger,
    });
    open.push(s);
    await s.start();
    expect(s.health(), s.health().detail).to.include({ ready: true, degraded: false });
    expect(s.health().detail).to.contain(`redis rediss://127.0.0.1:${port} ok`);
    const id = 'ab'.repeat(16);
    expect((await s.recordDecisions([keptDecision(id, 'p', 1)])).size).to.equal(0);
    expect(s.stats().pendingDecisions).to.equal(0);
  });
});
