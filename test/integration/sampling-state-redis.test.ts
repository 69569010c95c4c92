// Integration tests of RedisSamplingState against the real stack Redis (127.0.0.1:6379): two instances
// ("replicas") with a unique key prefix per test share latency sketches, rates, error state and the
// decision ledger (which names the deciding replica, so a tail-sampling processor on another replica says
// where the explanation is; dropped traces outside the sample recorded in full leave a fingerprint that late
// spans and replays follow, unless a must-keep policy keeps what arrived), and the Redis cost stays a handful
// of round trips for thousands of observations, ~125 bytes per full record and < 20 per fingerprint. The clock of both replicas is a shared fake clock, so
// time-bucketed data is deterministic.

import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { DecisionRecord } from '../../pipeline/sdk/component';
import { configSchema } from '../../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../../processors/tail-sampling/processor';
import {
  createSamplingState,
  type RedisSamplingState,
  type LedgerRecord,
  type SamplingStateOptions,
} from '../../processors/tail-sampling/state';
import { inDroppedSample, traceFingerprint } from '../../processors/tail-sampling/state/ledger-fingerprint';
import { DEFAULT_LEDGER_DROPPED_SAMPLE, DEFAULT_LEDGER_TTL_MS } from '../../processors/tail-sampling/state/options';
import { LEDGER_BUCKETS_PER_TTL } from '../../processors/tail-sampling/state/redis-ledger';
import { FINGERPRINT_POLICY } from '../../processors/tail-sampling/state/types';
import { traceIdHash } from '../../processors/tail-sampling/trace-view';
import { rng } from '../helpers/random';
import { chunkOf, newSpanId, newTraceId, settings } from '../processors/tail-sampling/helpers/fixtures';
import { FakeNext, HOST } from '../processors/tail-sampling/helpers/harness';
import { DISTRIBUTIONS, exactQuantile, FakeClock } from '../processors/tail-sampling/state/random';
import {
  deleteByPrefix,
  ensureStackRedis,
  keysByPrefix,
  STACK_REDIS_URL,
  uniquePrefix,
} from './sampling-state-redis-helpers';

const T0 = Date.UTC(2025, 5, 1, 10, 0, 0);

function decision(traceId: string, policy: string, d: DecisionRecord['decision'] = 'sampled'): DecisionRecord {
  return {
    traceId,
    decision: d,
    policy,
    reason: `by ${policy}`,
    inputs: { p95_us: 1234.5, boosted: false },
    decidedAt: T0,
  };
}

/** What another replica reads from Redis: the record without reason and inputs (kept only where decided), naming the replica. */
function fromRedis(r: DecisionRecord, decidedBy: string): LedgerRecord {
  return { ...r, reason: '', inputs: {}, decidedBy };
}

function traceId(i: number): string {
  return i.toString(16).padStart(32, '0');
}

