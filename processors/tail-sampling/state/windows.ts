// Time-windowed aggregates shared by the memory and Redis stores: a latency sketch cut into time slices
// (sliding window), a per-second counter ring (rates) and the per-service error tracker (recent error
// rate vs an EWMA baseline, degraded state with a decaying boost). All bounded; no I/O.

import type { ResolvedStateOptions } from './options';
import { LatencySketch, type SketchOptions } from './sketch';
import type { LatencyQuantiles, ServiceErrorState } from './types';

const QUANTILES = [0.5, 0.95, 0.99] as const;

/** latencyKey joins a service and an operation into one key (both stores key latency by it; Redis also shards by it). */
export function latencyKey(service: string, operation: string): string {
  return `${service}\u0000${operation}`;
}

/** latencySliceMs is the width of one slice of the latency window: windowMs cut into latencySlices. */
export function latencySliceMs(o: ResolvedStateOptions): number {
  return o.windowMs / o.latencySlices;
}

/** oldestSlice is the index of the oldest slice still inside the latency window at `now` (slice i covers [i, i+1) x latencySliceMs). */
export function oldestSlice(now: number, o: ResolvedStateOptions): number {
  return Math.floor(now / latencySliceMs(o)) - o.latencySlices + 1;
}

/**
 * Fraction of a cached merged quantile's count that this replica's own new observations may reach before the
 * cache is recomputed within the same sync tick (see localDeltaStale).
 */
export const LOCAL_DELTA_STALE_FRACTION = 0.1;

/**
 * localDeltaStale says whether quantiles cached from `cluster` (the other replicas' window as last read)
 * merged with `mine` (this replica's own, synced or not) miss too much of what this replica observed since:
 * more than LOCAL_DELTA_STALE_FRACTION of the cached count, and always when the cache is empty. A burst on
 * a new key is then judged on the replica's own not-yet-synced observations at once (as the embedded mode
 * does), while a busy key still recomputes at most a few times per tick (each recompute grows the count
 * by more than 10 %). The observations of `mine` in the cache are `cache.count - cluster.count`: `cluster`
 * only changes at a sync, which starts a new tick anyway.
 */
export function localDeltaStale(
  cache: LatencyQuantiles | undefined,
  cluster: SlicedSketch,
  mine: SlicedSketch,
): boolean {
  const cached = cache?.count ?? 0;
  const mineCached = cached - (cluster.isEmpty() ? 0 : cluster.count);
  const delta = Math.abs(mine.count - mineCached);
  return delta > 0 && (cached === 0 || delta > cached * LOCAL_DELTA_STALE_FRACTION);
}

/**
 * SlicedSketch is one key's latency sketch over a sliding window made of time slices. The window total
 * is kept incrementally on `add` and rebuilt from the slices after a slice is replaced or pruned.
 */
export class SlicedSketch {
  private readonly _slices = new Map<number, LatencySketch>();
  private _total: LatencySketch;
  private _totalStale = false;
  private _cached: LatencyQuantiles | undefined;
  private _cachedValid = false;

  constructor(private readonly _opts: SketchOptions) {
    this._total = new LatencySketch(_opts);
  }

  /** Records one value in `slice`. */
  add(slice: number, value: number): void {
    let s = this._slices.get(slice);
    if (s === undefined) this._slices.set(slice, (s = new LatencySketch(this._opts)));
    s.add(value);
    if (!this._totalStale) this._total.add(value);
    this._cachedValid = false;
  }

  /** Merges `sketch` into `slice`. */
  merge(slice: number, sketch: LatencySketch): void {
    const s = this._slices.get(slice);
    if (s === undefined) this._slices.set(slice, sketch.clone());
    else s.merge(sketch);
    if (!this._totalStale) this._total.merge(sketch);
    this._cachedValid = false;
  }

  /** Removes `sketch`'s counts from `slice` (e.g. a delta that was flushed); drops the slice when empty. */
  subtract(slice: number, sketch: LatencySketch): void {
    const s = this._slices.get(slice);
    if (s === undefined) return;
    s.subtract(sketch);
    if (s.isEmpty()) this._slices.delete(slice);
    this._totalStale = true;
    this._cachedValid = false;
  }

  /** Replaces the content of `slice` (an empty sketch deletes it). */
  replace(slice: number, sketch: LatencySketch): void {
    if (sketch.isEmpty()) this._slices.delete(slice);
    else this._slices.set(slice, sketch);
    this._totalStale = true;
    this._cachedValid = false;
  }

