// RedisLink: the Redis side of RedisSamplingState. Builds the ioredis client (single server, Cluster or
// Sentinel, pipeline/sdk/redis-client.ts) with fail-fast options, defines the two Lua scripts (batched sync,
// batched ledger read/insert), counts every round trip and command (the commands Redis ran inside the
// scripts), and feeds the prom-client metrics. Nothing here knows about sampling.

import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { errorMessage, PipelineError } from '../../../pipeline/sdk/errors';
import { registeredMetric } from '../../../pipeline/sdk/metrics';
import {
  createRedisClient,
  describeRedisError,
  redisTarget,
  type RedisConnectionConfig,
} from '../../../pipeline/sdk/redis-client';

/**
 * SYNC_SCRIPT applies one shard's batch atomically. KEYS: every key touched (all in one hash slot).
 * ARGV[1]: JSON {i, h, g, m, s, l}:
 *  - i: [[k, ttlMs, field, incr, ...]]: HINCRBY each field of KEYS[k], then PEXPIRE KEYS[k] ttlMs;
 *  - h: [[k, ttlMs, setK, setTtlMs, member, field, value, ...]]: ONE multi-field HSET of KEYS[k], PEXPIRE;
 *    when the HSET created a field (first write of this replica, or data lost), SADD member to KEYS[setK]
 *    and PEXPIRE it (the set lists the replicas that wrote fields of the hash);
 *  - g: [k]: HGETALL KEYS[k];  m: [[k, field...]]: HMGET KEYS[k] fields;
 *  - s: [[[k...], [field...]]]: per field, the sum over the hashes KEYS[k...];
 *  - l: [[k, setK, self, prefix...]]: SMEMBERS KEYS[setK] (minus self), then HMGET KEYS[k] of
 *    prefix..member for every prefix and member (chunks of 500): per prefix, the values found.
 * Returns {g results, m results, s results, l results, commands executed}.
 */
const SYNC_SCRIPT = `
local ops = cjson.decode(ARGV[1])
local cmds = 0
if ops.i then
  for _, w in ipairs(ops.i) do
    local key = KEYS[w[1]]
    for j = 3, #w, 2 do redis.call('HINCRBY', key, w[j], w[j + 1]) end
    redis.call('PEXPIRE', key, w[2])
    cmds = cmds + (#w - 2) / 2 + 1
  end
end
if ops.h then
  for _, w in ipairs(ops.h) do
    local key = KEYS[w[1]]
    local added = redis.call('HSET', key, unpack(w, 6))
    redis.call('PEXPIRE', key, w[2])
    cmds = cmds + 2
    if added > 0 then
      redis.call('SADD', KEYS[w[3]], w[5])
      redis.call('PEXPIRE', KEYS[w[3]], w[4])
      cmds = cmds + 2
    end
  end
end
local g, m, s, l = {}, {}, {}, {}
if ops.g then
  for x, k in ipairs(ops.g) do g[x] = redis.call('HGETALL', KEYS[k]); cmds = cmds + 1 end
end
if ops.m then
  for x, r in ipairs(ops.m) do
    m[x] = redis.call('HMGET', KEYS[r[1]], unpack(r, 2))
    cmds = cmds + 1
  end
end
if ops.s then
  for x, r in ipairs(ops.s) do
    local fields = r[2]
    local sums = {}
    for j = 1, #fields do sums[j] = 0 end
    for _, k in ipairs(r[1]) do
      local vals = redis.call('HMGET', KEYS[k], unpack(fields))
      cmds = cmds + 1
      for j = 1, #vals do
        if vals[j] then sums[j] = sums[j] + tonumber(vals[j]) end
      end
    end
    s[x] = sums
  end
end
if ops.l then
  for x, r in ipairs(ops.l) do
    local members = redis.call('SMEMBERS', KEYS[r[2]])
    cmds = cmds + 1
    local others = {}
    for _, mb in ipairs(members) do if mb ~= r[3] then others[#others + 1] = mb end end
    local out = {}
    for p = 4, #r do out[p - 3] = {} end
    if #others > 0 then
      local fields, owner = {}, {}
      local function flush()
        if #fields == 0 then return end
        local vals = redis.call('HMGET', KEYS[r[1]], unpack(fields))
        cmds = cmds + 1
        for j = 1, #fields do
          if vals[j] then local o = out[owner[j]]; o[#o + 1] = vals[j] end
        end
        fields, owner = {}, {}
      end
      for p = 4, #r do
        for _, mb in ipairs(others) do
          fields[#fields + 1] = r[p] .. mb
          owner[#owner + 1] = p - 3
          if #fields >= 500 then flush() end
        end
      end
      flush()
    end
    l[x] = out
  end
end
return {g, m, s, l, cmds}
`;

