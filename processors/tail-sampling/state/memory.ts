// MemorySamplingState: the in-process sampling state of the embedded mode (and of unit tests). Same
// semantics as the Redis store, with this process as the whole "cluster": latency sketches per
// (service, operation) over a sliding window of time slices, error state per service, local trace rates
// per key, and the decision ledger, which is the local store of recent decisions (decision-cache.ts: a
// bounded LRU of encoded records with a TTL). No I/O anywhere.

import type { ComponentHealth } from '../../../pipeline/sdk/component';
import { DecisionCache } from './decision-cache';
import { resolveStateOptions, type ResolvedStateOptions, type SamplingStateOptions } from './options';
import type { LatencyQuantiles, LedgerRecord, SamplingState, SamplingStateStats, ServiceErrorState } from './types';
import {
  NEUTRAL_ERROR_STATE,
  SecondRing,
  ServiceErrorTracker,
  SlicedSketch,
  errorTrackerSettings,
  latencyKey,
  latencySliceMs,
  localRate,
  oldestSlice,
  type ErrorTrackerSettings,
} from './windows';

interface RateEntry {
  readonly ring: SecondRing;
}

/**
 * MemorySamplingState keeps every aggregate in this process. Reads are exact for the data recorded so far
 * (no sync delay). Works without `start()`; `start()` only adds a housekeeping timer that prunes idle keys
 * and expired ledger entries. Memory is bounded by `maxKeys` per kind and `ledgerMaxEntries`.
 */
export class MemorySamplingState implements SamplingState {
  private readonly _o: ResolvedStateOptions;
  private readonly _sliceMs: number;
  private readonly _rateWindowSec: number;
  private readonly _errSettings: ErrorTrackerSettings;
  private readonly _latency = new Map<string, SlicedSketch>();
  private readonly _errors = new Map<string, ServiceErrorTracker>();
  private readonly _rates = new Map<string, RateEntry>();
  private readonly _ledger: DecisionCache;
  private readonly _createdAt: number;
  private _status: 'new' | 'running' | 'stopped' = 'new';
  private _timer: NodeJS.Timeout | undefined;
  private _dropped = 0;
  private _lastHousekeeping = -Infinity;

  constructor(options: SamplingStateOptions = {}) {
    this._o = resolveStateOptions(options);
    this._sliceMs = latencySliceMs(this._o);
    this._rateWindowSec = this._o.rateWindowMs / 1000;
    this._errSettings = errorTrackerSettings(this._o);
    this._ledger = new DecisionCache({
      maxEntries: this._o.ledgerMaxEntries,
      ttlMs: this._o.ledgerTtlMs,
      now: this._o.now,
      metrics: this._o.metrics,
      logger: this._o.logger,
      // In one process every decision keeps its reason and inputs: the sample exists to keep the shared
      // Redis ledger small, and the local store is bounded by decision_cache_size either way.
      droppedSample: 1,
    });
    this._createdAt = this._o.now();
  }

  /** Starts the housekeeping timer (every syncIntervalMs; unref'd). */
  async start(): Promise<void> {
    if (this._status !== 'new') return;
    this._status = 'running';
    this._timer = setInterval(() => this.housekeeping(), Math.max(this._o.syncIntervalMs, 1000));
    this._timer.unref();
  }

  /** Stops the timer; idempotent and safe without start. Data stays readable. */
  async shutdown(): Promise<void> {
    if (this._timer !== undefined) clearInterval(this._timer);
    this._timer = undefined;
    this._status = 'stopped';
  }

  /** Always ready while not stopped: nothing external can fail. */
  health(): ComponentHealth {
    if (this._status === 'stopped') return { ready: false, detail: 'sampling state (memory) stopped' };
    return {
      ready: true,
      degraded: false,
      detail: `sampling state in memory: ${this._latency.size} latency keys, ${this._errors.size} services, ${this._ledger.size} decisions`,
    };
  }

  recordLatency(service: string, operation: string, durationUs: number): void {
    if (!Number.isFinite(durationUs) || durationUs < 0) return;
    const key = latencyKey(service, operation);
    let w = this._latency.get(key);
    if (w === undefined) {
      if (!this._admit(this._latency)) return;
      this._latency.set(key, (w = new SlicedSketch({ relativeAccuracy: this._o.sketchRelativeAccuracy })));
    }
    w.add(Math.floor(this._o.now() / this._sliceMs), durationUs);
  }

