// RedisSamplingState: the sampling state shared by the replicas of the sampling tier through Redis
// (single server or Redis Cluster). Per-span calls only touch local aggregates; a background loop, every
// `syncIntervalMs`, sends each shard's deltas and reads back the cluster-wide aggregates in ONE Lua script
// call per shard (one in total on a single server). The ledger costs one script call per shard per batch.
// When Redis is unreachable nothing throws: reads answer from the last snapshot plus local deltas (bounded),
// the ledger falls back to the local LRU and queues writes (bounded), and health() says degraded.
// Data layout and cost model: see redis-batch.ts and README.md in this folder.

import type { ComponentHealth, DecisionRecord } from '../../../pipeline/component';
import { decodeDecision, encodeDecision, LruTtlMap } from './ledger';
import { resolveStateOptions, type ResolvedStateOptions, type SamplingStateOptions } from './options';
import { KeyLayout, ShardBatch, shardOf } from './redis-batch';
import { RedisLink } from './redis-link';
import { LatencySketch, type SketchOptions } from './sketch';
import type { LatencyQuantiles, SamplingState, SamplingStateStats, ServiceErrorState } from './types';
import {
  NEUTRAL_ERROR_STATE,
  SecondRing,
  ServiceErrorTracker,
  SlicedSketch,
  errorTrackerSettings,
  localRate,
  quantilesOf,
  type ErrorCounts,
  type ErrorTrackerSettings,
} from './windows';

/** Decisions written per tick when catching up after an outage. */
const LEDGER_CATCH_UP_PER_TICK = 1000;
/** Largest number of decisions per ledger script call or MGET. */
const LEDGER_MAX_PER_CALL = 1000;
/** How often drops are logged at most, ms. */
const DROP_LOG_INTERVAL_MS = 60_000;

interface LatencyEntry {
  readonly service: string;
  readonly operation: string;
  readonly shard: number;
  /** Cluster-wide slices as last read (they include what this replica flushed). */
  readonly cluster: SlicedSketch;
  /** Local observations not yet flushed. */
  readonly pending: SlicedSketch;
  /** Highest slice read after it closed (it will not change any more). */
  finalRead: number;
  readonly phase: number;
  lastTouched: number;
  cacheTick: number;
  cache: LatencyQuantiles | undefined;
}

interface ServiceEntry {
  readonly service: string;
  readonly shard: number;
  readonly tracker: ServiceErrorTracker;
  readonly pending: Map<number, ErrorCounts>;
  lastTouched: number;
  cacheTick: number;
}

interface RateEntry {
  readonly key: string;
  readonly shard: number;
  /** Local counts per second (always kept: degraded estimates, share of the cluster). */
  readonly ring: SecondRing;
  readonly pending: Map<number, number>;
  /** Cluster-wide rate at the last sync (traces/s), undefined before. */
  cluster: number | undefined;
  /** cluster / local at the last sync (>= 1), used to scale the local rate while Redis is unreachable. */
  share: number;
  lastTouched: number;
}

/**
 * RedisSamplingState implements SamplingState over Redis. All replicas of one cluster must share
 * keyPrefix, windowMs, latencySlices, sketchRelativeAccuracy, rateWindowMs, errorBucketMs and shards.
 */
export class RedisSamplingState implements SamplingState {
  private readonly _o: ResolvedStateOptions;
  private readonly _link: RedisLink;
  private readonly _keys: KeyLayout;
  private readonly _sketchOpts: SketchOptions;
  private readonly _errSettings: ErrorTrackerSettings;
  private readonly _sliceMs: number;
  private readonly _rateWindowSec: number;
  private readonly _lagMs: number;
  private readonly _graceMs: number;
  private readonly _refreshTicks: number;
  private readonly _latency = new Map<string, LatencyEntry>();
  private readonly _services = new Map<string, ServiceEntry>();
  private readonly _rates = new Map<string, RateEntry>();
  private readonly _ledger: LruTtlMap<string, DecisionRecord>;
  /** Decisions taken while Redis was unreachable, to write when it returns (insertion order = age). */
  private readonly _pendingDecisions = new Map<string, DecisionRecord>();
  private readonly _createdAt: number;
  private _status: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private _timer: NodeJS.Timeout | undefined;
  private _running: Promise<void> | undefined;
  private _shutdown: Promise<void> | undefined;
  private _tick = 0;
  private _syncs = 0;
  private _lastSyncAt = 0;
  private _lastSyncMs = 0;
  private _lastSyncOk = false;
  private _dropped = 0;
  private _droppedLogged = 0;
  private _lastDropLog = 0;
  private _conflicts = 0;