/**
 * LEDGER_SCRIPT reads (ARGV[1] = 'r') or inserts first-wins (ARGV[1] = 'w') decisions in the ledger hashes of
 * one shard. KEYS: the shard's live bucket hashes, oldest first, the current bucket last (one hash slot).
 * ARGV[2]: PEXPIRE ms of the current bucket (w); ARGV[3]: n; then 5 items per trace: id (32 hex), slot digits
 * (5 hex), fingerprint (10 hex), value (w: the short record, or '' to store the fingerprint only), override
 * ('1': fingerprints do not count as an earlier decision for this trace).
 * A bucket hash holds: `<trace id>` -> short record (kept traces, sampled dropped ones); `~<1..5 hex>` -> the
 * 5-byte fingerprints of the other dropped traces whose hash starts with those digits, concatenated; `#` ->
 * entries in the bucket (chooses the slot width of new fingerprints: the widest w with # >= 8 * 16^w; it only
 * grows, so a bucket holds slot fields of widths 1..w(#) only). Per bucket ONE HGET of `#` (a missing bucket is
 * skipped) and ONE HMGET of the id and the slot fields of widths 1..w(#) of every trace not found in full yet: a
 * full record anywhere wins; otherwise the oldest fingerprint found (aligned match). Then, for 'w', ONE
 * multi-field HSET of the new full records, the grown slot fields and `#`, and ONE PEXPIRE. Returns {commands executed, per trace the full record or false, per trace the 1-based index of the
 * key holding its fingerprint or 0}.
 */
const LEDGER_SCRIPT = `
local n = tonumber(ARGV[3])
local K = 5
local write = ARGV[1] == 'w'
local function bin(h) return (h:gsub('..', function(c) return string.char(tonumber(c, 16)) end)) end
local function has(v, fp)
  local i = 1
  while true do
    local j = string.find(v, fp, i, true)
    if not j then return false end
    if (j - 1) % 5 == 0 then return true end
    i = j + 1
  end
end
local found, fpAt, left, fps, names = {}, {}, {}, {}, {}
for i = 1, n do
  found[i] = false; fpAt[i] = 0; left[i] = i
  local b = 3 + (i - 1) * K
  fps[i] = bin(ARGV[b + 3])
  local slot = ARGV[b + 2]
  for w = 1, 5 do names[(i - 1) * 5 + w] = '~' .. string.sub(slot, 1, w) end
end
local function width(c)
  local w = 1
  while w < 5 and c >= 8 * 16 ^ (w + 1) do w = w + 1 end
  return w
end
local cmds, count, cur, w = 0, 0, {}, 1
for k = 1, #KEYS do
  if #left == 0 then break end
  local last = k == #KEYS
  local c = tonumber(redis.call('HGET', KEYS[k], '#'))
  cmds = cmds + 1
  if last then count = c or 0; w = width(count) end
  if c then
    local wmax = width(c)
    local stride = 1 + wmax
    local fields = {}
    local f = 0
    for j = 1, #left do
      local i = left[j]
      fields[f + 1] = ARGV[3 + (i - 1) * K + 1]
      local o = (i - 1) * 5
      for x = 1, wmax do fields[f + 1 + x] = names[o + x] end
      f = f + stride
    end
    local vals = redis.call('HMGET', KEYS[k], unpack(fields))
    cmds = cmds + 1
    local still = {}
    for j = 1, #left do
      local i = left[j]
      local o = (j - 1) * stride
      if vals[o + 1] then
        found[i] = vals[o + 1]
      else
        if fpAt[i] == 0 and ARGV[3 + (i - 1) * K + 5] ~= '1' then
          for x = 1, wmax do
            local v = vals[o + 1 + x]
            if v and has(v, fps[i]) then fpAt[i] = k; break end
          end
        end
        if last then cur[fields[o + 1 + wmax]] = vals[o + 1 + wmax] or '' end
        still[#still + 1] = i
      end
    end
    left = still
  end
end
if write and #left > 0 then
  local args, grown, order, added = {}, {}, {}, 0
  for j = 1, #left do
    local i = left[j]
    local b = 3 + (i - 1) * K
    if fpAt[i] == 0 or ARGV[b + 5] == '1' then
      added = added + 1
      local val = ARGV[b + 4]
      if val ~= '' then
        args[#args + 1] = ARGV[b + 1]; args[#args + 1] = val
      else
        local f = names[(i - 1) * 5 + w]
        if grown[f] == nil then grown[f] = cur[f] or ''; order[#order + 1] = f end
        grown[f] = grown[f] .. fps[i]
      end
    end
  end
  if added > 0 then
    for _, f in ipairs(order) do args[#args + 1] = f; args[#args + 1] = grown[f] end
    args[#args + 1] = '#'; args[#args + 1] = tostring(count + added)
    redis.call('HSET', KEYS[#KEYS], unpack(args))
    redis.call('PEXPIRE', KEYS[#KEYS], ARGV[2])
    cmds = cmds + 2
  end
end
return {cmds, found, fpAt}
`;

