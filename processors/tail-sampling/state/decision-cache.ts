// DecisionCache: the one local store of recent decisions of a sampling state (memory and Redis alike), the
// one place where the processor learns, without I/O, that a trace was decided (SamplingState.recentDecision).
// It holds what the state recorded or read from a shared ledger, and the decisions the processor took but
// did not record (logs-only traces, a failed ledger call). Bounded by entry count (least recently used
// evicted first, `decision_cache_size`) with a TTL. Each entry is ONE string (ledger.ts codec), not a record
// object graph: the store holds ~10^5 entries for a long time and every major GC marks what it holds.

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { registeredMetric } from '../../../pipeline/sdk/metrics';
import { LruTtlMap } from '../lru';
import { decodeDecision, encodeDecision, fingerprintOnlyDecision, type LedgerRecordError } from './ledger';
import { inDroppedSample, traceFingerprint } from './ledger-fingerprint';
import type { LedgerRecord } from './types';

/** How often undecodable records are logged at most, ms (each one is counted). */
const LOG_INTERVAL_MS = 60_000;

/** DecisionCacheOptions configure a DecisionCache. */
export interface DecisionCacheOptions {
  /** Bound, entries; the least recently used entry is evicted beyond it. */
  readonly maxEntries: number;
  /** How long an entry lives, ms. Default Infinity (until evicted). */
  readonly ttlMs?: number;
  /** Clock, unix ms. Default Date.now. */
  readonly now?: () => number;
  /** Registry of `tusk_state_ledger_undecodable_total`. Default: none (`undecodable` still counts). */
  readonly metrics?: Registry;
  /** Where undecodable records are reported (at most once a minute). Default: nowhere. */
  readonly logger?: Logger;
  /**
   * Share of dropped decisions `set` keeps in full (0..1, by a hash of the trace id); the others are kept as a
   * short entry (decision, policy, time, replica; no reason nor inputs), marked fingerprint-only. Default 1.
   */
  readonly droppedSample?: number;
}

/** DecisionCache keeps recent decisions by trace id, as encoded strings; a record is decoded when asked for. */
export class DecisionCache {
  private readonly _map: LruTtlMap<string, string>;
  private readonly _now: () => number;
  private readonly _metric: Counter<'reason'> | undefined;
  private readonly _logger: Logger | undefined;
  private readonly _droppedSample: number;
  private _lastLog = -Infinity;
  private _logged = 0;
  /** Values that could not be decoded (malformed, foreign, or of a newer layout), from the store or from a ledger. */
  undecodable = 0;

  constructor(o: DecisionCacheOptions) {
    this._now = o.now ?? Date.now;
    this._map = new LruTtlMap(o.maxEntries, o.ttlMs ?? Infinity, this._now);
    this._logger = o.logger;
    this._droppedSample = o.droppedSample ?? 1;
    const registry = o.metrics;
    const name = 'tusk_state_ledger_undecodable_total';
    this._metric =
      registry === undefined
        ? undefined
        : registeredMetric(
            registry,
            name,
            () =>
              new Counter({
                name,
                help: 'Ledger records that could not be decoded and were ignored, by reason (malformed, unsupported_version).',
                labelNames: ['reason'],
                registers: [registry],
              }),
          );
  }

  /** Entries held (expired ones included until touched, swept or evicted). */
  get size(): number {
    return this._map.size;
  }

  /** Entries evicted because the store was full. */
  get evicted(): number {
    return this._map.evicted;
  }

  /** The live decision of a trace (decoded anew, marked recently used), or undefined. */
  get(traceId: string): LedgerRecord | undefined {
    const text = this._map.get(traceId);
    return text === undefined ? undefined : this.decode(traceId, text);
  }

  /**
   * Stores a decision (replacing the one held); `decidedBy` defaults to the record's. A dropped decision outside
   * the `droppedSample` is stored short (see DecisionCacheOptions). Returns the encoded entry.
   */
  set(record: LedgerRecord, decidedBy = record.decidedBy): string {
    let text = encodeDecision(record, decidedBy);
    if (record.decision !== 'sampled' && this._droppedSample < 1) {
      if (!inDroppedSample(traceFingerprint(record.traceId), this._droppedSample)) text = fingerprintOnlyDecision(text);
    }
    this._map.set(record.traceId, text);
    return text;
  }

  /** Stores a decision unless one is held for the trace already (which then stays, as the first). */
  add(record: LedgerRecord): void {
    if (this._map.get(record.traceId) === undefined) this.set(record);
  }

  /** Stores an entry already encoded (ledger.ts codec), e.g. a value read from Redis, without decoding it. */
  setEncoded(traceId: string, text: string): void {
    this._map.set(traceId, text);
  }

  /**
   * decode reads an encoded record (an entry, or a value from a shared ledger); a value that is not a readable
   * record gives undefined, is counted in `undecodable` and the metric, and is logged at most once a minute.
   */
  decode(traceId: string, text: string): LedgerRecord | undefined {
    return decodeDecision(traceId, text, (err) => this._undecodable(err));
  }

  /** Removes expired entries (least recently used first, up to `limit`). */
  sweep(limit = 10_000): number {
    return this._map.sweep(limit);
  }

  private _undecodable(err: LedgerRecordError): void {
    this.undecodable++;
    this._metric?.inc({ reason: err.problem });
    const now = this._now();
    if (this._logger === undefined || now - this._lastLog < LOG_INTERVAL_MS) return;
    this._logger.warn(
      { err, undecodable: this.undecodable - this._logged },
      'sampling state: ledger records that could not be decoded were ignored (the trace counts as undecided here)',
    );
    this._lastLog = now;
    this._logged = this.undecodable;
  }
}