  constructor(options: SamplingStateOptions = {}) {
    this._o = resolveStateOptions(options);
    this._link = new RedisLink({
      url: this._o.url,
      clusterNodes: this._o.clusterNodes,
      timeoutMs: this._o.redisTimeoutMs,
      logger: this._o.logger,
      metrics: this._o.metrics,
    });
    this._keys = new KeyLayout(this._o.keyPrefix);
    this._sketchOpts = { relativeAccuracy: this._o.sketchRelativeAccuracy };
    this._errSettings = errorTrackerSettings(this._o);
    this._sliceMs = this._o.windowMs / this._o.latencySlices;
    this._rateWindowSec = this._o.rateWindowMs / 1000;
    // A second is complete cluster-wide once every replica has flushed it: one sync interval plus slack.
    this._lagMs = this._o.syncIntervalMs + 250;
    this._graceMs = 2 * this._o.syncIntervalMs + 1000;
    this._refreshTicks = Math.max(1, Math.round(this._o.latencyRefreshMs / this._o.syncIntervalMs));
    this._ledger = new LruTtlMap(this._o.ledgerMaxEntries, this._o.ledgerTtlMs, this._o.now);
    this._createdAt = this._o.now();
  }

  /** Connects (waiting at most redisTimeoutMs), runs a first sync if connected, then starts the loop. */
  async start(): Promise<void> {
    if (this._status !== 'new') return;
    this._status = 'running';
    await this._link.connect();
    await this.syncNow();
    this._schedule();
  }

  /** Stops the loop, flushes pending deltas and decisions once (bounded by redisTimeoutMs), disconnects. Idempotent. */
  shutdown(): Promise<void> {
    this._shutdown ??= this._doShutdown();
    return this._shutdown;
  }

  health(): ComponentHealth {
    if (this._status === 'new') return { ready: false, detail: `sampling state (redis ${this._link.target}) not started` };
    if (this._status !== 'running') return { ready: false, detail: `sampling state (redis ${this._link.target}) stopped` };
    const now = this._o.now();
    if (this._fresh(now)) {
      return { ready: true, degraded: false, detail: `redis ${this._link.target} ok; last sync ${now - this._lastSyncAt} ms ago` };
    }
    const since = this._link.downSince;
    const why = this._link.lastError ?? (this._lastSyncAt === 0 ? 'no sync yet' : 'sync failing');
    const what = this._link.isUp() ? 'sync failing' : `unreachable${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''}`;
    const p = this._pendingCounts();
    return {
      ready: true,
      degraded: true,
      detail:
        `redis ${this._link.target} ${what} (${why}); ` +
        `deciding from local state; pending: ${p.observations} observations, ${this._pendingDecisions.size} decisions` +
        (this._lastSyncAt > 0 ? `; last sync ${new Date(this._lastSyncAt).toISOString()}` : ''),
    };
  }

  recordLatency(service: string, operation: string, durationUs: number): void {
    if (!Number.isFinite(durationUs) || durationUs < 0) return;
    const now = this._o.now();
    const e = this._latencyEntry(service, operation, now);
    if (e === undefined) return;
    e.pending.add(Math.floor(now / this._sliceMs), durationUs);
  }

  recordTraceOutcome(service: string, hadError: boolean): void {
    const now = this._o.now();
    const e = this._serviceEntry(service, now);
    if (e === undefined) return;
    const bucket = Math.floor(now / this._o.errorBucketMs);
    const errors = hadError ? 1 : 0;
    e.tracker.add(bucket, 1, errors);
    const c = e.pending.get(bucket);
    if (c === undefined) e.pending.set(bucket, { total: 1, errors });
    else {
      c.total++;
      c.errors += errors;
    }
  }

  recordSeen(key: string): void {
    const now = this._o.now();
    const e = this._rateEntry(key, now);
    if (e === undefined) return;
    const sec = Math.floor(now / 1000);
    e.ring.add(sec);
    e.pending.set(sec, (e.pending.get(sec) ?? 0) + 1);
  }

