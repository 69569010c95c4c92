// RedisSamplingState: the sampling state shared by the replicas of the sampling tier through Redis
// (single server, Redis Cluster, or the master of a Sentinel group). Per-span calls only touch local
// aggregates; a background loop, every `syncIntervalMs`, sends each shard's deltas and reads back the
// cluster-wide aggregates in ONE Lua script call per shard (one in total on a single server). The ledger
// costs one script call per shard per batch.
// When Redis is unreachable nothing throws: reads answer from the last snapshot plus local deltas (bounded),
// the ledger falls back to the local store of recent decisions and queues writes (bounded), and health()
// says degraded.
// Data layout and cost model: see redis-batch.ts and README.md in this folder.

import { randomBytes } from 'node:crypto';
import type { ComponentHealth } from '../../../pipeline/sdk/component';
import { resolveStateOptions, type ResolvedStateOptions, type SamplingStateOptions } from './options';
import { KeyLayout, ShardBatch, shardOf } from './redis-batch';
import { RedisLedger } from './redis-ledger';
import { RedisLink } from './redis-link';
import {
  planErrors,
  planLatency,
  planRates,
  type LatencyEntry,
  type RateEntry,
  type ServiceEntry,
  type SyncContext,
} from './redis-sync';
import type { SketchOptions } from './sketch';
import type { LatencyQuantiles, LedgerRecord, SamplingState, SamplingStateStats, ServiceErrorState } from './types';
import {
  NEUTRAL_ERROR_STATE,
  SecondRing,
  ServiceErrorTracker,
  SlicedSketch,
  errorTrackerSettings,
  latencyKey,
  latencySliceMs,
  localDeltaStale,
  localRate,
  oldestSlice,
  quantilesOf,
  type ErrorTrackerSettings,
} from './windows';

