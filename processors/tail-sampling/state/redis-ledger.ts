// RedisLedger: the decision ledger of RedisSamplingState. Decisions live in one Redis hash per shard per
// time bucket (bucket width = ttl / LEDGER_BUCKETS_PER_TTL). Kept traces, and a sample of dropped ones
// (`ledgerDroppedSample`), are recorded in full: field = trace id, value = `shortDecision` (decision, policy,
// decidedAt, the deciding replica's id and a kept trace's sampling threshold; the reason and inputs stay in this
// replica's local store only). Every other dropped trace costs a 5-byte fingerprint in a slot field of the same
// hash (ledger-fingerprint.ts), ~6-16 bytes instead of ~120. Inserts are first-wins across all live buckets, in one
// Lua call per shard per batch (per live bucket an HGET and an HMGET, one multi-field HSET, one PEXPIRE: a handful
// of commands per batch, not per trace); lookups are one Lua call per shard (the same reads). The
// state's local store of recent decisions (decision-cache.ts, the same encoded strings) answers repeated
// questions without Redis. When Redis is unreachable the local store decides (first-wins locally) and the
// decisions are queued (bounded) to be written when Redis returns; an earlier decision found in Redis
// then wins and replaces the local one. A value in Redis that does not decode is ignored and counted.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { LruTtlMap } from '../lru';
import { DecisionCache } from './decision-cache';
import {
  decisionHead,
  decisionOutcome,
  encodeDecision,
  fingerprintDecision,
  fingerprintOnlyDecision,
  shortDecision,
} from './ledger';
import { inDroppedSample, traceFingerprint, type TraceFingerprint } from './ledger-fingerprint';
import { type KeyLayout, shardOf } from './redis-batch';
import type { LedgerEntry, LedgerReply, RedisLink } from './redis-link';
import type { LedgerRecord } from './types';

/** Largest number of decisions per ledger script call (bounds the work of one Redis call). */
const MAX_PER_CALL = 1000;
/** Decisions written per catch-up call after an outage. */
const CATCH_UP_PER_TICK = 1000;
/**
 * Ledger buckets per TTL: a bucket hash lives from its first write until its end + ttl, so a decision is
 * kept between ttl and ttl * (1 + 1/B); a lookup or insert reads B + 1 buckets. 4 trades 25 % extra
 * retention for 5 buckets read per call (6 would be ~17 % and 7 buckets).
 */
export const LEDGER_BUCKETS_PER_TTL = 4;

/** RedisLedgerOptions configure a RedisLedger. */
export interface RedisLedgerOptions {
  readonly link: RedisLink;
  readonly keys: KeyLayout;
  readonly shards: number;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxPending: number;
  /** Share of dropped traces recorded in full (0..1); the others as a fingerprint only. */
  readonly droppedSample: number;
  /** This replica's id, written with every decision it records (`decidedBy`). */
  readonly replicaId: string;
  readonly now: () => number;
  readonly logger?: Logger;
  /** Registry of the local store's metrics (undecodable records). */
  readonly metrics?: Registry;
  /** Whether Redis may be used now (store running and link up). */
  readonly usable: () => boolean;
}

/** RedisLedger implements recordDecisions/lookupDecisions for RedisSamplingState. Never throws. */
export class RedisLedger {
  /** The local store of recent decisions: full entries for our own decisions, short ones for those read from Redis. */
  private readonly _local: DecisionCache;
  /** Decisions taken while Redis was unreachable (trace id -> local entry), to write when it returns (oldest first). */
  private readonly _pending: LruTtlMap<string, string>;
  private readonly _bucketMs: number;
  /** Queued decisions that lost to an earlier one found in Redis. */
  conflicts = 0;

  constructor(private readonly _o: RedisLedgerOptions) {
    this._local = new DecisionCache({
      maxEntries: _o.maxEntries,
      ttlMs: _o.ttlMs,
      now: _o.now,
      metrics: _o.metrics,
      logger: _o.logger,
    });
    this._pending = new LruTtlMap(_o.maxPending);
    this._bucketMs = Math.max(1, Math.ceil(_o.ttlMs / LEDGER_BUCKETS_PER_TTL));
  }

  /** Queued decisions dropped at maxPending (the oldest first). */
  get dropped(): number {
    return this._pending.evicted;
  }

  /** Number of decisions waiting to be written. */
  get pending(): number {
    return this._pending.size;
  }

  /** Local entries evicted at maxEntries. */
  get evicted(): number {
    return this._local.evicted;
  }

  /** Values (from Redis or the local store) ignored because they could not be decoded. */
  get undecodable(): number {
    return this._local.undecodable;
  }