  /** Quantiles over the window of cluster slices plus local unflushed ones, recomputed at most once per tick. */
  latencyQuantiles(service: string, operation: string): LatencyQuantiles | undefined {
    const now = this._o.now();
    const e = this._latencyEntry(service, operation, now);
    if (e === undefined) return undefined;
    if (e.cacheTick !== this._tick) {
      const oldest = this._oldestSlice(now);
      e.cluster.prune(oldest);
      e.pending.prune(oldest);
      if (e.pending.isEmpty()) e.cache = e.cluster.quantiles();
      else if (e.cluster.isEmpty()) e.cache = e.pending.quantiles();
      else e.cache = quantilesOf(e.cluster.total().clone().merge(e.pending.total()));
      e.cacheTick = this._tick;
    }
    return e.cache;
  }

  serviceErrorState(service: string): ServiceErrorState {
    const now = this._o.now();
    const e = this._serviceEntry(service, now);
    if (e === undefined) return NEUTRAL_ERROR_STATE;
    if (e.cacheTick !== this._tick) {
      e.tracker.evaluate(now, this._closedBucketBefore(now));
      e.cacheTick = this._tick;
    }
    return e.tracker.state;
  }

  /**
   * Cluster-wide rate from the last sync (never below this replica's own rate). While Redis is
   * unreachable: this replica's rate scaled by its share of the cluster at the last sync.
   */
  clusterRate(key: string): number | undefined {
    const now = this._o.now();
    const e = this._rateEntry(key, now);
    if (e === undefined) return undefined;
    const local = localRate(e.ring, now, this._rateWindowSec, this._createdAt);
    if (this._fresh(now) && e.cluster !== undefined) return Math.max(e.cluster, local);
    if (e.cluster === undefined && e.ring.newest() < 0) return undefined;
    return local * e.share;
  }

  async recordDecisions(records: readonly DecisionRecord[]): Promise<Map<string, DecisionRecord>> {
    const earlier = new Map<string, DecisionRecord>();
    const first = new Map<string, DecisionRecord>();
    for (const r of records) {
      const known = first.get(r.traceId) ?? this._ledger.get(r.traceId);
      if (known !== undefined) earlier.set(r.traceId, known);
      else first.set(r.traceId, r);
    }
    if (first.size === 0) return earlier;
    if (this._status !== 'running' || !this._link.isUp()) {
      this._recordLocally([...first.values()], earlier);
      return earlier;
    }
    const byShard = this._groupByShard([...first.values()], (r) => r.traceId);
    await Promise.all(
      this._chunks(byShard).map(async ([shard, group]) => {
        try {
          const existing = await this._link.ledgerInsert(
            group.map((r) => this._keys.decision(shard, r.traceId)),
            this._o.ledgerTtlMs,
            group.map(encodeDecision),
          );
          group.forEach((r, i) => {
            const prev = existing[i];
            const winner = prev ? decodeDecision(r.traceId, prev) : undefined;
            if (winner !== undefined) earlier.set(r.traceId, winner);
            this._ledger.set(r.traceId, winner ?? r);
          });
        } catch {
          this._recordLocally(group, earlier);
        }
      }),
    );
    return earlier;
  }

  async lookupDecisions(traceIds: readonly string[]): Promise<Map<string, DecisionRecord>> {
    const found = new Map<string, DecisionRecord>();
    const misses: string[] = [];
    for (const id of new Set(traceIds)) {
      const r = this._ledger.get(id);
      if (r !== undefined) found.set(id, r);
      else misses.push(id);
    }
    if (misses.length === 0 || this._status !== 'running' || !this._link.isUp()) return found;
    const byShard = this._groupByShard(misses, (id) => id);
    await Promise.all(
      this._chunks(byShard).map(async ([shard, ids]) => {
        try {
          const values = await this._link.mget(ids.map((id) => this._keys.decision(shard, id)));
          ids.forEach((id, i) => {
            const v = values[i];
            const r = v ? decodeDecision(id, v) : undefined;
            if (r !== undefined) {
              found.set(id, r);
              this._ledger.set(id, r);
            }
          });
        } catch {
          // Redis unreachable: answer from the local ledger only (counted by the link).
        }
      }),
    );
    return found;
  }