describe('integration: RedisSamplingState on the stack Redis', function () {
  this.timeout(20_000);
  let prefix: string;
  let clock: FakeClock;
  const open: RedisSamplingState[] = [];

  before(async () => {
    await ensureStackRedis();
  });

  beforeEach(function () {
    prefix = uniquePrefix(this.currentTest!.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 24));
    clock = new FakeClock(T0);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.shutdown()));
    await deleteByPrefix(STACK_REDIS_URL, prefix);
  });

  async function replica(extra: SamplingStateOptions = {}): Promise<RedisSamplingState> {
    const s = createSamplingState('redis', {
      url: STACK_REDIS_URL,
      keyPrefix: prefix,
      syncIntervalMs: 1000,
      latencyRefreshMs: 1000, // read every key each tick (tests drive ticks by hand)
      now: clock.now,
      ...extra,
    }) as RedisSamplingState;
    open.push(s);
    await s.start();
    expect(s.health(), 'connected at start').to.include({ ready: true, degraded: false });
    return s;
  }

  /** One tick on every replica: writes first, then a second round so everyone reads everyone's writes. */
  async function syncAll(...rs: RedisSamplingState[]): Promise<void> {
    for (const r of rs) await r.syncNow();
    for (const r of rs) await r.syncNow();
  }

  it('replicas see each other latency: cluster-wide quantiles within the sketch accuracy', async () => {
    const a = await replica();
    const b = await replica();
    const u = rng(42);
    const all: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const va = DISTRIBUTIONS['lognormal(median 20ms, sigma 1)'](u);
      const vb = DISTRIBUTIONS['bimodal(cache hit 300us / miss 80ms)'](u);
      a.recordLatency('checkout', 'POST /pay', va);
      b.recordLatency('checkout', 'POST /pay', vb);
      all.push(va, vb);
    }
    await syncAll(a, b);
    const sorted = all.sort((x, y) => x - y);
    for (const r of [a, b]) {
      const q = r.latencyQuantiles('checkout', 'POST /pay')!;
      expect(q.count).to.equal(40_000);
      for (const [name, p] of [
        ['p50', 0.5],
        ['p95', 0.95],
        ['p99', 0.99],
      ] as const) {
        const exact = exactQuantile(sorted, p);
        expect(Math.abs(q[name] - exact) / exact, `${name}: ${q[name]} vs exact ${exact}`).to.be.at.most(
          0.01 * (1 + 1e-9),
        );
      }
    }
    // A replica that never saw the key learns it on its next sync.
    const c = await replica();
    expect(c.latencyQuantiles('checkout', 'POST /pay')).to.equal(undefined);
    await c.syncNow();
    expect(c.latencyQuantiles('checkout', 'POST /pay')!.count).to.equal(40_000);
    // And the data is in Redis under the prefix, with the hash tag.
    const keys = await keysByPrefix(STACK_REDIS_URL, prefix);
    expect(keys.some((k) => k.startsWith(`${prefix}{s0}:lat:`))).to.equal(true);
  });

  it('latency: commands per tick grow with slices, not keys or buckets; a restarted replica does not double count', async () => {
    const a = await replica();
    const u = rng(7);
    for (let i = 0; i < 50_000; i++)
      a.recordLatency(`svc-${i % 50}`, `op-${i % 10}`, DISTRIBUTIONS['lognormal(median 20ms, sigma 1)'](u));
    await a.syncNow(); // 50 keys (lcm), hundreds of distinct buckets
    const before = a.stats!().commands;
    for (let i = 0; i < 50_000; i++)
      a.recordLatency(`svc-${i % 50}`, `op-${i % 10}`, DISTRIBUTIONS['lognormal(median 20ms, sigma 1)'](u));
    clock.advance(1000);
    await a.syncNow();
    // One HSET + PEXPIRE for the slice, SMEMBERS of the due slices (latencyRefreshMs = 1 tick here), no HMGET
    // (no other replica yet): a few commands for 50 000 observations of 50 keys.
    expect(a.stats!().commands - before).to.be.at.most(6);
    const keys = (await keysByPrefix(STACK_REDIS_URL, prefix)).filter((k) => k.includes(':lat'));
    expect(keys.sort()).to.deep.equal([
      `${prefix}{s0}:lat:${Math.floor(T0 / 60_000)}`,
      `${prefix}{s0}:latr:${Math.floor(T0 / 60_000)}`,
    ]);
    // Writes are idempotent (whole cumulative sketch per replica field): syncing again changes nothing.
    await a.syncNow();
    await a.shutdown();
    // A restarted replica gets a new id: its new observations add to the old field, they do not replace or double it.
    const a2 = await replica();
    for (let i = 0; i < 1000; i++) a2.recordLatency('svc-0', 'op-0', 5000);
    const b = await replica();
    b.latencyQuantiles('svc-0', 'op-0');
    await syncAll(a2, b);
    expect(b.latencyQuantiles('svc-0', 'op-0')!.count).to.equal(2000 + 1000);
    expect(a2.latencyQuantiles('svc-0', 'op-0')!.count).to.equal(2000 + 1000);
  });

  it('cluster rate sums both replicas', async () => {
    const a = await replica({ rateWindowMs: 10_000 });
    const b = await replica({ rateWindowMs: 10_000 });
    for (let t = 0; t < 15; t++) {
      for (let i = 0; i < 30; i++) a.recordSeen('checkout');
      for (let i = 0; i < 20; i++) b.recordSeen('checkout');
      for (let i = 0; i < 7; i++) b.recordSeen('search');
      clock.advance(1000);
      await a.syncNow();
      await b.syncNow();
    }
    await a.syncNow();
    expect(a.clusterRate('checkout')).to.be.closeTo(50, 1);
    expect(b.clusterRate('checkout')).to.be.closeTo(50, 1);
    // A never recorded "search": it learns B's rate after registering interest and one sync.
    a.clusterRate('search');
    await a.syncNow();
    expect(a.clusterRate('search')).to.be.closeTo(7, 0.5);
  });

  it('error state is cluster-wide: a spike on one replica degrades the service everywhere', async () => {
    const opts = { errorBucketMs: 10_000, errorWindowMs: 60_000, minErrorVolume: 20, degradedBoost: 2 };
    const a = await replica(opts);
    const b = await replica(opts);
    const feed = async (seconds: number, rateA: number, rateB: number): Promise<void> => {
      for (let t = 0; t < seconds; t++) {
        for (let i = 0; i < 10; i++) {
          a.recordTraceOutcome('pay', i < rateA * 10);
          b.recordTraceOutcome('pay', i < rateB * 10);
        }
        clock.advance(1000);
        await a.syncNow();
        await b.syncNow();
      }
    };
    await feed(240, 0.1, 0.1); // 4 minutes at 10 % errors on both
    const calm = a.serviceErrorState('pay');
    expect(calm.baseline).to.be.closeTo(0.1, 0.02);
    expect(calm.degraded).to.equal(false);
    await feed(40, 0.1, 0.9); // B's half of the traffic goes to 90 % errors; A stays at 10 %
    for (const r of [a, b]) {
      const st = r.serviceErrorState('pay');
      expect(st.errorRate, 'cluster-wide recent rate').to.be.greaterThan(0.3);
      expect(st).to.include({ degraded: true, boost: 2 });
    }
  });

  it('ledger: the first decision wins across replicas, also when racing', async () => {
    // Every dropped trace recorded in full here (what the previous version wrote): the records carry policies.
    const a = await replica({ ledgerDroppedSample: 1 });
    const b = await replica({ ledgerDroppedSample: 1 });
    const first = Array.from({ length: 100 }, (_, i) => decision(traceId(i), 'errors'));
    expect((await a.recordDecisions(first)).size).to.equal(0);
    const second = Array.from({ length: 100 }, (_, i) => decision(traceId(50 + i), 'rest', 'not_sampled'));
    const earlier = await b.recordDecisions(second);
    expect(earlier.size).to.equal(50);
    for (let i = 50; i < 100; i++)
      expect(earlier.get(traceId(i))).to.deep.equal(fromRedis(decision(traceId(i), 'errors'), a.replicaId));

    // Race: both replicas decide the same 300 new traces at the same time; exactly one decision per trace wins.
    const ids = Array.from({ length: 300 }, (_, i) => traceId(1000 + i));
    const [ea, eb] = await Promise.all([
      a.recordDecisions(ids.map((id) => decision(id, 'A'))),
      b.recordDecisions(ids.map((id) => decision(id, 'B', 'not_sampled'))),
    ]);
    for (const id of ids) {
      const aLost = ea.has(id);
      const bLost = eb.has(id);
      expect(aLost !== bLost, `exactly one replica loses ${id}`).to.equal(true);
      if (aLost) expect(ea.get(id)!.policy).to.equal('B');
      if (bLost) expect(eb.get(id)!.policy).to.equal('A');
    }
    // A third replica (cold local cache) reads the winners from Redis; only then does it hold them locally.
    const c = await replica({ ledgerDroppedSample: 1 });
    expect(c.recentDecision(traceId(120)), 'nothing local before a lookup').to.equal(undefined);
    const found = await c.lookupDecisions([...ids, traceId(10), traceId(120), 'f'.repeat(32)]);
    expect(found.size).to.equal(ids.length + 2);
    for (const id of ids) expect(found.get(id)!.policy).to.equal(ea.has(id) ? 'B' : 'A');
    expect(found.get(traceId(10))!.policy).to.equal('errors');
    expect(found.get(traceId(120))!.policy).to.equal('rest');
    expect(found.get(traceId(120))).to.deep.equal(
      fromRedis(decision(traceId(120), 'rest', 'not_sampled'), b.replicaId),
    );
    expect(c.recentDecision(traceId(120)), 'held locally after the lookup').to.deep.equal(found.get(traceId(120)));
    // The deciding replica still has the full record (reason, inputs) in its local ledger, also without I/O.
    expect(b.recentDecision(traceId(120))).to.deep.equal({
      ...decision(traceId(120), 'rest', 'not_sampled'),
      decidedBy: b.replicaId,
    });
    expect(b.recentDecision(traceId(60)), "b lost that trace to a: it holds a's decision").to.deep.equal(
      fromRedis(decision(traceId(60), 'errors'), a.replicaId),
    );
    expect(a.recentDecision(traceId(60))).to.deep.equal({ ...decision(traceId(60), 'errors'), decidedBy: a.replicaId });
    expect((await b.lookupDecisions([traceId(120)])).get(traceId(120))).to.deep.equal({
      ...decision(traceId(120), 'rest', 'not_sampled'),
      decidedBy: b.replicaId,
    });
    expect(new Set([a.replicaId, b.replicaId, c.replicaId]).size, 'replica ids differ').to.equal(3);
  });

  it('ledger entries expire after ledgerTtlMs in Redis', async () => {
    const a = await replica({ ledgerTtlMs: 300 });
    await a.recordDecisions([decision(traceId(1), 'p')]);
    const b = await replica({ ledgerTtlMs: 300 });
    expect((await b.lookupDecisions([traceId(1)])).size).to.equal(1);
    await new Promise((r) => setTimeout(r, 400));
    const c = await replica({ ledgerTtlMs: 300 });
    expect((await c.lookupDecisions([traceId(1)])).size).to.equal(0);
    expect((await c.recordDecisions([decision(traceId(1), 'q')])).size).to.equal(0);
  });

  it('ledger: first decision wins across time buckets, and buckets older than ttl + one bucket are not read', async () => {
    const ttl = 60_000; // buckets of 15 s
    const a = await replica({ ledgerTtlMs: ttl });
    await a.recordDecisions([decision(traceId(1), 'early')]);
    clock.advance(50_000); // three buckets later, still inside the ttl
    const b = await replica({ ledgerTtlMs: ttl });
    const earlier = await b.recordDecisions([
      decision(traceId(1), 'late', 'not_sampled'),
      decision(traceId(2), 'late'),
    ]);
    expect(earlier.size).to.equal(1);
    expect(earlier.get(traceId(1))).to.deep.equal(fromRedis(decision(traceId(1), 'early'), a.replicaId));
    const c = await replica({ ledgerTtlMs: ttl });
    const found = await c.lookupDecisions([traceId(1), traceId(2)]);
    expect(found.get(traceId(1))!.policy).to.equal('early');
    expect(found.get(traceId(2))!.policy).to.equal('late');
    const buckets = (await keysByPrefix(STACK_REDIS_URL, prefix)).filter((k) => k.includes(':ledger:'));
    expect(buckets).to.have.length(2);
    clock.advance(30_000); // t = 80 s: the first bucket ([0, 15 s), live until 75 s) is no longer read; [45, 60 s) is
    const d = await replica({ ledgerTtlMs: ttl });
    const later = await d.lookupDecisions([traceId(1), traceId(2)]);
    expect(later.has(traceId(1))).to.equal(false);
    expect(later.get(traceId(2))!.policy).to.equal('late');
  });

  it('ledger: a processor on another replica names the deciding replica and carries the sampling threshold', async () => {
    const a = await replica();
    const b = await replica();
    expect(a.health().detail).to.contain(`replica ${a.replicaId}`);
    const processor = async (state: RedisSamplingState, policies: unknown[]) => {
      const next = new FakeNext();
      const p = new TailSamplingProcessor(settings(), configSchema.parse({ root_settle_delay: 0, policies }), next, {
        state,
        now: clock.now,
        autoTick: false,
      });
      await p.start(HOST);
      return { p, next };
    };
    const onA = await processor(a, [{ name: 'quarter', type: 'probabilistic', percentage: 25 }]);
    const onB = await processor(b, [{ name: 'none', type: 'never' }]);
    let kept = newTraceId();
    while (traceIdHash(kept) >= 0.25) kept = newTraceId();
    let dropped = newTraceId();
    while (traceIdHash(dropped) < 0.25) dropped = newTraceId();
    void onA.p.consumeTraces({ chunks: [chunkOf([{ traceId: kept }]), chunkOf([{ traceId: dropped }])] });
    clock.advance(100);
    await onA.p.tick();

    const full = await onA.p.explainDecision(kept);
    expect(full).to.deep.include({ decision: 'sampled', policy: 'quarter', decidedBy: a.replicaId });
    expect(full?.reason).to.match(/< rate 0.25$/);
    expect(full).to.not.have.property('explanation');
    const remote = await onB.p.explainDecision(kept);
    expect(remote).to.deep.include({
      decision: 'sampled',
      policy: 'quarter',
      decidedBy: a.replicaId,
      reason: '',
      decidedAt: full?.decidedAt,
    });
    expect(remote?.inputs).to.deep.equal({ sampling_threshold: 'c', adjusted_count: 4 });
    expect(remote?.explanation).to.contain(`held by replica ${a.replicaId}`);
    const remoteDropped = await onB.p.explainDecision(dropped);
    if (inDroppedSample(traceFingerprint(dropped), DEFAULT_LEDGER_DROPPED_SAMPLE)) {
      expect(remoteDropped).to.deep.include({
        decision: 'not_sampled',
        policy: '(none)',
        decidedBy: a.replicaId,
        inputs: {},
      });
    } else {
      // Outside the sample of dropped traces recorded in full: only a fingerprint in Redis.
      expect(remoteDropped).to.deep.include({
        decision: 'not_sampled',
        policy: FINGERPRINT_POLICY,
        kind: 'dropped-fingerprint',
        inputs: {},
      });
    }
    await Promise.all([onA.p.shutdown(), onB.p.shutdown()]);
  });

  it('ledger: values in Redis in the previous layouts decode; foreign or newer ones are ignored, counted', async () => {
    const a = await replica();
    await a.recordDecisions([decision(traceId(1), 'errors')]);
    const [hash] = (await keysByPrefix(STACK_REDIS_URL, prefix)).filter((k) => k.includes(':ledger:'));
    const redis = new Redis(STACK_REDIS_URL);
    try {
      await redis.hset(hash, {
        [traceId(2)]: 'srest\x1fmww0nbsm\x1frJl2B-07B,tf685\x1f', // written by the previous version
        [traceId(3)]: 'n(none)\x1fmww0nbsm', // the layout before the shared items
        [traceId(4)]: '{"decision":"sampled","policy":"rest"}', // foreign
        [traceId(5)]: 'srest\x1fmww0nbsm\x1frJl2B-07B,v2\x1f', // a newer, incompatible layout
      });
    } finally {
      redis.disconnect();
    }
    const metrics = new Registry();
    const c = await replica({ metrics });
    const found = await c.lookupDecisions([1, 2, 3, 4, 5].map(traceId));
    expect([...found.keys()].sort()).to.deep.equal([1, 2, 3].map(traceId));
    expect(found.get(traceId(2))).to.deep.equal({
      traceId: traceId(2),
      decision: 'sampled',
      policy: 'rest',
      reason: '',
      decidedAt: parseInt('mww0nbsm', 36),
      decidedBy: 'Jl2B-07B',
      inputs: { sampling_threshold: 'f685', adjusted_count: 2 ** 56 / (2 ** 56 - 0xf685 * 2 ** 40) },
    });
    expect(found.get(traceId(3))).to.deep.include({ decision: 'not_sampled', policy: '(none)', reason: '' });
    expect(c.recentDecision(traceId(2))?.policy, 'held locally from then on').to.equal('rest');
    expect(c.stats().undecodable).to.equal(2);
    const counted = (await metrics.getSingleMetric('tusk_state_ledger_undecodable_total')!.get()).values;
    const byReason = counted.map((v) => [v.labels.reason, v.value]).sort();
    expect(byReason).to.deep.equal([
      ['malformed', 1],
      ['unsupported_version', 1],
    ]);
  });

  /** A tail-sampling processor on `state`, ticking by hand on the shared clock; `st` holds its metrics. */
  async function processorOn(state: RedisSamplingState, config: Record<string, unknown>) {
    const next = new FakeNext();
    const st = settings();
    const p = new TailSamplingProcessor(st, configSchema.parse({ root_settle_delay: 0, ...config }), next, {
      state,
      now: clock.now,
      autoTick: false,
    });
    await p.start(HOST);
    const follows = async (result: string): Promise<number> => {
      const m = st.metrics.getSingleMetric('tusk_sampler_ledger_fingerprint_follows_total');
      const v = (await m!.get()).values.find((x) => x.labels.result === result);
      return v?.value ?? 0;
    };
    return { p, next, follows };
  }

  /** `n` new trace ids outside (or inside) the sample of dropped traces recorded in full at `rate`, passing `keep`. */
  function idsWhere(
    n: number,
    inSample: boolean,
    rate = DEFAULT_LEDGER_DROPPED_SAMPLE,
    keep = (_id: string) => true,
  ): string[] {
    const out: string[] = [];
    while (out.length < n) {
      const id = newTraceId();
      if (inDroppedSample(traceFingerprint(id), rate) === inSample && keep(id)) out.push(id);
    }
    return out;
  }

  it('ledger fingerprints: late spans and replays of dropped traces follow the first decision on another replica', async () => {
    const a = await replica();
    const b = await replica();
    const onA = await processorOn(a, { policies: [{ name: 'none', type: 'never' }] });
    // B would keep every trace: only the ledger (the fingerprints A wrote) makes it drop them.
    const onB = await processorOn(b, {
      decision_wait: '1s',
      policies: [
        { name: 'errors', type: 'status_code', codes: ['ERROR'] },
        { name: 'all', type: 'always_sample' },
      ],
    });
    const ids = idsWhere(40, false);
    const roots = ids.map(() => newSpanId());
    void onA.p.consumeTraces({ chunks: ids.map((id, i) => chunkOf([{ traceId: id, spanId: roots[i] }])) });
    clock.advance(100);
    await onA.p.tick();
    expect(onA.next.exportedTraceIds()).to.deep.equal([]);
    // Redis holds no full record of them: only slot fields (`~...`) and the entry count (`#`).
    const [hash] = (await keysByPrefix(STACK_REDIS_URL, prefix)).filter((k) => k.includes(':ledger:'));
    const redis = new Redis(STACK_REDIS_URL);
    let fields: string[];
    try {
      fields = await redis.hkeys(hash!);
    } finally {
      redis.disconnect();
    }
    expect(
      fields.filter((f) => !f.startsWith('~') && f !== '#'),
      'no full record',
    ).to.deep.equal([]);
    expect(fields).to.include('#');

    // Late spans (no root) of half of them, replays (root again) of the other half reach B, which never saw them.
    const late = ids.slice(0, 20).map((id, i) => chunkOf([{ traceId: id, parentSpanId: roots[i] }]));
    const replays = ids.slice(20).map((id, i) => chunkOf([{ traceId: id, spanId: roots[20 + i] }]));
    const settled = onB.p.consumeTraces({ chunks: [...late, ...replays] });
    for (let t = 0; t < 12; t++) {
      clock.advance(100);
      await onB.p.tick();
    }
    await settled;
    expect(onB.next.exportedTraceIds(), 'every one follows the drop').to.deep.equal([]);
    expect(await onB.follows('followed')).to.equal(40);
    expect(await onB.follows('overridden')).to.equal(0);
    // A further late span follows B's local store at once.
    void onB.p.consumeTraces({ chunks: [chunkOf([{ traceId: ids[0]!, parentSpanId: roots[0] }])] });
    clock.advance(100);
    await onB.p.tick();
    expect(onB.next.exportedTraceIds()).to.deep.equal([]);
    expect((await onB.p.explainDecision(ids[0]!))?.kind).to.equal('dropped-fingerprint');
    await Promise.all([onA.p.shutdown(), onB.p.shutdown()]);
  });

  it('ledger fingerprints: a forced false positive is counted, and never loses a trace a must-keep policy keeps', async () => {
    const a = await replica();
    // Forge the fingerprints of two traces nobody decided (what a collision with other traces' ids looks like).
    const [withError, plain] = [newTraceId(), newTraceId()];
    const bucket = Math.floor(clock.now() / (DEFAULT_LEDGER_TTL_MS / LEDGER_BUCKETS_PER_TTL));
    const key = `${prefix}{s0}:ledger:${bucket}`;
    const redis = new Redis(STACK_REDIS_URL);
    try {
      // Both may fall in the same slot (1 in 16): a slot's value is its fingerprints one after the other.
      const slots = new Map<string, Buffer>();
      for (const id of [withError, plain]) {
        const f = traceFingerprint(id);
        const field = `~${f.slot.slice(0, 1)}`;
        slots.set(field, Buffer.concat([slots.get(field) ?? Buffer.alloc(0), Buffer.from(f.fp, 'hex')]));
      }
      for (const [field, value] of slots) await redis.hset(key, field, value);
      await redis.hset(key, '#', '2');
      await redis.pexpire(key, 60_000);
    } finally {
      redis.disconnect();
    }
    const cold = await replica();
    const answer = await cold.lookupDecisions([withError, plain]);
    expect(answer.get(withError)).to.deep.include({ decision: 'not_sampled', policy: FINGERPRINT_POLICY });
    expect(answer.get(withError)?.fingerprintOnly?.windowMs).to.equal(DEFAULT_LEDGER_TTL_MS / LEDGER_BUCKETS_PER_TTL);

    const onA = await processorOn(a, {
      policies: [
        { name: 'errors', type: 'status_code', codes: ['ERROR'] },
        { name: 'all', type: 'always_sample' },
      ],
    });
    void onA.p.consumeTraces({
      chunks: [chunkOf([{ traceId: withError, status: 'ERROR' }]), chunkOf([{ traceId: plain }])],
    });
    for (let t = 0; t < 3; t++) {
      clock.advance(100);
      await onA.p.tick();
    }
    // The error trace is kept (and counted); the other one follows the (false) drop: no must-keep policy keeps it.
    expect(onA.next.exportedTraceIds()).to.deep.equal([withError]);
    expect(onA.next.exportedSpans()[0]!.attributes).to.include({ 'sampling.policy': 'errors' });
    expect(await onA.follows('overridden')).to.equal(1);
    expect(await onA.follows('followed')).to.equal(1);
    // Its full record now wins over the fingerprint for every replica.
    const later = await (await replica()).lookupDecisions([withError]);
    expect(later.get(withError)).to.deep.include({ decision: 'sampled', policy: 'errors', decidedBy: a.replicaId });
    expect((await onA.p.explainDecision(withError))?.kind).to.equal('kept');
    await onA.p.shutdown();
  });

  it('ledger fingerprints: every slot width a bucket grew through is read (narrow ones after # passed 2048)', async () => {
    // 3000 drops outside the sample: the first ~2048 go to 1-digit slot fields, the others to 2-digit ones.
    const a = await replica();
    const ids = idsWhere(3000, false);
    for (let i = 0; i < ids.length; i += 500)
      await a.recordDecisions(ids.slice(i, i + 500).map((id) => decision(id, 'none', 'not_sampled')));
    const [hash] = (await keysByPrefix(STACK_REDIS_URL, prefix)).filter((k) => k.includes(':ledger:'));
    const redis = new Redis(STACK_REDIS_URL);
    let widths: number[];
    try {
      widths = [...new Set((await redis.hkeys(hash!)).filter((f) => f.startsWith('~')).map((f) => f.length - 1))];
    } finally {
      redis.disconnect();
    }
    expect(widths.sort()).to.deep.equal([1, 2]);
    const cold = await replica();
    const found = await cold.lookupDecisions(ids);
    expect(found.size, 'every drop is found from its fingerprint').to.equal(ids.length);
    expect([...found.values()].every((r) => r.decision === 'not_sampled' && r.fingerprintOnly !== undefined)).to.equal(
      true,
    );
    // A trace nobody decided is not found (with 3000 fingerprints, a false positive has a chance of ~10^-8).
    expect((await cold.lookupDecisions(idsWhere(1, false))).size).to.equal(0);
  });

  it('ledger: the admin lookup answers for kept, sampled-dropped and fingerprint-only dropped traces, saying which', async () => {
    const rate = 0.5;
    const a = await replica({ ledgerDroppedSample: rate });
    const b = await replica({ ledgerDroppedSample: rate });
    const onA = await processorOn(a, { policies: [{ name: 'half', type: 'probabilistic', percentage: 50 }] });
    const onB = await processorOn(b, { policies: [{ name: 'none', type: 'never' }] });
    const [kept] = idsWhere(1, true, rate, (id) => traceIdHash(id) < 0.5);
    const [sampled] = idsWhere(1, true, rate, (id) => traceIdHash(id) >= 0.5);
    const [fingerprint] = idsWhere(1, false, rate, (id) => traceIdHash(id) >= 0.5);
    void onA.p.consumeTraces({ chunks: [kept!, sampled!, fingerprint!].map((id) => chunkOf([{ traceId: id }])) });
    clock.advance(100);
    await onA.p.tick();

    const here = await Promise.all([kept!, sampled!, fingerprint!].map((id) => onA.p.explainDecision(id)));
    expect(here.map((e) => e?.kind)).to.deep.equal(['kept', 'dropped-sampled', 'dropped-fingerprint']);
    expect(here[0]).to.deep.include({ decision: 'sampled', policy: 'half', decidedBy: a.replicaId });
    expect(here[1]).to.deep.include({ decision: 'not_sampled', policy: '(none)' });
    expect(here[1]?.reason).to.not.equal('');
    expect(here[1]).to.not.have.property('explanation');
    expect(here[2]).to.deep.include({ decision: 'not_sampled', policy: '(none)', reason: '', decidedBy: a.replicaId });
    expect(here[2]?.explanation).to.contain(
      `decided by replica ${a.replicaId} by policy (none); its reason and inputs were not kept`,
    );

    const there = await Promise.all([kept!, sampled!, fingerprint!].map((id) => onB.p.explainDecision(id)));
    expect(there.map((e) => e?.kind)).to.deep.equal(['kept', 'dropped-sampled', 'dropped-fingerprint']);
    expect(there[0]?.explanation).to.contain(`held by replica ${a.replicaId}`);
    expect(there[1]).to.deep.include({ policy: '(none)', decidedBy: a.replicaId });
    expect(there[1]?.explanation).to.contain(`held by replica ${a.replicaId}`);
    expect(there[2]).to.deep.include({ policy: FINGERPRINT_POLICY, reason: '' });
    expect(there[2]).to.not.have.property('decidedBy');
    expect(there[2]?.explanation).to.contain('only a 5-byte fingerprint of its id, recorded between');
    expect(there[2]?.explanation).to.contain(`trace-id hash is ${traceIdHash(fingerprint!).toPrecision(6)}`);
    await Promise.all([onA.p.shutdown(), onB.p.shutdown()]);
  });

  /** Bytes of the ledger hashes under this test's prefix (MEMORY USAGE, exact: SAMPLES 0). */
  async function ledgerBytes(): Promise<number> {
    const ledgerKeys = (await keysByPrefix(STACK_REDIS_URL, prefix)).filter((k) => k.includes(':ledger:'));
    const c = new Redis(STACK_REDIS_URL, { connectTimeout: 1000, maxRetriesPerRequest: 1 });
    let bytes = 0;
    try {
      for (const k of ledgerKeys) bytes += Number(await c.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
    } finally {
      c.disconnect();
    }
    return bytes;
  }

  it('ledger memory: ~125 B per full record, ~6-20 B per fingerprint-only dropped trace', async () => {
    const n = 20_000;
    const records = Array.from({ length: n }, (_, i): DecisionRecord => {
      const kept = i % 10 === 0;
      const inputs: Record<string, number | string> = kept ? { adjusted_count: 26.9, sampling_threshold: 'f685' } : {};
      return {
        traceId: newTraceId(),
        decision: kept ? 'sampled' : 'not_sampled',
        policy: kept ? 'rest' : '(none)',
        reason: 'r',
        inputs,
        decidedAt: clock.now(),
      };
    });
    const full = await replica({ ledgerDroppedSample: 1 });
    for (let i = 0; i < n / 4; i += 500) await full.recordDecisions(records.slice(i, i + 500));
    const fullBytes = (await ledgerBytes()) / (n / 4);
    await deleteByPrefix(STACK_REDIS_URL, prefix);
    const a = await replica();
    for (let i = 0; i < n; i += 500) await a.recordDecisions(records.slice(i, i + 500));
    const bytes = await ledgerBytes();
    const kept = n / 10;
    const droppedFull = records.filter(
      (r) => r.decision !== 'sampled' && inDroppedSample(traceFingerprint(r.traceId), DEFAULT_LEDGER_DROPPED_SAMPLE),
    ).length;
    const perFingerprint = (bytes - (kept + droppedFull) * fullBytes) / (n - kept - droppedFull);
    console.log(
      `      ledger memory: ${fullBytes.toFixed(1)} B per full record (every decision in full, ${n / 4} decisions); ` +
        `${(bytes / n).toFixed(1)} B per decision with fingerprints (${n}, 10 % kept, ${droppedFull} dropped in full), ` +
        `~${perFingerprint.toFixed(1)} B per fingerprint-only dropped trace`,
    );
    // Trace id field + compact value (~27 B: decision, policy, time, replica id) + hash table overhead.
    expect(fullBytes).to.be.within(60, 150);
    expect(perFingerprint).to.be.within(3, 20);
    expect(bytes / n).to.be.lessThan(fullBytes / 3);
    // Every decision is still found by a cold replica, kept ones in full, dropped ones by their fingerprint.
    const c = await replica();
    const found = await c.lookupDecisions(records.map((r) => r.traceId));
    expect(found.size).to.equal(n);
    for (const r of records.slice(0, 50)) expect(found.get(r.traceId)!.decision).to.equal(r.decision);
  });

  it('Redis cost: a handful of round trips for tens of thousands of observations', async () => {
    const registry = new Registry();
    const a = await replica({ metrics: registry });
    const before = a.stats!();
    const ticks = 10;
    let observations = 0;
    for (let t = 0; t < ticks; t++) {
      for (let i = 0; i < 1000; i++) {
        a.recordLatency(`svc-${i % 5}`, `op-${i % 4}`, 1000 + ((i * 7919) % 50_000));
        a.recordSeen(`svc-${i % 5}`);
        a.recordTraceOutcome(`svc-${i % 5}`, i % 50 === 0);
        observations += 3;
      }
      clock.advance(1000);
      await a.syncNow();
    }
    const after = a.stats!();
    const roundTrips = after.roundTrips - before.roundTrips;
    const commands = after.commands - before.commands;
    expect(roundTrips).to.equal(ticks); // one script call per tick on a single server
    // Commands Redis executed inside the sync script. Latency: 20 (service, operation) keys with ~50
    // distinct sketch buckets each per tick; the sketches are written as ONE multi-field HSET + PEXPIRE
    // per slice (+ SADD + PEXPIRE of the replica set on the first write) and read with one SMEMBERS +
    // at most one HMGET per slice: the count does not grow with the buckets (it was ~1000 HINCRBYs per tick).
    // Rates: one HINCRBY per rate key (5) + PEXPIRE, one HMGET per second still settling (~3; settled
    // seconds are kept). Errors: one HINCRBY per service and counter (5-10) + PEXPIRE, one HMGET per error
    // bucket not yet closed (~2; the window is read once at the start).
    const keys = 20 + 5 + 5;
    expect(commands / ticks, `${commands} commands over ${ticks} ticks`).to.be.at.most(keys);
    expect(after.errors).to.equal(0);
    expect(after.pendingObservations).to.equal(0);

    const decisions = Array.from({ length: 1000 }, (_, i) => decision(traceId(5000 + i), 'rest'));
    for (let i = 0; i < decisions.length; i += 100) await a.recordDecisions(decisions.slice(i, i + 100));
    await a.lookupDecisions(decisions.slice(0, 500).map((d) => d.traceId)); // all local hits: no Redis
    const b = await replica();
    const bBefore = b.stats!();
    const lookedUp = await b.lookupDecisions(decisions.slice(0, 500).map((d) => d.traceId));
    expect(lookedUp.size).to.equal(500);
    const ledgerTrips = a.stats!().roundTrips - after.roundTrips;
    // Commands Redis executed for the ledger, counted inside the script: per batch one HGET of `#` per live
    // bucket (LEDGER_BUCKETS_PER_TTL + 1 = 5), one HMGET per bucket that exists (none for the first batch, the
    // current one for the 9 others), one multi-field HSET, one PEXPIRE -> 7 + 9 x 8, not one per trace.
    const ledgerCommands = a.stats!().commands - after.commands;
    expect(ledgerTrips).to.equal(10);
    expect(ledgerCommands).to.equal(7 + 9 * 8);
    expect(b.stats!().roundTrips - bBefore.roundTrips).to.equal(1); // one script call for 500 cold lookups
    const lookupCommands = b.stats!().commands - bBefore.commands;
    // One HGET per live bucket, oldest first, and one HMGET of the only one that exists (the current one).
    expect(lookupCommands).to.equal(5 + 1);
    // The ledger is one hash per shard per bucket: 1000 decisions -> 1 key here (single shard, one bucket).
    const ledgerKeys = (await keysByPrefix(STACK_REDIS_URL, prefix)).filter((k) => k.includes(':ledger:'));
    expect(ledgerKeys).to.have.length(1);

    const perObservation = commands / observations;
    console.log(
      `      Redis cost: ${observations} observations over ${ticks} ticks -> ${roundTrips} round trips, ${commands} commands ` +
        `(${perObservation.toFixed(5)} commands/observation); 1000 decisions in batches of 100 -> ${ledgerTrips} round trips ` +
        `(${(ledgerTrips / 1000).toFixed(3)}/decision), ${ledgerCommands} commands (${(ledgerCommands / 1000).toFixed(3)}/decision); ` +
        `500 cold lookups -> 1 round trip, ${lookupCommands} commands`,
    );
    expect(perObservation).to.be.lessThan(0.01); // ~21 commands per tick for 3000 observations: per key and tick, not per observation

    const text = await registry.metrics();
    expect(text).to.match(/tusk_state_redis_up 1/);
    expect(text).to.match(/tusk_state_redis_round_trips_total \d+/);
    expect(text).to.match(/tusk_state_sync_duration_seconds_count [1-9]/);
  });
});