  /**
   * Records a batch first-wins; returns the earlier decision of each trace that had one. For the ids in
   * `overriding`, a fingerprint-only earlier decision does not count (see SamplingState.recordDecisions).
   */
  async record(records: readonly LedgerRecord[], overriding?: ReadonlySet<string>): Promise<Map<string, LedgerRecord>> {
    const earlier = new Map<string, LedgerRecord>();
    const first = new Map<string, LedgerRecord>();
    for (const r of records) {
      const inBatch = first.get(r.traceId);
      if (inBatch !== undefined) {
        earlier.set(r.traceId, inBatch);
        continue;
      }
      const known = this._local.get(r.traceId);
      if (known !== undefined && !(known.fingerprintOnly !== undefined && overriding?.has(r.traceId) === true)) {
        earlier.set(r.traceId, known);
      } else first.set(r.traceId, r);
    }
    if (first.size === 0) return earlier;
    const outgoing: Outgoing[] = [];
    for (const r of first.values()) outgoing.push(this._outgoing(r, overriding?.has(r.traceId) === true));
    if (!this._o.usable()) {
      this._recordLocally(outgoing, earlier, overriding);
      return earlier;
    }
    await Promise.all(
      this._calls(outgoing, (o) => o.entry.id).map(async ([shard, group]) => {
        try {
          const keys = this._bucketKeys(shard);
          const found = await this._insert(
            keys,
            group.map((o) => o.entry),
          );
          group.forEach(({ entry: { id }, text }, i) => {
            const winner = this._winner(id, found.records[i] ?? null, found.fingerprintKey[i] ?? -1, keys.length);
            if (winner !== undefined) {
              earlier.set(id, this._local.decode(id, winner)!);
              this._local.setEncoded(id, winner);
            } else {
              this._local.setEncoded(id, text);
            }
          });
        } catch {
          this._recordLocally(group, earlier, overriding);
        }
      }),
    );
    return earlier;
  }

  /** Looks decisions up: local store first, then one script call per shard for the misses (when Redis is usable). */
  async lookup(traceIds: readonly string[]): Promise<Map<string, LedgerRecord>> {
    const found = new Map<string, LedgerRecord>();
    const misses: string[] = [];
    for (const id of new Set(traceIds)) {
      const r = this._local.get(id);
      if (r !== undefined) found.set(id, r);
      else misses.push(id);
    }
    if (misses.length === 0 || !this._o.usable()) return found;
    await Promise.all(
      this._calls(misses, (id) => id).map(async ([shard, ids]) => {
        try {
          const keys = this._bucketKeys(shard);
          const entries = ids.map((id) => ledgerEntry(id, traceFingerprint(id), '', false));
          const reply = await this._o.link.ledger(keys, entries, false, this._o.ttlMs);
          ids.forEach((id, i) => {
            const v = this._winner(id, reply.records[i] ?? null, reply.fingerprintKey[i] ?? -1, keys.length);
            const r = v === undefined ? undefined : this._local.decode(id, v);
            if (r !== undefined) {
              found.set(id, r);
              this._local.setEncoded(id, v!);
            }
          });
        } catch {
          // Redis unreachable: answer from the local ledger only (the link counts the error).
        }
      }),
    );
    return found;
  }

  /** The decision held in the local store (recorded, read or remembered here), without Redis. */
  recent(traceId: string): LedgerRecord | undefined {
    return this._local.get(traceId);
  }

  /** Keeps a decision that is not to be written to Redis in the local store (first wins); see SamplingState. */
  remember(record: LedgerRecord): void {
    this._local.add(record);
  }

  /** Writes up to CATCH_UP_PER_TICK queued decisions (first-wins; a conflict keeps the earlier decision). */
  async flushPending(): Promise<void> {
    if (this._pending.size === 0 || !this._o.usable()) return;
    const batch: Array<[string, string]> = [];
    for (const e of this._pending.oldestFirst()) {
      if (batch.length >= CATCH_UP_PER_TICK) break;
      batch.push(e);
    }
    let conflicts = 0;
    await Promise.all(
      this._calls(batch, (e) => e[0]).map(async ([shard, group]) => {
        try {
          const keys = this._bucketKeys(shard);
          const found = await this._insert(
            keys,
            group.map(([id, text]) => {
              const fingerprintOnly = this._local.decode(id, text)?.fingerprintOnly !== undefined;
              return ledgerEntry(id, traceFingerprint(id), fingerprintOnly ? '' : shortDecision(text), false);
            }),
          );
          group.forEach(([id, text], i) => {
            this._pending.delete(id);
            const prev = this._winner(id, found.records[i] ?? null, found.fingerprintKey[i] ?? -1, keys.length);
            // A fingerprint names no policy: it conflicts only with a decision to keep.
            const fingerprint = prev !== undefined && this._local.decode(id, prev)?.fingerprintOnly !== undefined;
            const differs = fingerprint ? prev[0] !== text[0] : decisionOutcome(prev ?? '') !== decisionOutcome(text);
            if (prev !== undefined && differs) {
              conflicts++;
              this._local.setEncoded(id, prev);
            }
          });
        } catch {
          // Still unreachable for this shard: retried next tick.
        }
      }),
    );
    if (conflicts > 0) {
      this.conflicts += conflicts;
      this._o.logger?.warn(
        { conflicts, total: this.conflicts },
        'sampling state: decisions taken during the redis outage conflicted with earlier ones; the earlier ones are kept',
      );
    }
  }

