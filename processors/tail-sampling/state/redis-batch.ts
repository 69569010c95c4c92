// Redis key layout of the sampling state and ShardBatch, the builder of one shard's sync request (the
// payload of the sync Lua script plus the callbacks that apply its reply). Every key of a shard carries
// the hash tag `{s<n>}`, so one script call per shard touches a single Redis Cluster slot.
//
//   <prefix>{s<n>}:lat:<slice>                             hash  <len>:<service><operation>|<replica> -> sketch (base64)
//   <prefix>{s<n>}:latr:<slice>                            set   replica ids that wrote fields of lat:<slice>
//   <prefix>{s<n>}:seen:<second>                            hash  rate key -> traces seen that second
//   <prefix>{s<n>}:err:<bucket>                             hash  "t:<service>" -> traces, "e:<service>" -> error traces
//   <prefix>{s<n>}:ledger:<bucket>                          hash  trace id -> compact decision (ledger.ts codec)

import type { SyncReply } from './redis-link';

/** Largest number of fields sent in one HMGET inside the script (Lua's unpack has a stack limit). */
export const MAX_FIELDS_PER_READ = 500;

/** Largest number of (field, value) pairs sent in one HSET inside the script. */
export const MAX_PAIRS_PER_WRITE = 500;

/** latencyField is the field prefix of one (service, operation) in a latency slice hash; the replica id follows. */
export function latencyField(service: string, operation: string): string {
  return `${service.length}:${service}${operation}|`;
}