/** How often drops are logged at most, ms. */
const DROP_LOG_INTERVAL_MS = 60_000;

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
  private readonly _ledger: RedisLedger;
  private readonly _createdAt: number;
  /**
   * Random per process start (48 bits, 8 base64url characters): this replica's field in the latency slice
   * hashes (a restart starts a new field) and the `decidedBy` of the decisions it writes to the ledger.
   */
  readonly replicaId = randomBytes(6).toString('base64url');
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

  constructor(options: SamplingStateOptions = {}) {
    this._o = resolveStateOptions(options);
    this._link = new RedisLink({
      connection: this._o.connection,
      timeoutMs: this._o.redisTimeoutMs,
      logger: this._o.logger,
      metrics: this._o.metrics,
    });
    this._keys = new KeyLayout(this._o.keyPrefix);
    this._sketchOpts = { relativeAccuracy: this._o.sketchRelativeAccuracy };
    this._errSettings = errorTrackerSettings(this._o);
    this._sliceMs = latencySliceMs(this._o);
    this._rateWindowSec = this._o.rateWindowMs / 1000;
    // A second is complete cluster-wide once every replica has flushed it: one sync interval plus slack.
    this._lagMs = this._o.syncIntervalMs + 250;
    this._graceMs = 2 * this._o.syncIntervalMs + 1000;
    this._refreshTicks = Math.max(1, Math.round(this._o.latencyRefreshMs / this._o.syncIntervalMs));
    this._ledger = new RedisLedger({
      link: this._link,
      keys: this._keys,
      shards: this._o.shards,
      ttlMs: this._o.ledgerTtlMs,
      maxEntries: this._o.ledgerMaxEntries,
      maxPending: this._o.maxPendingDecisions,
      droppedSample: this._o.ledgerDroppedSample,
      replicaId: this.replicaId,
      now: this._o.now,
      logger: this._o.logger,
      metrics: this._o.metrics,
      usable: () => this._status === 'running' && this._link.isUp(),
    });
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
    if (this._status === 'new')
      return { ready: false, detail: `sampling state (redis ${this._link.target}) not started` };
    if (this._status !== 'running')
      return { ready: false, detail: `sampling state (redis ${this._link.target}) stopped` };
    const now = this._o.now();
    if (this._fresh(now)) {
      return {
        ready: true,
        degraded: false,
        detail: `redis ${this._link.target} ok; replica ${this.replicaId}; last sync ${now - this._lastSyncAt} ms ago`,
      };
    }
    const since = this._link.downSince;
    const why = this._link.lastError ?? (this._lastSyncAt === 0 ? 'no sync yet' : 'sync failing');
    const what = this._link.isUp()
      ? 'sync failing'
      : `unreachable${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''}`;
    const p = this._pendingCounts();
    return {
      ready: true,
      degraded: true,
      detail:
        `redis ${this._link.target} ${what} (${why}); replica ${this.replicaId}; ` +
        `deciding from local state; pending: ${p.observations} observations, ${this._ledger.pending} decisions` +
        (this._lastSyncAt > 0 ? `; last sync ${new Date(this._lastSyncAt).toISOString()}` : ''),
    };
  }

  recordLatency(service: string, operation: string, durationUs: number): void {
    if (!Number.isFinite(durationUs) || durationUs < 0) return;
    const now = this._o.now();
    const e = this._latencyEntry(service, operation, now);
    if (e === undefined) return;
    const slice = Math.floor(now / this._sliceMs);
    e.mine.add(slice, durationUs);
    e.unsent.set(slice, (e.unsent.get(slice) ?? 0) + 1);
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

  /**
   * Quantiles over the window: the other replicas' slices as last read merged with this replica's own (not yet
   * synced observations included), recomputed once per tick and when the own delta outgrows the cache.
   */
  latencyQuantiles(service: string, operation: string): LatencyQuantiles | undefined {
    const now = this._o.now();
    const e = this._latencyEntry(service, operation, now);
    if (e === undefined) return undefined;
    if (e.cacheTick !== this._tick || localDeltaStale(e.cache, e.cluster, e.mine)) {
      const oldest = oldestSlice(now, this._o);
      e.cluster.prune(oldest);
      e.mine.prune(oldest);
      if (e.mine.isEmpty()) e.cache = e.cluster.quantiles();
      else if (e.cluster.isEmpty()) e.cache = e.mine.quantiles();
      else e.cache = quantilesOf(e.cluster.total().clone().merge(e.mine.total()));
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

  async recordDecisions(
    records: readonly LedgerRecord[],
    overriding?: ReadonlySet<string>,
  ): Promise<Map<string, LedgerRecord>> {
    return this._ledger.record(records, overriding);
  }

  recentDecision(traceId: string): LedgerRecord | undefined {
    return this._ledger.recent(traceId);
  }

  rememberDecision(record: LedgerRecord): void {
    this._ledger.remember(record);
  }

  async lookupDecisions(traceIds: readonly string[]): Promise<Map<string, LedgerRecord>> {
    return this._ledger.lookup(traceIds);
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
      pendingDecisions: this._ledger.pending,
      dropped: this._dropped + this._ledger.dropped + this._ledger.evicted,
      undecodable: this._ledger.undecodable,
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
      await this._ledger.flushPending();
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
    const ctx = this._syncContext(now);
    planLatency(ctx, this._latency.values(), batch);
    planRates(ctx, this._rates.values(), batch);
    planErrors(ctx, this._services.values(), batch);
    const results = await Promise.allSettled(
      [...batches.values()]
        .filter((b) => !b.isEmpty())
        .map(async (b) => b.apply(await this._link.sync(b.keys, b.payload()))),
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

  private _syncContext(now: number): SyncContext {
    return {
      now,
      keys: this._keys,
      options: this._o,
      sketch: this._sketchOpts,
      errSettings: this._errSettings,
      sliceMs: this._sliceMs,
      rateWindowSec: this._rateWindowSec,
      lagMs: this._lagMs,
      graceMs: this._graceMs,
      tick: this._tick,
      replica: this.replicaId,
      refreshTicks: this._refreshTicks,
      closedBucketBefore: this._closedBucketBefore(now),
    };
  }

  /** Prunes windows and pending deltas to their bounds and forgets idle keys. */
  private _housekeeping(now: number): void {
    const oldest = oldestSlice(now, this._o);
    for (const [k, e] of this._latency) {
      e.cluster.prune(oldest);
      e.mine.prune(oldest);
      for (const [slice, n] of e.unsent) {
        if (slice < oldest) {
          e.unsent.delete(slice);
          this._dropped += n;
        }
      }
      if (e.unsent.size === 0 && now - e.lastTouched > this._o.windowMs) this._latency.delete(k);
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
    const oldestBucket =
      current - this._errSettings.windowBuckets - Math.ceil(this._graceMs / this._o.errorBucketMs) - 1;
    for (const [k, e] of this._services) {
      for (const [bucket, c] of e.pending) {
        if (bucket < oldestBucket) {
          e.pending.delete(bucket);
          this._dropped += c.total;
        }
      }
      e.tracker.evaluate(now, this._closedBucketBefore(now));
      if (e.pending.size === 0 && e.tracker.idle() && now - e.lastTouched > this._o.errorWindowMs)
        this._services.delete(k);
    }
    this._ledger.sweep();
  }

  private _latencyEntry(service: string, operation: string, now: number): LatencyEntry | undefined {
    const id = latencyKey(service, operation);
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
        mine: new SlicedSketch(this._sketchOpts),
        unsent: new Map(),
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
        finalRead: -Infinity,
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
        seconds: new Map(),
        finalBefore: -Infinity,
        cluster: undefined,
        share: 1,
        lastTouched: now,
      };
      this._rates.set(key, e);
    }
    e.lastTouched = now;
    return e;
  }

  private _pendingCounts(): { observations: number } {
    let n = 0;
    for (const e of this._latency.values()) for (const c of e.unsent.values()) n += c;
    for (const e of this._rates.values()) for (const c of e.pending.values()) n += c;
    for (const e of this._services.values()) for (const c of e.pending.values()) n += c.total;
    return { observations: n };
  }

  /** True when the last sync succeeded recently enough for the snapshot to count as current. */
  private _fresh(now: number): boolean {
    return (
      this._lastSyncOk &&
      this._link.isUp() &&
      now - this._lastSyncAt <= 3 * this._o.syncIntervalMs + this._o.redisTimeoutMs
    );
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
