// The per-tick sync plan of RedisSamplingState: for each kind of aggregate (latency sketches, rates,
// error counts) the entries a replica holds, and the functions that add their writes (local deltas) and
// reads (cluster-wide aggregates) to the shard batches, with the callbacks that apply the reply.

import type { ResolvedStateOptions } from './options';
import { latencyField, type KeyLayout, type ShardBatch } from './redis-batch';
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
  /** This replica's id (random per process start): its field in the latency slice hashes. */
  readonly replica: string;
  readonly refreshTicks: number;
  /** Error buckets before this index are closed cluster-wide. */
  readonly closedBucketBefore: number;
}

/** LatencyEntry is what a replica holds for one (service, operation). */
export interface LatencyEntry {
  readonly service: string;
  readonly operation: string;
  readonly shard: number;
  /** The other replicas' slices as last read (merge of their fields; this replica's own field excluded). */
  readonly cluster: SlicedSketch;
  /** Everything this replica observed, per slice (cumulative; written whole as its field of the slice hash). */
  readonly mine: SlicedSketch;
  /** Per slice, observations of `mine` not yet written to Redis. */
  readonly unsent: Map<number, number>;
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
  /** Highest error bucket read after it closed cluster-wide (it will not change any more; not re-read). */
  finalRead: number;
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
  /** Cluster-wide counts per complete second as last read. */
  readonly seconds: Map<number, number>;
  /** Seconds before this one were read after they settled (they will not change any more; not re-read). */
  finalBefore: number;
  /** Cluster-wide rate at the last sync (traces/s), undefined before. */
  cluster: number | undefined;
  /** cluster / local at the last sync (>= 1), used to scale the local rate while Redis is unreachable. */
  share: number;
  lastTouched: number;
}

/**
 * planLatency writes this replica's cumulative sketch of every slice that changed since the last good
 * write as ONE field (field = key prefix + replica id, value = base64 sketch) of the shard's hash of that
 * slice: one multi-field HSET + PEXPIRE per (shard, slice) per tick, whatever the number of keys and of
 * sketch buckets (idempotent: a retried or duplicated write cannot double count). It re-reads the slices
 * due (current one every latencyRefreshMs, closed ones once after they settle, new keys): per (shard,
 * slice) one SMEMBERS of the slice's replica set and one HMGET (per 500 fields) of the other replicas'
 * fields of the due keys, merged into `cluster`.
 */