  stats(): SamplingStateStats {
    const c = this._link.counters;
    return {
      roundTrips: c.roundTrips,
      commands: c.commands,
      errors: c.errors,
      lastSyncMs: this._lastSyncMs,
      lastSyncAt: this._lastSyncAt,
      syncs: this._syncs,
      pendingObservations: this._pendingCounts().observations,
      pendingDecisions: this._pendingDecisions.size,
      dropped: this._dropped + this._ledger.evicted,
    };
  }

  /**
   * Runs one sync tick now (after any tick in flight): local housekeeping, then, if Redis is up, flush
   * deltas + read aggregates and write decisions queued during an outage. Never throws. For tests/benchmarks.
   */
  async syncNow(): Promise<void> {
    while (this._running !== undefined) await this._running;
    this._running = this._runTick().finally(() => {
      this._running = undefined;
    });
    return this._running;
  }

  private async _doShutdown(): Promise<void> {
    if (this._status === 'new') {
      this._status = 'stopped';
      return;
    }
    this._status = 'stopping';
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
    while (this._running !== undefined) await this._running;
    if (this._link.isUp()) {
      this._running = this._runTick();
      await this._running;
      this._running = undefined;
    }
    await this._link.close();
    this._status = 'stopped';
  }

  private _schedule(): void {
    if (this._status !== 'running') return;
    this._timer = setTimeout(() => {
      this._timer = undefined;
      void this.syncNow().then(() => this._schedule());
    }, this._o.syncIntervalMs);
    this._timer.unref();
  }

  private async _runTick(): Promise<void> {
    const now = this._o.now();
    const t0 = performance.now();
    try {
      this._housekeeping(now);
      if (this._status === 'new' || !this._link.isUp()) {
        this._lastSyncOk = false;
        return;
      }
      await this._sync(now);
      await this._flushPendingDecisions();
    } catch (err) {
      this._lastSyncOk = false;
      this._o.logger?.debug({ err }, 'sampling state: sync failed');
    } finally {
      this._tick++;
      this._lastSyncMs = performance.now() - t0;
      this._link.observeSync(this._lastSyncMs / 1000);
      this._logDrops(now);
    }
  }

  /** Builds one batch per shard (writes + reads), sends them in parallel, applies the replies. */
  private async _sync(now: number): Promise<void> {
    const batches = new Map<number, ShardBatch>();
    const batch = (shard: number): ShardBatch => {
      let b = batches.get(shard);
      if (b === undefined) batches.set(shard, (b = new ShardBatch(shard)));
      return b;
    };
    this._planLatency(now, batch);
    this._planRates(now, batch);
    this._planErrors(now, batch);
    const results = await Promise.allSettled(
      [...batches.values()].filter((b) => !b.isEmpty()).map(async (b) => b.apply(await this._link.sync(b.keys, b.payload()))),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) {
      this._lastSyncOk = false;
      return;
    }
    this._lastSyncOk = true;
    this._lastSyncAt = this._o.now();
    this._syncs++;
  }

  private _planLatency(now: number, batch: (shard: number) => ShardBatch): void {
    const current = Math.floor(now / this._sliceMs);
    const oldest = current - this._o.latencySlices + 1;
    const ttl = this._o.windowMs + this._sliceMs + 60_000;
    for (const e of this._latency.values()) {
      for (const slice of e.pending.sliceIndexes()) {
        const sent = e.pending.slice(slice)!.clone();
        const fields: string[] = [];
        if (sent.zeroCount > 0) fields.push('z', String(sent.zeroCount));
        sent.forEachBucket((i, c) => fields.push(String(i), String(c)));
        const b = batch(e.shard);
        b.observations += sent.count;
        b.incr(this._keys.latency(e.shard, slice, e.service, e.operation), ttl, fields, () => e.pending.subtract(slice, sent));
      }
      const due = e.finalRead < oldest - 1 || this._tick % this._refreshTicks === e.phase;
      if (!due) continue;
      for (let slice = Math.max(oldest, e.finalRead + 1); slice <= current; slice++) {
        const readAt = now;
        batch(e.shard).getAll(this._keys.latency(e.shard, slice, e.service, e.operation), (flat) => {
          e.cluster.replace(slice, this._sketchFromHash(flat));
          if ((slice + 1) * this._sliceMs + this._graceMs <= readAt) e.finalRead = Math.max(e.finalRead, slice);
          e.cacheTick = -1;
        });
      }
    }
  }