  recordTraceOutcome(service: string, hadError: boolean): void {
    let t = this._errors.get(service);
    if (t === undefined) {
      if (!this._admit(this._errors)) return;
      this._errors.set(service, (t = new ServiceErrorTracker(this._errSettings)));
    }
    const now = this._o.now();
    const bucket = Math.floor(now / this._o.errorBucketMs);
    t.add(bucket, 1, hadError ? 1 : 0);
    // Keep the degraded state machine current (when the spike ends matters for the decay), at most once a second.
    if (now - t.evaluatedAt >= 1000) t.evaluate(now, bucket);
  }

  recordSeen(key: string): void {
    let r = this._rates.get(key);
    if (r === undefined) {
      if (!this._admit(this._rates)) return;
      this._rates.set(key, (r = { ring: new SecondRing(this._rateWindowSec + 1) }));
    }
    r.ring.add(Math.floor(this._o.now() / 1000));
  }

  latencyQuantiles(service: string, operation: string): LatencyQuantiles | undefined {
    const w = this._latency.get(latencyKey(service, operation));
    if (w === undefined) return undefined;
    w.prune(oldestSlice(this._o.now(), this._o));
    return w.quantiles();
  }

  serviceErrorState(service: string): ServiceErrorState {
    const t = this._errors.get(service);
    if (t === undefined) return NEUTRAL_ERROR_STATE;
    const now = this._o.now();
    return t.evaluate(now, Math.floor(now / this._o.errorBucketMs));
  }

  clusterRate(key: string): number | undefined {
    const r = this._rates.get(key);
    if (r === undefined) return undefined;
    return localRate(r.ring, this._o.now(), this._rateWindowSec, this._createdAt);
  }

  async recordDecisions(records: readonly LedgerRecord[]): Promise<Map<string, LedgerRecord>> {
    const earlier = new Map<string, LedgerRecord>();
    for (const r of records) {
      const existing = this._ledger.get(r.traceId);
      if (existing !== undefined) earlier.set(r.traceId, existing);
      else this._ledger.set(r);
    }
    return earlier;
  }

  recentDecision(traceId: string): LedgerRecord | undefined {
    return this._ledger.get(traceId);
  }

  rememberDecision(record: LedgerRecord): void {
    this._ledger.add(record);
  }

  async lookupDecisions(traceIds: readonly string[]): Promise<Map<string, LedgerRecord>> {
    const found = new Map<string, LedgerRecord>();
    for (const id of traceIds) {
      const r = this._ledger.get(id);
      if (r !== undefined) found.set(id, r);
    }
    return found;
  }

  stats(): SamplingStateStats {
    return {
      roundTrips: 0,
      commands: 0,
      errors: 0,
      lastSyncMs: 0,
      lastSyncAt: 0,
      syncs: 0,
      pendingObservations: 0,
      pendingDecisions: 0,
      dropped: this._dropped + this._ledger.evicted,
      undecodable: this._ledger.undecodable,
    };
  }

  /** Prunes windows, forgets idle keys and sweeps expired ledger entries (run by the timer; callable in tests). */
  housekeeping(): void {
    const now = this._o.now();
    this._lastHousekeeping = now;
    const oldest = oldestSlice(now, this._o);
    for (const [k, w] of this._latency) {
      w.prune(oldest);
      if (w.isEmpty()) this._latency.delete(k);
    }
    const bucket = Math.floor(now / this._o.errorBucketMs);
    for (const [k, t] of this._errors) {
      t.evaluate(now, bucket);
      if (t.idle()) this._errors.delete(k);
    }
    const sec = Math.floor(now / 1000);
    for (const [k, r] of this._rates) if (r.ring.newest() <= sec - this._rateWindowSec) this._rates.delete(k);
    this._ledger.sweep();
  }

  /** Whether a map may take one more key; when full, runs housekeeping once, then drops and counts. */
  private _admit(map: Map<string, unknown>): boolean {
    if (map.size < this._o.maxKeys) return true;
    const now = this._o.now();
    if (now - this._lastHousekeeping >= 1000) this.housekeeping();
    if (map.size < this._o.maxKeys) return true;
    this._dropped++;
    return false;
  }
}