  /** Drops slices older than `oldestKept`; returns the number of observations dropped. */
  prune(oldestKept: number): number {
    let dropped = 0;
    for (const [k, s] of this._slices) {
      if (k < oldestKept) {
        dropped += s.count;
        this._slices.delete(k);
        this._totalStale = true;
        this._cachedValid = false;
      }
    }
    return dropped;
  }

  /** The sketch of one slice, if any (not a copy). */
  slice(slice: number): LatencySketch | undefined {
    return this._slices.get(slice);
  }

  /** Slice indexes currently held. */
  sliceIndexes(): number[] {
    return [...this._slices.keys()];
  }

  /** True when no slice holds data. */
  isEmpty(): boolean {
    return this._slices.size === 0;
  }

  /** Number of observations in the window. */
  get count(): number {
    return this.total().count;
  }

  /** The window total (not a copy; do not mutate). */
  total(): LatencySketch {
    if (this._totalStale) {
      const t = new LatencySketch(this._opts);
      for (const s of this._slices.values()) t.merge(s);
      this._total = t;
      this._totalStale = false;
    }
    return this._total;
  }

  /** p50/p95/p99 of the window, or undefined when empty; cached until the data changes. */
  quantiles(): LatencyQuantiles | undefined {
    if (!this._cachedValid) {
      this._cached = quantilesOf(this.total());
      this._cachedValid = true;
    }
    return this._cached;
  }
}

/** quantilesOf returns p50/p95/p99 of a sketch, or undefined when it is empty. */
export function quantilesOf(s: LatencySketch): LatencyQuantiles | undefined {
  if (s.isEmpty()) return undefined;
  const [p50, p95, p99] = s.quantiles(QUANTILES);
  return { p50, p95, p99, count: s.count };
}

/** SecondRing counts events per whole second over the last `size` seconds (older seconds are overwritten). */
export class SecondRing {
  private readonly _secs: Float64Array;
  private readonly _counts: Float64Array;

  constructor(readonly size: number) {
    this._secs = new Float64Array(size).fill(-1);
    this._counts = new Float64Array(size);
  }

  /** Adds `n` events to second `sec`. */
  add(sec: number, n = 1): void {
    const i = sec % this.size;
    if (this._secs[i] !== sec) {
      if (this._secs[i] > sec) return; // older than the ring can hold
      this._secs[i] = sec;
      this._counts[i] = 0;
    }
    this._counts[i] += n;
  }

  /** Sum of the counts of seconds in [from, to] (inclusive) still held. */
  sum(from: number, to: number): number {
    let total = 0;
    for (let i = 0; i < this.size; i++) {
      const s = this._secs[i];
      if (s >= from && s <= to) total += this._counts[i];
    }
    return total;
  }

  /** Newest second that holds a count, or -1. */
  newest(): number {
    let m = -1;
    for (let i = 0; i < this.size; i++) if (this._counts[i] > 0 && this._secs[i] > m) m = this._secs[i];
    return m;
  }
}

/** localRate is the rate (events/s) of a SecondRing over the `windowSec` seconds ending at `now` (Unix ms). */
export function localRate(ring: SecondRing, now: number, windowSec: number, startedAt: number): number {
  const sec = Math.floor(now / 1000);
  const count = ring.sum(sec - windowSec + 1, sec);
  const covered = Math.min((windowSec - 1) * 1000 + (now - sec * 1000), now - startedAt);
  return count / (Math.max(covered, 1000) / 1000);
}

/** ErrorTrackerSettings configure every ServiceErrorTracker. */
export interface ErrorTrackerSettings {
  readonly bucketMs: number;
  readonly windowBuckets: number;
  readonly baselineHalfLifeMs: number;
  readonly minVolume: number;
  readonly boost: number;
  readonly decayMs: number;
}

/** errorTrackerSettings derives the tracker settings from resolved options. */
export function errorTrackerSettings(o: ResolvedStateOptions): ErrorTrackerSettings {
  return {
    bucketMs: o.errorBucketMs,
    windowBuckets: o.errorWindowMs / o.errorBucketMs,
    baselineHalfLifeMs: o.baselineHalfLifeMs,
    minVolume: o.minErrorVolume,
    boost: o.degradedBoost,
    decayMs: o.degradedDecayMs,
  };
}

/** ErrorCounts are the traces and error traces of one service in one time bucket. */
export interface ErrorCounts {
  total: number;
  errors: number;
}

