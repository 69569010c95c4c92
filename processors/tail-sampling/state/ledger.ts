// The local decision ledger (a bounded LRU map whose entries expire after a TTL) and the compact JSON
// codec of a DecisionRecord as stored in Redis (the trace id is the key, so it is not repeated).

import type { DecisionRecord } from '../../../pipeline/component';

/** LruTtlMap is a Map bounded by entry count (least recently used evicted first) whose entries expire. */
export class LruTtlMap<K, V> {
  private readonly _map = new Map<K, { value: V; expiresAt: number }>();
  /** Entries evicted because the map was full. */
  evicted = 0;

  constructor(
    private readonly _maxEntries: number,
    private readonly _ttlMs: number,
    private readonly _now: () => number,
  ) {}

  /** Number of entries held (expired ones included until touched or evicted). */
  get size(): number {
    return this._map.size;
  }

  /** The live value for `key` (refreshing its recency), or undefined. */
  get(key: K): V | undefined {
    const e = this._map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this._now()) {
      this._map.delete(key);
      return undefined;
    }
    this._map.delete(key);
    this._map.set(key, e);
    return e.value;
  }

  /** Stores `value` for `key` with a fresh TTL, evicting the least recently used entries beyond the bound. */
  set(key: K, value: V, ttlMs = this._ttlMs): void {
    this._map.delete(key);
    this._map.set(key, { value, expiresAt: this._now() + ttlMs });
    while (this._map.size > this._maxEntries) {
      const oldest = this._map.keys().next().value as K;
      this._map.delete(oldest);
      this.evicted++;
    }
  }

  /** Deletes `key`. */
  delete(key: K): boolean {
    return this._map.delete(key);
  }

  /** Removes expired entries (oldest first, up to `limit`); returns how many were removed. */
  sweep(limit = Infinity): number {
    const now = this._now();
    let removed = 0;
    for (const [k, e] of this._map) {
      if (removed >= limit) break;
      if (e.expiresAt <= now) {
        this._map.delete(k);
        removed++;
      }
    }
    return removed;
  }
}

interface StoredDecision {
  d: 's' | 'n';
  p: string;
  r: string;
  i: Record<string, string | number | boolean>;
  t: number;
}

/** encodeDecision renders a record as compact JSON without its trace id. */
export function encodeDecision(r: DecisionRecord): string {
  const v: StoredDecision = { d: r.decision === 'sampled' ? 's' : 'n', p: r.policy, r: r.reason, i: { ...r.inputs }, t: r.decidedAt };
  return JSON.stringify(v);
}

/** decodeDecision parses `encodeDecision` output for `traceId`; undefined when the value is malformed. */
export function decodeDecision(traceId: string, text: string): DecisionRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Partial<StoredDecision>;
  if ((o.d !== 's' && o.d !== 'n') || typeof o.p !== 'string' || typeof o.t !== 'number') return undefined;
  const inputs: Record<string, string | number | boolean> = {};
  if (typeof o.i === 'object' && o.i !== null) {
    for (const [k, x] of Object.entries(o.i)) {
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') inputs[k] = x;
    }
  }
  return {
    traceId,
    decision: o.d === 's' ? 'sampled' : 'not_sampled',
    policy: o.p,
    reason: typeof o.r === 'string' ? o.r : '',
    inputs,
    decidedAt: o.t,
  };
}