  private _planRates(now: number, batch: (shard: number) => ShardBatch): void {
    const ttl = (this._rateWindowSec + 30) * 1000 + this._lagMs;
    const writes = new Map<string, { shard: number; sec: number; fields: string[]; done: Array<() => void> }>();
    const readers = new Map<number, RateEntry[]>();
    for (const e of this._rates.values()) {
      for (const [sec, n] of e.pending) {
        const id = `${e.shard}:${sec}`;
        let w = writes.get(id);
        if (w === undefined) writes.set(id, (w = { shard: e.shard, sec, fields: [], done: [] }));
        w.fields.push(e.key, String(n));
        w.done.push(() => {
          const left = (e.pending.get(sec) ?? 0) - n;
          if (left > 0) e.pending.set(sec, left);
          else e.pending.delete(sec);
        });
      }
      let list = readers.get(e.shard);
      if (list === undefined) readers.set(e.shard, (list = []));
      list.push(e);
    }
    for (const w of writes.values()) {
      const b = batch(w.shard);
      b.observations += w.done.length;
      b.incr(this._keys.seen(w.shard, w.sec), ttl, w.fields, () => w.done.forEach((f) => f()));
    }
    const endSec = Math.floor((now - this._lagMs) / 1000); // exclusive
    const W = this._rateWindowSec;
    for (const [shard, entries] of readers) {
      const keys: string[] = [];
      for (let s = endSec - W; s < endSec; s++) keys.push(this._keys.seen(shard, s));
      batch(shard).sumFields(
        keys,
        entries.map((e) => e.key),
        (sums) =>
          entries.forEach((e, j) => {
            const cluster = (sums[j] ?? 0) / W;
            const local = e.ring.sum(endSec - W, endSec - 1) / W;
            e.cluster = cluster;
            if (local > 0) e.share = Math.max(1, cluster / local);
          }),
      );
    }
  }

  private _planErrors(now: number, batch: (shard: number) => ShardBatch): void {
    const bucketMs = this._o.errorBucketMs;
    const ttl = this._o.errorWindowMs + 3 * bucketMs + this._graceMs;
    const writes = new Map<string, { shard: number; bucket: number; fields: string[]; done: Array<() => void> }>();
    const readers = new Map<number, ServiceEntry[]>();
    for (const e of this._services.values()) {
      for (const [bucket, c] of e.pending) {
        const id = `${e.shard}:${bucket}`;
        let w = writes.get(id);
        if (w === undefined) writes.set(id, (w = { shard: e.shard, bucket, fields: [], done: [] }));
        const sent = { total: c.total, errors: c.errors };
        w.fields.push(`t:${e.service}`, String(sent.total));
        if (sent.errors > 0) w.fields.push(`e:${e.service}`, String(sent.errors));
        w.done.push(() => {
          const p = e.pending.get(bucket);
          if (p === undefined) return;
          p.total -= sent.total;
          p.errors -= sent.errors;
          if (p.total <= 0) e.pending.delete(bucket);
        });
      }
      let list = readers.get(e.shard);
      if (list === undefined) readers.set(e.shard, (list = []));
      list.push(e);
    }
    for (const w of writes.values()) {
      const b = batch(w.shard);
      b.observations += w.done.length;
      b.incr(this._keys.errors(w.shard, w.bucket), ttl, w.fields, () => w.done.forEach((f) => f()));
    }
    const current = Math.floor(now / bucketMs);
    // The recent window, plus the buckets that close within the grace period (fed into the baselines).
    const first = Math.min(current - this._errSettings.windowBuckets + 1, this._closedBucketBefore(now) - 1);
    for (const [shard, entries] of readers) {
      const fields = entries.flatMap((e) => [`t:${e.service}`, `e:${e.service}`]);
      for (let bucket = first; bucket <= current; bucket++) {
        batch(shard).getFields(this._keys.errors(shard, bucket), fields, (values) =>
          entries.forEach((e, j) => {
            const p = e.pending.get(bucket);
            const total = Number(values[2 * j] ?? 0) + (p?.total ?? 0);
            const errors = Number(values[2 * j + 1] ?? 0) + (p?.errors ?? 0);
            if (total > 0) e.tracker.set(bucket, total, errors);
            e.cacheTick = -1;
          }),
        );
      }
    }
  }