/**
 * ServiceErrorTracker follows one service: error counts per time bucket, an EWMA baseline fed with every
 * closed bucket, and the degraded/boost state machine:
 *  - degraded while the recent rate (last `windowBuckets` buckets, current one included) exceeds
 *    max(2 * baseline, baseline + 0.05) with at least `minVolume` traces;
 *  - after that, the boost decays linearly from `boost` to 1 over `decayMs` (degraded stays true meanwhile);
 *    `boostUntil` says when it ends: the last time the rate was above the threshold plus `decayMs`.
 * The baseline starts once `minVolume` traces were seen in closed buckets (no history: never degraded).
 */
export class ServiceErrorTracker {
  /** Best known counts per bucket (for Redis: cluster counts + local unflushed). */
  readonly buckets = new Map<number, ErrorCounts>();
  private _baseline: number | undefined;
  private _warmTotal = 0;
  private _warmErrors = 0;
  private _lastFed = -Infinity;
  private _lastAboveAt: number | undefined;
  private _state: ServiceErrorState = { errorRate: 0, baseline: 0, degraded: false, boost: 1 };
  /** `now` of the last evaluate (-Infinity before). */
  evaluatedAt = -Infinity;

  constructor(private readonly _s: ErrorTrackerSettings) {}

  /** Adds counts to a bucket. */
  add(bucket: number, total: number, errors: number): void {
    const c = this.buckets.get(bucket);
    if (c === undefined) this.buckets.set(bucket, { total, errors });
    else {
      c.total += total;
      c.errors += errors;
    }
  }

  /** Sets the counts of a bucket (after reading cluster-wide figures). */
  set(bucket: number, total: number, errors: number): void {
    this.buckets.set(bucket, { total, errors });
  }

  /** Current baseline (undefined until warmed up). */
  get baseline(): number | undefined {
    return this._baseline;
  }

  /**
   * Advances the tracker to `now`: feeds buckets older than `closedBefore` into the baseline (each once),
   * prunes old buckets, evaluates the degraded state and returns it.
   */
  evaluate(now: number, closedBefore: number): ServiceErrorState {
    const s = this._s;
    this.evaluatedAt = now;
    const alpha = 1 - Math.pow(2, -s.bucketMs / s.baselineHalfLifeMs);
    const feed = [...this.buckets.keys()].filter((b) => b > this._lastFed && b < closedBefore).sort((a, b) => a - b);
    for (const b of feed) {
      const c = this.buckets.get(b)!;
      this._lastFed = b;
      if (c.total <= 0) continue;
      if (this._baseline === undefined) {
        this._warmTotal += c.total;
        this._warmErrors += c.errors;
        if (this._warmTotal >= Math.max(1, s.minVolume)) this._baseline = this._warmErrors / this._warmTotal;
      } else {
        this._baseline += alpha * (c.errors / c.total - this._baseline);
      }
    }
    const current = Math.floor(now / s.bucketMs);
    const oldest = current - s.windowBuckets + 1;
    let total = 0;
    let errors = 0;
    for (const [b, c] of this.buckets) {
      if (b < oldest) {
        if (b <= this._lastFed) this.buckets.delete(b);
        continue;
      }
      if (b > current) continue;
      total += c.total;
      errors += c.errors;
    }
    const rate = total > 0 ? errors / total : 0;
    const baseline = this._baseline;
    const above =
      baseline !== undefined && total >= s.minVolume && total > 0 && rate > Math.max(2 * baseline, baseline + 0.05);
    if (above) this._lastAboveAt = now;
    let degraded = above;
    let boost = above ? s.boost : 1;
    if (!above && this._lastAboveAt !== undefined) {
      const since = now - this._lastAboveAt;
      if (since < s.decayMs) {
        degraded = true;
        boost = 1 + (s.boost - 1) * (1 - since / s.decayMs);
      } else {
        this._lastAboveAt = undefined;
      }
    }
    const base = { errorRate: rate, baseline: baseline ?? rate, degraded, boost };
    this._state =
      degraded && this._lastAboveAt !== undefined
        ? { ...base, boostUntil: this._lastAboveAt + s.decayMs, aboveThreshold: above }
        : base;
    return this._state;
  }

  /** The state computed by the last `evaluate`. */
  get state(): ServiceErrorState {
    return this._state;
  }

  /** True when nothing is held and no state machine is running (the tracker can be forgotten). */
  idle(): boolean {
    return this.buckets.size === 0 && this._lastAboveAt === undefined;
  }
}

/** NEUTRAL_ERROR_STATE is returned for services never seen. */
export const NEUTRAL_ERROR_STATE: ServiceErrorState = Object.freeze({
  errorRate: 0,
  baseline: 0,
  degraded: false,
  boost: 1,
});