/** ERR_STATE_REDIS_CLIENT: the Redis client could not be built from its settings (e.g. a missing CA file). */
export const ERR_STATE_REDIS_CLIENT = 'ERR_STATE_REDIS_CLIENT';

/** LedgerEntry is one trace of a ledger script call. */
export interface LedgerEntry {
  readonly id: string;
  /** Slot digits and fingerprint (ledger-fingerprint.ts). */
  readonly slot: string;
  readonly fp: string;
  /** The short record to store in full; '' to store the fingerprint only (reads: ignored). */
  readonly value: string;
  /** Fingerprints do not count as an earlier decision of this trace. */
  readonly override: boolean;
}

/**
 * LedgerReply is, per entry of a ledger call, the full record found (or null) and the index of the key holding its
 * fingerprint (or -1).
 */
export interface LedgerReply {
  readonly records: Array<string | null>;
  readonly fingerprintKey: number[];
}

/** SyncReply is the decoded reply of SYNC_SCRIPT (without the command count, which the link adds to its counters). */
export type SyncReply = [Array<string[]>, Array<Array<string | null>>, number[][], string[][][]];

interface ScriptCommands {
  tuskSync(numKeys: number, ...args: string[]): Promise<unknown>;
  tuskLedger(numKeys: number, ...args: string[]): Promise<unknown>;
}

type Client = (Redis | Cluster) & ScriptCommands;

/** RedisLinkOptions configure the link. */
export interface RedisLinkOptions {
  /** Where and how to connect. */
  readonly connection: RedisConnectionConfig;
  readonly timeoutMs: number;
  readonly logger?: Logger;
  readonly metrics?: Registry;
}

/** LinkCounters are the link's cumulative counters. */
export interface LinkCounters {
  roundTrips: number;
  commands: number;
  errors: number;
}

interface LinkMetrics {
  roundTrips: Counter;
  errors: Counter;
  syncDuration: Histogram;
  up: Gauge;
}

/** RedisLink wraps one ioredis client; every request goes through it so that it is counted. */
export class RedisLink {
  readonly counters: LinkCounters = { roundTrips: 0, commands: 0, errors: 0 };
  /** Human-readable target (`redis://host:port`, `cluster host:port,...`, `sentinel name@...`), no credentials. */
  readonly target: string;
  private _client: Client | undefined;
  private _lastError: string | undefined;
  /** The kind of configuration problem ("authentication", "TLS") logged since Redis was last ready. */
  private _reported: string | undefined;
  private _downSince: number | undefined = Date.now();
  private readonly _metrics: LinkMetrics | undefined;