  /** Removes expired local entries (bounded work). */
  sweep(): void {
    this._local.sweep();
  }

  /**
   * The live ledger hashes of `shard`, oldest first, the current (write) bucket last. A bucket's hash
   * expires ttl after the bucket's end, so the buckets of the last ttl + one bucket are live.
   */
  private _bucketKeys(shard: number): string[] {
    const current = Math.floor(this._o.now() / this._bucketMs);
    const keys: string[] = [];
    for (let b = current - LEDGER_BUCKETS_PER_TTL; b <= current; b++) keys.push(this._o.keys.ledger(shard, b));
    return keys;
  }

  /**
   * What is written of a decision of ours: locally the full record, or for a dropped trace outside the sample of
   * dropped traces (and not overriding a fingerprint) the short entry marked fingerprint-only; to Redis the short
   * record, or only the fingerprint (value ''). The id is hashed once for both.
   */
  private _outgoing(r: LedgerRecord, override: boolean): Outgoing {
    const f = traceFingerprint(r.traceId);
    if (r.decision !== 'sampled' && !override && !inDroppedSample(f, this._o.droppedSample)) {
      // Only a fingerprint goes to Redis and only the head is kept here: no reason or inputs to encode.
      return {
        text: fingerprintOnlyDecision(decisionHead(r, this._o.replicaId)),
        entry: ledgerEntry(r.traceId, f, '', override),
      };
    }
    const full = encodeDecision(r, this._o.replicaId);
    return { text: full, entry: ledgerEntry(r.traceId, f, shortDecision(full), override) };
  }

  /**
   * The earlier decision a ledger reply gives for a trace, as a local entry: the full record when it decodes
   * (an undecodable one is counted and ignored), else the fingerprint found in bucket key `fpKey` of the
   * `keyCount` keys read (oldest first, the current bucket last), else undefined.
   */
  private _winner(id: string, record: string | null, fpKey: number, keyCount: number): string | undefined {
    if (record !== null && this._local.decode(id, record) !== undefined) return record;
    if (fpKey < 0) return undefined;
    const bucket = Math.floor(this._o.now() / this._bucketMs) - (keyCount - 1 - fpKey);
    return fingerprintDecision(bucket * this._bucketMs, this._bucketMs);
  }

  /** One ledger script call that writes `entries` first-wins into the current bucket of `keys`. */
  private async _insert(keys: readonly string[], entries: readonly LedgerEntry[]): Promise<LedgerReply> {
    const now = this._o.now();
    const bucketEnd = (Math.floor(now / this._bucketMs) + 1) * this._bucketMs;
    return this._o.link.ledger(keys, entries, true, bucketEnd - now + this._o.ttlMs);
  }

  private _recordLocally(
    outgoing: readonly Outgoing[],
    earlier: Map<string, LedgerRecord>,
    overriding: ReadonlySet<string> | undefined,
  ): void {
    for (const {
      entry: { id },
      text,
    } of outgoing) {
      const known = this._local.get(id);
      if (known !== undefined && !(known.fingerprintOnly !== undefined && overriding?.has(id) === true)) {
        earlier.set(id, known);
        continue;
      }
      this._local.setEncoded(id, text);
      this._pending.set(id, text);
    }
  }

  /** Groups items by shard and splits each group into calls of at most MAX_PER_CALL items. */
  private _calls<T>(items: readonly T[], id: (t: T) => string): Array<[number, T[]]> {
    const byShard = new Map<number, T[]>();
    for (const it of items) {
      const s = shardOf(id(it), this._o.shards);
      let list = byShard.get(s);
      if (list === undefined) byShard.set(s, (list = []));
      list.push(it);
    }
    const out: Array<[number, T[]]> = [];
    for (const [shard, list] of byShard) {
      for (let i = 0; i < list.length; i += MAX_PER_CALL) out.push([shard, list.slice(i, i + MAX_PER_CALL)]);
    }
    return out;
  }
}

/** Outgoing is one decision of ours on its way to the ledger: the local store's entry and the script's. */
interface Outgoing {
  readonly text: string;
  readonly entry: LedgerEntry;
}

/** ledgerEntry is the script entry of trace `id` (fingerprint `f`) with the short record `value` ('' = fingerprint only). */
function ledgerEntry(id: string, f: TraceFingerprint, value: string, override: boolean): LedgerEntry {
  return { id, slot: f.slot, fp: f.fp, value, override };
}