  /** Writes decisions queued during an outage (first-wins; conflicts keep the earlier decision). */
  private async _flushPendingDecisions(): Promise<void> {
    if (this._pendingDecisions.size === 0 || !this._link.isUp()) return;
    const chunk = [...this._pendingDecisions.values()].slice(0, LEDGER_CATCH_UP_PER_TICK);
    const byShard = this._groupByShard(chunk, (r) => r.traceId);
    let conflicts = 0;
    await Promise.all(
      [...byShard].map(async ([shard, group]) => {
        try {
          const existing = await this._link.ledgerInsert(
            group.map((r) => this._keys.decision(shard, r.traceId)),
            Math.max(1, this._o.ledgerTtlMs - (this._o.now() - Math.min(...group.map((r) => r.decidedAt)))),
            group.map(encodeDecision),
          );
          group.forEach((r, i) => {
            this._pendingDecisions.delete(r.traceId);
            const prev = existing[i];
            const winner = prev ? decodeDecision(r.traceId, prev) : undefined;
            if (winner !== undefined && (winner.decision !== r.decision || winner.policy !== r.policy)) {
              conflicts++;
              this._ledger.set(r.traceId, winner);
            }
          });
        } catch {
          // Still unreachable for this shard: retried next tick.
        }
      }),
    );
    if (conflicts > 0) {
      this._conflicts += conflicts;
      this._o.logger?.warn(
        { conflicts, total: this._conflicts },
        'sampling state: decisions taken during the redis outage conflicted with earlier ones; the earlier ones are kept',
      );
    }
  }

  /** Prunes windows and pending deltas to their bounds and forgets idle keys. */
  private _housekeeping(now: number): void {
    const oldest = this._oldestSlice(now);
    for (const [k, e] of this._latency) {
      e.cluster.prune(oldest);
      this._dropped += e.pending.prune(oldest);
      if (e.pending.isEmpty() && now - e.lastTouched > this._o.windowMs) this._latency.delete(k);
    }
    const oldestSec = Math.floor((now - this._lagMs) / 1000) - this._rateWindowSec - 5;
    for (const [k, e] of this._rates) {
      for (const [sec, n] of e.pending) {
        if (sec < oldestSec) {
          e.pending.delete(sec);
          this._dropped += n;
        }
      }
      if (e.pending.size === 0 && now - e.lastTouched > 2 * this._o.rateWindowMs) this._rates.delete(k);
    }
    const current = Math.floor(now / this._o.errorBucketMs);
    const oldestBucket = current - this._errSettings.windowBuckets - Math.ceil(this._graceMs / this._o.errorBucketMs) - 1;
    for (const [k, e] of this._services) {
      for (const [bucket, c] of e.pending) {
        if (bucket < oldestBucket) {
          e.pending.delete(bucket);
          this._dropped += c.total;
        }
      }
      e.tracker.evaluate(now, this._closedBucketBefore(now));
      if (e.pending.size === 0 && e.tracker.idle() && now - e.lastTouched > this._o.errorWindowMs) this._services.delete(k);
    }
    this._ledger.sweep(10_000);
  }

  private _latencyEntry(service: string, operation: string, now: number): LatencyEntry | undefined {
    const id = `${service}\u0000${operation}`;
    let e = this._latency.get(id);
    if (e === undefined) {
      if (this._latency.size >= this._o.maxKeys) {
        this._dropped++;
        return undefined;
      }
      e = {
        service,
        operation,
        shard: shardOf(id, this._o.shards),
        cluster: new SlicedSketch(this._sketchOpts),
        pending: new SlicedSketch(this._sketchOpts),
        finalRead: -Infinity,
        phase: shardOf(`phase:${id}`, this._refreshTicks),
        lastTouched: now,
        cacheTick: -1,
        cache: undefined,
      };
      this._latency.set(id, e);
    }
    e.lastTouched = now;
    return e;
  }

