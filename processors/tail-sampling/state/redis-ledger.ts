// RedisLedger: the decision ledger of RedisSamplingState. Inserts are first-wins (SET NX PX in one Lua
// call per shard per batch), lookups are one MGET per shard, and a bounded local LRU answers repeated
// questions without Redis. When Redis is unreachable the local LRU decides (first-wins locally) and the
// decisions are queued (bounded) to be written when Redis returns; an earlier decision found in Redis
// then wins and replaces the local one.

import type { Logger } from 'pino';
import type { DecisionRecord } from '../../../pipeline/component';
import { decodeDecision, encodeDecision, LruTtlMap } from './ledger';
import { type KeyLayout, shardOf } from './redis-batch';
import type { RedisLink } from './redis-link';

/** Largest number of decisions per ledger script call or MGET (bounds the work of one Redis call). */
const MAX_PER_CALL = 1000;
/** Decisions written per catch-up call after an outage. */
const CATCH_UP_PER_TICK = 1000;

/** RedisLedgerOptions configure a RedisLedger. */
export interface RedisLedgerOptions {
  readonly link: RedisLink;
  readonly keys: KeyLayout;
  readonly shards: number;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxPending: number;
  readonly now: () => number;
  readonly logger?: Logger;
  /** Whether Redis may be used now (store running and link up). */
  readonly usable: () => boolean;
}

/** RedisLedger implements recordDecisions/lookupDecisions for RedisSamplingState. Never throws. */
export class RedisLedger {
  private readonly _local: LruTtlMap<string, DecisionRecord>;
  /** Decisions taken while Redis was unreachable, to write when it returns (insertion order = age). */
  private readonly _pending = new Map<string, DecisionRecord>();
  /** Queued decisions dropped at maxPending. */
  dropped = 0;
  /** Queued decisions that lost to an earlier one found in Redis. */
  conflicts = 0;

  constructor(private readonly _o: RedisLedgerOptions) {
    this._local = new LruTtlMap(_o.maxEntries, _o.ttlMs, _o.now);
  }

  /** Number of decisions waiting to be written. */
  get pending(): number {
    return this._pending.size;
  }

  /** Local entries evicted at maxEntries. */
  get evicted(): number {
    return this._local.evicted;
  }

  /** Records a batch first-wins; returns the earlier decision of each trace that had one. */
  async record(records: readonly DecisionRecord[]): Promise<Map<string, DecisionRecord>> {
    const earlier = new Map<string, DecisionRecord>();
    const first = new Map<string, DecisionRecord>();
    for (const r of records) {
      const known = first.get(r.traceId) ?? this._local.get(r.traceId);
      if (known !== undefined) earlier.set(r.traceId, known);
      else first.set(r.traceId, r);
    }
    if (first.size === 0) return earlier;
    if (!this._o.usable()) {
      this._recordLocally([...first.values()], earlier);
      return earlier;
    }
    await Promise.all(
      this._calls([...first.values()], (r) => r.traceId).map(async ([shard, group]) => {
        try {
          const existing = await this._insert(shard, group, this._o.ttlMs);
          group.forEach((r, i) => {
            const winner = existing[i];
            if (winner !== undefined) earlier.set(r.traceId, winner);
            this._local.set(r.traceId, winner ?? r);
          });
        } catch {
          this._recordLocally(group, earlier);
        }
      }),
    );
    return earlier;
  }

  /** Looks decisions up: local LRU first, then one MGET per shard for the misses (when Redis is usable). */
  async lookup(traceIds: readonly string[]): Promise<Map<string, DecisionRecord>> {
    const found = new Map<string, DecisionRecord>();
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
          const values = await this._o.link.mget(ids.map((id) => this._o.keys.decision(shard, id)));
          ids.forEach((id, i) => {
            const v = values[i];
            const r = v ? decodeDecision(id, v) : undefined;
            if (r !== undefined) {
              found.set(id, r);
              this._local.set(id, r);
            }
          });
        } catch {
          // Redis unreachable: answer from the local ledger only (the link counts the error).
        }
      }),
    );
    return found;
  }

  /** Writes up to CATCH_UP_PER_TICK queued decisions (first-wins; a conflict keeps the earlier decision). */
  async flushPending(): Promise<void> {
    if (this._pending.size === 0 || !this._o.usable()) return;
    const batch = [...this._pending.values()].slice(0, CATCH_UP_PER_TICK);
    let conflicts = 0;
    await Promise.all(
      this._calls(batch, (r) => r.traceId).map(async ([shard, group]) => {
        const oldest = Math.min(...group.map((r) => r.decidedAt));
        const ttl = Math.max(1000, this._o.ttlMs - (this._o.now() - oldest));
        try {
          const existing = await this._insert(shard, group, ttl);
          group.forEach((r, i) => {
            this._pending.delete(r.traceId);
            const winner = existing[i];
            if (winner !== undefined && (winner.decision !== r.decision || winner.policy !== r.policy)) {
              conflicts++;
              this._local.set(r.traceId, winner);
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
    this._local.sweep(10_000);
  }

  /** One ledger script call: returns, per record, the earlier decision stored in Redis (undefined when ours was stored). */
  private async _insert(shard: number, group: readonly DecisionRecord[], ttlMs: number): Promise<Array<DecisionRecord | undefined>> {
    const existing = await this._o.link.ledgerInsert(
      group.map((r) => this._o.keys.decision(shard, r.traceId)),
      ttlMs,
      group.map(encodeDecision),
    );
    return group.map((r, i) => {
      const prev = existing[i];
      return prev ? decodeDecision(r.traceId, prev) : undefined;
    });
  }

  private _recordLocally(records: readonly DecisionRecord[], earlier: Map<string, DecisionRecord>): void {
    for (const r of records) {
      const known = this._local.get(r.traceId);
      if (known !== undefined) {
        earlier.set(r.traceId, known);
        continue;
      }
      this._local.set(r.traceId, r);
      this._pending.set(r.traceId, r);
      if (this._pending.size > this._o.maxPending) {
        const oldest = this._pending.keys().next().value as string;
        this._pending.delete(oldest);
        this.dropped++;
      }
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