  constructor(private readonly _o: RedisLinkOptions) {
    this.target = redisTarget(_o.connection);
    this._metrics = _o.metrics === undefined ? undefined : linkMetrics(_o.metrics);
  }

  /** True when the client is connected and ready for commands. */
  isUp(): boolean {
    return this._client !== undefined && this._client.status === 'ready';
  }

  /** The last connection or command error, if any since the last success. */
  get lastError(): string | undefined {
    return this._lastError;
  }

  /** Unix ms since when Redis has been unreachable (undefined while up). */
  get downSince(): number | undefined {
    return this._downSince;
  }

  /**
   * Creates the client and waits up to `timeoutMs` for it to be ready. Never throws for an unreachable
   * Redis: the client keeps reconnecting in the background (retry every 100 ms .. 2 s). Throws PipelineError
   * ERR_STATE_REDIS_CLIENT when the client cannot be built (a password or PEM file that cannot be read).
   */
  async connect(): Promise<void> {
    if (this._client !== undefined) return;
    const t = this._o.timeoutMs;
    const retryDelayMs = (times: number): number => Math.min(100 * 2 ** Math.min(times - 1, 5), 2000);
    let client: Redis | Cluster;
    try {
      client = createRedisClient(this._o.connection, { connectTimeoutMs: t, commandTimeoutMs: t, retryDelayMs });
    } catch (err) {
      throw new PipelineError(
        ERR_STATE_REDIS_CLIENT,
        `sampling state: cannot build the redis client: ${errorMessage(err)}`,
        {
          retriable: false,
          cause: err,
        },
      );
    }
    client.defineCommand('tuskSync', { lua: SYNC_SCRIPT });
    client.defineCommand('tuskLedger', { lua: LEDGER_SCRIPT });
    client.on('error', (err: unknown) => this._noteError(err));
    client.on('ready', () => {
      if (this._downSince !== undefined) {
        this._o.logger?.info({ redis: this.target }, 'sampling state: redis connected');
      }
      this._downSince = undefined;
      this._lastError = undefined;
      this._reported = undefined;
      this._metrics?.up.set(1);
    });
    client.on('close', () => this._markDown('connection closed'));
    client.on('end', () => this._markDown('connection ended'));
    this._client = client as Client;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.connect().catch((err: unknown) => this._noteError(err)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, t);
      }),
    ]);
    if (timer !== undefined) clearTimeout(timer);
  }

  /** Runs SYNC_SCRIPT for one shard: one round trip; the commands Redis executed inside the script are counted. */
  async sync(keys: readonly string[], payload: string): Promise<SyncReply> {
    const reply = await this._request(0, (c) => c.tuskSync(keys.length, ...keys, payload));
    const a = Array.isArray(reply) ? reply : [];
    this.counters.commands += Number(a[4] ?? 0);
    return normalizeSyncReply(reply);
  }

  /**
   * Runs LEDGER_SCRIPT for one shard: one round trip; the commands Redis executed inside the script are
   * counted. `keys` = live bucket hashes, oldest first, current last; `write` inserts first-wins.
   */
  async ledger(
    keys: readonly string[],
    entries: readonly LedgerEntry[],
    write: boolean,
    ttlMs: number,
  ): Promise<LedgerReply> {
    const args: string[] = [write ? 'w' : 'r', String(Math.max(1, Math.ceil(ttlMs))), String(entries.length)];
    for (const e of entries) args.push(e.id, e.slot, e.fp, write ? e.value : '', e.override ? '1' : '0');
    const reply = await this._request(0, (c) => c.tuskLedger(keys.length, ...keys, ...args));
    const a = Array.isArray(reply) ? reply : [];
    this.counters.commands += Number(a[0] ?? 0);
    const found = Array.isArray(a[1]) ? (a[1] as Array<string | null>) : [];
    const at = Array.isArray(a[2]) ? (a[2] as unknown[]) : [];
    return {
      records: entries.map((_, i) => (typeof found[i] === 'string' ? found[i] : null)),
      fingerprintKey: entries.map((_, i) => Number(at[i] ?? 0) - 1),
    };
  }

  /** Records how long a sync tick took (metrics only). */
  observeSync(seconds: number): void {
    this._metrics?.syncDuration.observe(seconds);
  }

  /** Closes the connection: QUIT with a bounded wait, then a hard disconnect. */
  async close(): Promise<void> {
    const c = this._client;
    if (c === undefined) return;
    this._client = undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (c.status === 'ready') {
        await Promise.race([
          c.quit().catch(() => undefined),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, this._o.timeoutMs);
          }),
        ]);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      c.disconnect();
      this._metrics?.up.set(0);
    }
  }

  private async _request<T>(commands: number, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = this._client;
    if (c === undefined) throw new Error('redis client not started');
    this.counters.roundTrips++;
    this.counters.commands += commands;
    this._metrics?.roundTrips.inc();
    try {
      return await fn(c);
    } catch (err) {
      this.counters.errors++;
      this._metrics?.errors.inc();
      this._noteError(err);
      throw err;
    }
  }

  /**
   * Keeps the error for health; an authentication or TLS failure (a configuration problem that retrying
   * does not fix) is logged once, as one line, until Redis is ready again.
   */
  private _noteError(err: unknown): void {
    const text = describeRedisError(err);
    this._lastError = text;
    if (!this.isUp()) this._markDown(text);
    const kind = /^(authentication|TLS) failed/.exec(text)?.[1];
    if (kind !== undefined && this._reported !== kind) {
      this._reported = kind;
      this._o.logger?.error(
        { redis: this.target },
        `sampling state: redis ${text}; deciding from local state, retrying`,
      );
    }
  }

  private _markDown(reason: string): void {
    if (this._downSince === undefined) {
      this._downSince = Date.now();
      this._o.logger?.warn(
        { redis: this.target, reason },
        'sampling state: redis unreachable, deciding from local state',
      );
    }
    this._lastError ??= reason;
    this._metrics?.up.set(0);
  }
}