  private _serviceEntry(service: string, now: number): ServiceEntry | undefined {
    let e = this._services.get(service);
    if (e === undefined) {
      if (this._services.size >= this._o.maxKeys) {
        this._dropped++;
        return undefined;
      }
      e = {
        service,
        shard: shardOf(service, this._o.shards),
        tracker: new ServiceErrorTracker(this._errSettings),
        pending: new Map(),
        lastTouched: now,
        cacheTick: -1,
      };
      this._services.set(service, e);
    }
    e.lastTouched = now;
    return e;
  }

  private _rateEntry(key: string, now: number): RateEntry | undefined {
    let e = this._rates.get(key);
    if (e === undefined) {
      if (this._rates.size >= this._o.maxKeys) {
        this._dropped++;
        return undefined;
      }
      e = {
        key,
        shard: shardOf(key, this._o.shards),
        ring: new SecondRing(this._rateWindowSec + Math.ceil(this._lagMs / 1000) + 3),
        pending: new Map(),
        cluster: undefined,
        share: 1,
        lastTouched: now,
      };
      this._rates.set(key, e);
    }
    e.lastTouched = now;
    return e;
  }

  private _recordLocally(records: readonly DecisionRecord[], earlier: Map<string, DecisionRecord>): void {
    for (const r of records) {
      const known = this._ledger.get(r.traceId);
      if (known !== undefined) {
        earlier.set(r.traceId, known);
        continue;
      }
      this._ledger.set(r.traceId, r);
      this._pendingDecisions.set(r.traceId, r);
      if (this._pendingDecisions.size > this._o.maxPendingDecisions) {
        const oldest = this._pendingDecisions.keys().next().value as string;
        this._pendingDecisions.delete(oldest);
        this._dropped++;
      }
    }
  }

  private _groupByShard<T>(items: readonly T[], id: (t: T) => string): Map<number, T[]> {
    const out = new Map<number, T[]>();
    for (const it of items) {
      const s = shardOf(id(it), this._o.shards);
      let list = out.get(s);
      if (list === undefined) out.set(s, (list = []));
      list.push(it);
    }
    return out;
  }

  /** Splits per-shard groups into requests of at most LEDGER_MAX_PER_CALL items (bounded Redis work per call). */
  private _chunks<T>(byShard: Map<number, T[]>): Array<[number, T[]]> {
    const out: Array<[number, T[]]> = [];
    for (const [shard, items] of byShard) {
      for (let i = 0; i < items.length; i += LEDGER_MAX_PER_CALL) out.push([shard, items.slice(i, i + LEDGER_MAX_PER_CALL)]);
    }
    return out;
  }

  private _sketchFromHash(flat: readonly string[]): LatencySketch {
    const s = new LatencySketch(this._sketchOpts);
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const n = Number(flat[i + 1]);
      if (!Number.isSafeInteger(n) || n <= 0) continue;
      if (flat[i] === 'z') s.addZero(n);
      else {
        const idx = Number(flat[i]);
        if (Number.isInteger(idx)) s.addToBucket(idx, n);
      }
    }
    return s;
  }

  private _pendingCounts(): { observations: number } {
    let n = 0;
    for (const e of this._latency.values()) if (!e.pending.isEmpty()) n += e.pending.count;
    for (const e of this._rates.values()) for (const c of e.pending.values()) n += c;
    for (const e of this._services.values()) for (const c of e.pending.values()) n += c.total;
    return { observations: n };
  }

  /** True when the last sync succeeded recently enough for the snapshot to count as current. */
  private _fresh(now: number): boolean {
    return this._lastSyncOk && this._link.isUp() && now - this._lastSyncAt <= 3 * this._o.syncIntervalMs + this._o.redisTimeoutMs;
  }

  private _oldestSlice(now: number): number {
    return Math.floor(now / this._sliceMs) - this._o.latencySlices + 1;
  }

  /** Error buckets before this index are closed cluster-wide (every replica has flushed them). */
  private _closedBucketBefore(now: number): number {
    return Math.floor((now - this._graceMs) / this._o.errorBucketMs);
  }

  private _logDrops(now: number): void {
    if (this._dropped === this._droppedLogged || now - this._lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this._o.logger?.warn(
      { dropped: this._dropped - this._droppedLogged, total: this._dropped },
      'sampling state: observations or decisions dropped at a bound (maxKeys, window, maxPendingDecisions)',
    );
    this._droppedLogged = this._dropped;
    this._lastDropLog = now;
  }
}
