// The per-tick sync plan of RedisSamplingState: for each kind of aggregate (latency sketches, rates,
// error counts) the entries a replica holds, and the functions that add their writes (local deltas) and
// reads (cluster-wide aggregates) to the shard batches, with the callbacks that apply the reply.

import type { ResolvedStateOptions } from './options';
import type { KeyLayout, ShardBatch } from './redis-batch';
import { LatencySketch, type SketchOptions } from './sketch';
import type { LatencyQuantiles } from './types';
import type { ErrorCounts, ErrorTrackerSettings, SecondRing, ServiceErrorTracker, SlicedSketch } from './windows';

/** SyncContext is what the plan functions need to know about the store and the current tick. */
export interface SyncContext {
  readonly now: number;
  readonly keys: KeyLayout;
  readonly options: ResolvedStateOptions;
  readonly sketch: SketchOptions;
  readonly errSettings: ErrorTrackerSettings;
  readonly sliceMs: number;
  readonly rateWindowSec: number;
  /** A second is complete cluster-wide this long after it ended. */
  readonly lagMs: number;
  /** A latency slice or error bucket no longer changes this long after it ended. */
  readonly graceMs: number;
  readonly tick: number;
  readonly refreshTicks: number;
  /** Error buckets before this index are closed cluster-wide. */
  readonly closedBucketBefore: number;
}

/** LatencyEntry is what a replica holds for one (service, operation). */
export interface LatencyEntry {
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

/** ServiceEntry is what a replica holds for one service's error state. */
export interface ServiceEntry {
  readonly service: string;
  readonly shard: number;
  readonly tracker: ServiceErrorTracker;
  readonly pending: Map<number, ErrorCounts>;
  lastTouched: number;
  cacheTick: number;
}

/** RateEntry is what a replica holds for one rate key. */
export interface RateEntry {
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

/** planLatency flushes pending sketch deltas (HINCRBY per bucket) and re-reads the slices due (current one, new keys). */
export function planLatency(ctx: SyncContext, entries: Iterable<LatencyEntry>, batch: (shard: number) => ShardBatch): void {
  const now = ctx.now;
  const current = Math.floor(now / ctx.sliceMs);
  const oldest = current - ctx.options.latencySlices + 1;
  const ttl = ctx.options.windowMs + ctx.sliceMs + 60_000;
  for (const e of entries) {
    for (const slice of e.pending.sliceIndexes()) {
      const sent = e.pending.slice(slice)!.clone();
      const fields: string[] = [];
      if (sent.zeroCount > 0) fields.push('z', String(sent.zeroCount));
      sent.forEachBucket((i, c) => fields.push(String(i), String(c)));
      const b = batch(e.shard);
      b.observations += sent.count;
      b.incr(ctx.keys.latency(e.shard, slice, e.service, e.operation), ttl, fields, () => e.pending.subtract(slice, sent));
    }
    const due = e.finalRead < oldest - 1 || ctx.tick % ctx.refreshTicks === e.phase;
    if (!due) continue;
    for (let slice = Math.max(oldest, e.finalRead + 1); slice <= current; slice++) {
      const readAt = now;
      batch(e.shard).getAll(ctx.keys.latency(e.shard, slice, e.service, e.operation), (flat) => {
        e.cluster.replace(slice, sketchFromHash(flat, ctx.sketch));
        if ((slice + 1) * ctx.sliceMs + ctx.graceMs <= readAt) e.finalRead = Math.max(e.finalRead, slice);
        e.cacheTick = -1;
      });
    }
  }
}

/** planRates flushes per-second seen counts and reads the cluster-wide sums over the (lagged) rate window. */
export function planRates(ctx: SyncContext, entries: Iterable<RateEntry>, batch: (shard: number) => ShardBatch): void {
  const now = ctx.now;
  const ttl = (ctx.rateWindowSec + 30) * 1000 + ctx.lagMs;
  const writes = new Map<string, { shard: number; sec: number; fields: string[]; done: Array<() => void> }>();
  const readers = new Map<number, RateEntry[]>();
  for (const e of entries) {
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
    b.incr(ctx.keys.seen(w.shard, w.sec), ttl, w.fields, () => w.done.forEach((f) => f()));
  }
  const endSec = Math.floor((now - ctx.lagMs) / 1000); // exclusive
  const W = ctx.rateWindowSec;
  for (const [shard, list] of readers) {
    const keys: string[] = [];
    for (let s = endSec - W; s < endSec; s++) keys.push(ctx.keys.seen(shard, s));
    batch(shard).sumFields(
      keys,
      list.map((e) => e.key),
      (sums) =>
        list.forEach((e, j) => {
          const cluster = (sums[j] ?? 0) / W;
          const local = e.ring.sum(endSec - W, endSec - 1) / W;
          e.cluster = cluster;
          if (local > 0) e.share = Math.max(1, cluster / local);
        }),
    );
  }
}

/** planErrors flushes per-bucket trace/error counts and reads the cluster-wide counts of the recent buckets. */
export function planErrors(ctx: SyncContext, entries: Iterable<ServiceEntry>, batch: (shard: number) => ShardBatch): void {
  const now = ctx.now;
  const bucketMs = ctx.options.errorBucketMs;
  const ttl = ctx.options.errorWindowMs + 3 * bucketMs + ctx.graceMs;
  const writes = new Map<string, { shard: number; bucket: number; fields: string[]; done: Array<() => void> }>();
  const readers = new Map<number, ServiceEntry[]>();
  for (const e of entries) {
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
    b.incr(ctx.keys.errors(w.shard, w.bucket), ttl, w.fields, () => w.done.forEach((f) => f()));
  }
  const current = Math.floor(now / bucketMs);
  // The recent window, plus the buckets that close within the grace period (fed into the baselines).
  const first = Math.min(current - ctx.errSettings.windowBuckets + 1, ctx.closedBucketBefore - 1);
  for (const [shard, list] of readers) {
    const fields = list.flatMap((e) => [`t:${e.service}`, `e:${e.service}`]);
    for (let bucket = first; bucket <= current; bucket++) {
      batch(shard).getFields(ctx.keys.errors(shard, bucket), fields, (values) =>
        list.forEach((e, j) => {
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

/** sketchFromHash rebuilds a sketch from a Redis hash of bucket index (or "z") -> count. */
export function sketchFromHash(flat: readonly string[], opts: SketchOptions): LatencySketch {
  const s = new LatencySketch(opts);
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

