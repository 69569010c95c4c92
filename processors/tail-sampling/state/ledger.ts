// The local decision ledger (a bounded LRU map whose entries expire after a TTL) and the compact string
// codec of a DecisionRecord, as stored in Redis and in the local ledger (the trace id is the key, so it
// is not repeated).

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

/** Separator of the fields of an encoded decision (JSON escapes it, so it never occurs inside `inputs`). */
const SEP = '\x1f';

/**
 * encodeDecision renders a record compactly without its trace id (the hash field / map key):
 * `<s|n><policy>␟<decidedAt, base-36 ms>␟<reason>␟<inputs as JSON, empty when none>`. This one string is
 * the entry of the local ledger (one string per trace instead of a record object graph); `decodeDecision`
 * materializes the DecisionRecord only when one is asked for. Redis stores its `shortDecision` head.
 */
export function encodeDecision(r: DecisionRecord): string {
  let inputs = '';
  for (const _ in r.inputs) {
    inputs = JSON.stringify(r.inputs);
    break;
  }
  return `${r.decision === 'sampled' ? 's' : 'n'}${r.policy}${SEP}${r.decidedAt.toString(36)}${SEP}${r.reason}${SEP}${inputs}`;
}

/** decisionOutcome is the "<s|n><policy>" head of an encoded decision (what following a decision needs). */
export function decisionOutcome(text: string): string {
  const i = text.indexOf(SEP);
  return i < 0 ? text : text.slice(0, i);
}

/**
 * shortDecision cuts an encoded decision to `<s|n><policy>␟<decidedAt>` (no reason, no inputs): the value
 * stored in Redis, ~10-40 bytes. It decodes to a record with `reason: ''` and `inputs: {}`.
 */
export function shortDecision(text: string): string {
  const i1 = text.indexOf(SEP);
  const i2 = i1 < 0 ? -1 : text.indexOf(SEP, i1 + 1);
  return i2 < 0 ? text : text.slice(0, i2);
}

/** decodeDecision parses `encodeDecision` or `shortDecision` output for `traceId`; undefined when malformed. */
export function decodeDecision(traceId: string, text: string): DecisionRecord | undefined {
  const d = text.charCodeAt(0);
  if (d !== 115 /* s */ && d !== 110 /* n */) return undefined;
  const i1 = text.indexOf(SEP);
  if (i1 < 0) return undefined;
  const i2 = text.indexOf(SEP, i1 + 1);
  const i3 = text.lastIndexOf(SEP);
  if (i2 >= 0 && i3 <= i2) return undefined; // a reason without its inputs part
  const time = i2 < 0 ? text.slice(i1 + 1) : text.slice(i1 + 1, i2);
  const decidedAt = /^-?[0-9a-z]+$/.test(time) ? parseInt(time, 36) : NaN;
  if (!Number.isSafeInteger(decidedAt)) return undefined;
  const inputs: Record<string, string | number | boolean> = {};
  if (i2 >= 0 && i3 + 1 < text.length) {
    let v: unknown;
    try {
      v = JSON.parse(text.slice(i3 + 1));
    } catch {
      return undefined;
    }
    if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') inputs[k] = x;
      }
    }
  }
  return {
    traceId,
    decision: d === 115 ? 'sampled' : 'not_sampled',
    policy: text.slice(1, i1),
    reason: i2 < 0 ? '' : text.slice(i2 + 1, i3),
    inputs,
    decidedAt,
  };
}