/** normalizeSyncReply turns the script reply into typed arrays (Lua empty tables come back as []). */
function normalizeSyncReply(reply: unknown): SyncReply {
  const a = Array.isArray(reply) ? reply : [];
  const arr = <T>(x: unknown): T[] => (Array.isArray(x) ? (x as T[]) : []);
  return [
    arr<string[]>(a[0]).map((x) => arr<string>(x)),
    arr<Array<string | null>>(a[1]).map((x) => arr(x)),
    arr<number[]>(a[2]).map((x) => arr<number>(x)),
    arr<unknown>(a[3]).map((x) => arr<unknown>(x).map((y) => arr<string>(y))),
  ];
}

/** linkMetrics registers (or reuses, when several stores share a registry) the store's metrics. */
function linkMetrics(registry: Registry): LinkMetrics {
  const get = <M>(name: string, make: () => M): M => registeredMetric(registry, name, make);
  return {
    roundTrips: get(
      'tusk_state_redis_round_trips_total',
      () =>
        new Counter({
          name: 'tusk_state_redis_round_trips_total',
          help: 'Requests sent to Redis by the sampling state (a script call or pipeline counts once).',
          registers: [registry],
        }),
    ),
    errors: get(
      'tusk_state_redis_errors_total',
      () =>
        new Counter({
          name: 'tusk_state_redis_errors_total',
          help: 'Redis requests of the sampling state that failed (unreachable, timeout, script error).',
          registers: [registry],
        }),
    ),
    syncDuration: get(
      'tusk_state_sync_duration_seconds',
      () =>
        new Histogram({
          name: 'tusk_state_sync_duration_seconds',
          help: 'Duration of one sampling-state sync tick with Redis (flush deltas, read aggregates).',
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers: [registry],
        }),
    ),
    up: get(
      'tusk_state_redis_up',
      () =>
        new Gauge({
          name: 'tusk_state_redis_up',
          help: '1 when the sampling state is connected to Redis, else 0.',
          registers: [registry],
        }),
    ),
  };
}