/** shardOf maps a string to a shard in [0, shards) (FNV-1a, stable across processes). */
export function shardOf(s: string, shards: number): number {
  if (shards === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** KeyLayout names every Redis key of one store (prefix + shard tag). */
export class KeyLayout {
  constructor(private readonly _prefix: string) {}

  /** The hash-tagged head of every key in shard `n`. */
  head(n: number): string {
    return `${this._prefix}{s${n}}:`;
  }

  /** The hash of shard `n`'s latency sketches of time slice `slice`: one field per (key, replica). */
  latency(n: number, slice: number): string {
    return `${this.head(n)}lat:${slice}`;
  }

  /** The set of replica ids that wrote fields of `latency(n, slice)`. */
  latencyReplicas(n: number, slice: number): string {
    return `${this.head(n)}latr:${slice}`;
  }

  seen(n: number, second: number): string {
    return `${this.head(n)}seen:${second}`;
  }

  errors(n: number, bucket: number): string {
    return `${this.head(n)}err:${bucket}`;
  }

  /** The ledger hash of shard `n` for time bucket `bucket` (= floor(write time / bucket width)). */
  ledger(n: number, bucket: number): string {
    return `${this.head(n)}ledger:${bucket}`;
  }
}

/** ShardBatch collects the writes and reads of one shard for one call of the sync script. */
export class ShardBatch {
  readonly keys: string[] = [];
  private readonly _keyIndex = new Map<string, number>();
  private readonly _i: Array<Array<string | number>> = [];
  private readonly _g: number[] = [];
  private readonly _m: Array<Array<string | number>> = [];
  private readonly _s: Array<[number[], string[]]> = [];
  private readonly _h: Array<Array<string | number>> = [];
  private readonly _l: Array<Array<string | number>> = [];
  private readonly _lHandlers: Array<(values: string[][]) => void> = [];
  private readonly _after: Array<() => void> = [];
  private readonly _onSuccess: Array<() => void> = [];
  private readonly _gHandlers: Array<(flat: string[]) => void> = [];
  private readonly _mHandlers: Array<(values: Array<string | null>) => void> = [];
  private readonly _sHandlers: Array<(sums: number[]) => void> = [];
  /** Observations carried by the writes (for stats). */
  observations = 0;

  constructor(readonly shard: number) {}

  /** True when the batch holds no operation. */
  isEmpty(): boolean {
    return this._i.length + this._h.length + this._g.length + this._m.length + this._s.length + this._l.length === 0;
  }

  /** HINCRBY every (field, increment) of `fields` in `key`, then PEXPIRE; `done` runs if the call succeeds. */
  incr(key: string, ttlMs: number, fields: Array<string>, done: () => void): void {
    if (fields.length === 0) return;
    this._i.push([this._key(key), Math.ceil(ttlMs), ...fields]);
    this._onSuccess.push(done);
  }

  /**
   * HSET the (field, value) pairs of `fields` in `key` (one multi-field HSET per 500 pairs), then PEXPIRE;
   * when a field was created, SADD `member` to `setKey` and PEXPIRE it `setTtlMs`. `done` runs if the call succeeds.
   */
  hset(
    key: string,
    ttlMs: number,
    setKey: string,
    setTtlMs: number,
    member: string,
    fields: readonly string[],
    done: () => void,
  ): void {
    if (fields.length === 0) return;
    const k = this._key(key);
    const sk = this._key(setKey);
    for (let c = 0; c < fields.length; c += 2 * MAX_PAIRS_PER_WRITE) {
      this._h.push([
        k,
        Math.ceil(ttlMs),
        sk,
        Math.ceil(setTtlMs),
        member,
        ...fields.slice(c, c + 2 * MAX_PAIRS_PER_WRITE),
      ]);
    }
    this._onSuccess.push(done);
  }

  /**
   * Reads the fields `prefix + member` of `key` for every prefix and every member of `setKey` except
   * `self`; `handler` gets, per prefix in order, the values found.
   */
  getMembers(
    key: string,
    setKey: string,
    self: string,
    prefixes: readonly string[],
    handler: (values: string[][]) => void,
  ): void {
    if (prefixes.length === 0) return;
    this._l.push([this._key(key), this._key(setKey), self, ...prefixes]);
    this._lHandlers.push(handler);
  }

  /** Runs `fn` after the read handlers of a successful reply (no Redis operation of its own). */
  afterReads(fn: () => void): void {
    this._after.push(fn);
  }

  /** HGETALL `key`; `handler` gets the flat [field, value, ...] array. */
  getAll(key: string, handler: (flat: string[]) => void): void {
    this._g.push(this._key(key));
    this._gHandlers.push(handler);
  }

  /** HMGET `key` `fields` (chunked); `handler` gets the values in order (null when missing). */
  getFields(key: string, fields: readonly string[], handler: (values: Array<string | null>) => void): void {
    if (fields.length === 0) return;
    const k = this._key(key);
    const parts: Array<Array<string | null>> = [];
    const chunks = Math.ceil(fields.length / MAX_FIELDS_PER_READ);
    for (let c = 0; c < chunks; c++) {
      const slice = fields.slice(c * MAX_FIELDS_PER_READ, (c + 1) * MAX_FIELDS_PER_READ);
      this._m.push([k, ...slice]);
      this._mHandlers.push((values) => {
        parts[c] = values;
        if (c === chunks - 1) handler(parts.flat());
      });
    }
  }

  /** For each field, the sum of its values over the hashes `keys` (chunked); `handler` gets the sums in order. */
  sumFields(keys: readonly string[], fields: readonly string[], handler: (sums: number[]) => void): void {
    if (fields.length === 0 || keys.length === 0) return;
    const ks = keys.map((k) => this._key(k));
    const parts: number[][] = [];
    const chunks = Math.ceil(fields.length / MAX_FIELDS_PER_READ);
    for (let c = 0; c < chunks; c++) {
      const slice = fields.slice(c * MAX_FIELDS_PER_READ, (c + 1) * MAX_FIELDS_PER_READ);
      this._s.push([ks, slice]);
      this._sHandlers.push((sums) => {
        parts[c] = slice.map((_, j) => Number(sums[j] ?? 0));
        if (c === chunks - 1) handler(parts.flat());
      });
    }
  }

  /** The script argument (JSON). */
  payload(): string {
    return JSON.stringify({ i: this._i, h: this._h, g: this._g, m: this._m, s: this._s, l: this._l });
  }

  /** Applies a successful reply: write callbacks first (pending deltas are subtracted), then read handlers. */
  apply(reply: SyncReply): void {
    for (const f of this._onSuccess) f();
    this._gHandlers.forEach((h, x) => h(reply[0][x] ?? []));
    this._mHandlers.forEach((h, x) => h(reply[1][x] ?? []));
    this._sHandlers.forEach((h, x) => h(reply[2][x] ?? []));
    this._lHandlers.forEach((h, x) => h(reply[3][x] ?? []));
    for (const f of this._after) f();
  }

  private _key(key: string): number {
    let i = this._keyIndex.get(key);
    if (i === undefined) {
      this.keys.push(key);
      i = this.keys.length; // Lua KEYS are 1-based
      this._keyIndex.set(key, i);
    }
    return i;
  }
}