export function planLatency(
  ctx: SyncContext,
  entries: Iterable<LatencyEntry>,
  batch: (shard: number) => ShardBatch,
): void {
  const now = ctx.now;
  const current = Math.floor(now / ctx.sliceMs);
  const oldest = current - ctx.options.latencySlices + 1;
  // A slice hash lives until the window no longer covers its slice, plus a minute.
  const ttlOf = (slice: number): number =>
    Math.max(1000, (slice + 1) * ctx.sliceMs + ctx.options.windowMs + 60_000 - now);
  const writes = new Map<string, { shard: number; slice: number; fields: string[]; done: Array<() => void> }>();
  const reads = new Map<
    string,
    { shard: number; slice: number; prefixes: string[]; handlers: Array<(values: string[]) => void> }
  >();
  for (const e of entries) {
    const prefix = latencyField(e.service, e.operation);
    for (const [slice, n] of e.unsent) {
      const sk = e.mine.slice(slice);
      if (sk === undefined || slice < oldest) continue;
      const id = `${e.shard}:${slice}`;
      let w = writes.get(id);
      if (w === undefined) writes.set(id, (w = { shard: e.shard, slice, fields: [], done: [] }));
      w.fields.push(prefix + ctx.replica, sk.toBase64());
      w.done.push(() => {
        const left = (e.unsent.get(slice) ?? 0) - n;
        if (left > 0) e.unsent.set(slice, left);
        else e.unsent.delete(slice);
      });
    }
    const due = e.finalRead < oldest - 1 || ctx.tick % ctx.refreshTicks === e.phase;
    if (!due) continue;
    for (let slice = Math.max(oldest, e.finalRead + 1); slice <= current; slice++) {
      const id = `${e.shard}:${slice}`;
      let r = reads.get(id);
      if (r === undefined) reads.set(id, (r = { shard: e.shard, slice, prefixes: [], handlers: [] }));
      r.prefixes.push(prefix);
      const readAt = now;
      r.handlers.push((values) => {
        e.cluster.replace(slice, mergeSketches(values, ctx.sketch));
        if ((slice + 1) * ctx.sliceMs + ctx.graceMs <= readAt) e.finalRead = Math.max(e.finalRead, slice);
        e.cacheTick = -1;
      });
    }
  }
  for (const w of writes.values()) {
    const b = batch(w.shard);
    b.observations += w.done.length;
    const ttl = ttlOf(w.slice);
    b.hset(
      ctx.keys.latency(w.shard, w.slice),
      ttl,
      ctx.keys.latencyReplicas(w.shard, w.slice),
      ttl,
      ctx.replica,
      w.fields,
      () => w.done.forEach((f) => f()),
    );
  }
  for (const r of reads.values()) {
    batch(r.shard).getMembers(
      ctx.keys.latency(r.shard, r.slice),
      ctx.keys.latencyReplicas(r.shard, r.slice),
      ctx.replica,
      r.prefixes,
      (values) => r.handlers.forEach((h, j) => h(values[j] ?? [])),
    );
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
  // Seconds that ended graceMs ago no longer change: each is read until then, then kept (one HMGET per
  // second still settling, ~3 per tick, instead of the whole window every tick).
  const settled = Math.min(endSec, Math.floor((now - ctx.graceMs) / 1000));
  for (const [shard, list] of readers) {
    let from = endSec;
    for (const e of list) from = Math.min(from, Math.max(endSec - W, e.finalBefore));
    const fields = list.map((e) => e.key);
    const b = batch(shard);
    for (let sec = from; sec < endSec; sec++) {
      b.getFields(ctx.keys.seen(shard, sec), fields, (values) =>
        list.forEach((e, j) => {
          if (sec >= e.finalBefore) e.seconds.set(sec, Number(values[j] ?? 0));
        }),
      );
    }
    b.afterReads(() =>
      list.forEach((e) => {
        let sum = 0;
        for (const [sec, n] of e.seconds) {
          if (sec < endSec - W) e.seconds.delete(sec);
          else if (sec < endSec) sum += n;
        }
        e.finalBefore = Math.max(e.finalBefore, settled);
        const cluster = sum / W;
        const local = e.ring.sum(endSec - W, endSec - 1) / W;
        e.cluster = cluster;
        if (local > 0) e.share = Math.max(1, cluster / local);
      }),
    );
  }
}

/** planErrors flushes per-bucket trace/error counts and reads the cluster-wide counts of the recent buckets. */
export function planErrors(
  ctx: SyncContext,
  entries: Iterable<ServiceEntry>,
  batch: (shard: number) => ShardBatch,
): void {
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
  // Buckets read after they closed cluster-wide are final: they are not read again (~2-3 HMGETs per tick).
  for (const [shard, list] of readers) {
    const fields = list.flatMap((e) => [`t:${e.service}`, `e:${e.service}`]);
    let from = current + 1;
    for (const e of list) from = Math.min(from, Math.max(first, e.finalRead + 1));
    for (let bucket = from; bucket <= current; bucket++) {
      batch(shard).getFields(ctx.keys.errors(shard, bucket), fields, (values) =>
        list.forEach((e, j) => {
          if (bucket <= e.finalRead) return;
          if (bucket < ctx.closedBucketBefore) e.finalRead = Math.max(e.finalRead, bucket);
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

/** mergeSketches merges the serialized (base64) sketches of several replicas; unreadable or incompatible ones are skipped. */
export function mergeSketches(values: readonly string[], opts: SketchOptions): LatencySketch {
  const s = new LatencySketch(opts);
  for (const v of values) {
    try {
      s.merge(LatencySketch.fromBase64(v));
    } catch {
      // a field written with other sketch options or corrupted: ignore it (shared options are documented)
    }
  }
  return s;
}
