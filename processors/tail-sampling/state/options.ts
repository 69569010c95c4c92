// Options of the sampling-state stores (memory and Redis), their defaults and their validation. The
// processor maps its snake_case config onto these camelCase fields in one place; defaults are computed
// by `resolveStateOptions`, never exported as a shared mutable object.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PipelineError } from '../../../pipeline/sdk/errors';
import {
  DEFAULT_REDIS_KEY_PREFIX,
  DEFAULT_REDIS_URL,
  type RedisConnectionConfig,
  type RedisSentinelConfig,
  type RedisTlsConfig,
} from '../../../pipeline/sdk/redis-client';

/** SamplingStateOptions configures a sampling-state store. Every field is optional; see the defaults. */
export interface SamplingStateOptions {
  /** Redis server URL (`redis://[:password@]host:port[/db]`, `rediss://` for TLS). Redis only. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Redis Cluster seed nodes (`host:port`); when set, `url` is ignored and the store talks Redis Cluster. */
  clusterNodes?: string[];
  /** Redis ACL user of the data nodes. Default: none ("default"); with `url`, the URL's user when set there. */
  username?: string;
  /** Password of the data nodes (exclusive with `passwordFile`). Default: none, or the URL's. */
  password?: string;
  /** File holding the password (one trailing newline ignored), read when the client is built. */
  passwordFile?: string;
  /** TLS to the data nodes (a parsed `tls` section, pipeline/sdk/redis-client.ts). Default: none, or rediss://. */
  tls?: RedisTlsConfig;
  /** Sentinel group whose master holds the state (exclusive with `clusterNodes`; `url` is then ignored). */
  sentinel?: RedisSentinelConfig;
  /** Prefix of every Redis key (must not contain `{` or `}`). Default `tusk:`. */
  keyPrefix?: string;
  /** Period of the background sync loop (flush local deltas, read cluster aggregates), ms. Default 1000. */
  syncIntervalMs?: number;
  /** How long a ledger decision is remembered, ms. Default 3_600_000 (1 h). */
  ledgerTtlMs?: number;
  /** Bound of the local (in-process) decision ledger, entries; least recently used are evicted. Default 100_000. */
  ledgerMaxEntries?: number;
  /**
   * Share of dropped traces whose full decision record is kept (0..1, chosen by a hash of the trace id). The
   * others cost a 5-byte fingerprint in the Redis ledger and a short local entry without reason and inputs.
   * Kept traces are always recorded in full. Set 1 while replicas of a version without fingerprints still run
   * (rolling upgrade: they only read full records). Default 0.01.
   */
  ledgerDroppedSample?: number;
  /** Sliding window of the latency sketches, ms (made of `latencySlices` slices). Default 300_000 (5 min). */
  windowMs?: number;
  /** Multiplier applied to a degraded service's keep probability. Default 2; 1 disables boosting. */
  degradedBoost?: number;
  /** Time over which the boost decays linearly back to 1 after a service recovers, ms. Default 60_000; 0 = drop at once. */
  degradedDecayMs?: number;
  /** Logger (pino). Default: silent. */
  logger?: Logger;
  /** prom-client registry for the store's own metrics. Default: no metrics (stats() still counts). */
  metrics?: Registry;

  // ---- Less common knobs (all replicas of one cluster must agree on those marked "shared"). ----

  /** Number of slices the latency window is cut into (shared). Default 5 (one-minute slices for a 5-min window). */
  latencySlices?: number;
  /** Relative accuracy of the latency sketches (shared). Default 0.01 (1 %). */
  sketchRelativeAccuracy?: number;
  /** Sliding window of `clusterRate`, ms (shared; whole seconds). Default 10_000. */
  rateWindowMs?: number;
  /** Window of the "recent" error rate of a service, ms (shared; a multiple of errorBucketMs). Default 60_000. */
  errorWindowMs?: number;
  /** Width of the error-count time buckets, ms (shared). Default 10_000. */
  errorBucketMs?: number;
  /** Half-life of the EWMA error-rate baseline, ms. Default 1_800_000 (30 min). */
  baselineHalfLifeMs?: number;
  /** Minimum number of traces in the recent window before a service can be called degraded. Default 20. */
  minErrorVolume?: number;
  /** Bound on distinct keys tracked per kind (latency keys, services, rate keys); new keys beyond it are dropped and counted. Default 10_000. */
  maxKeys?: number;
  /** Redis only: bound on decisions kept to write when Redis comes back. Default 50_000. */
  maxPendingDecisions?: number;
  /** Redis only: number of hash-tag shards the keys are spread over (shared). Default 1 (single server), 16 (cluster). */
  shards?: number;
  /** Redis only: connect timeout and per-command timeout, ms. Default 2000. */
  redisTimeoutMs?: number;
  /** Redis only: how often each latency key's current slice is re-read from Redis, ms (reads are spread over ticks). Default 5000. */
  latencyRefreshMs?: number;
  /** Clock (Unix ms); injectable for tests. Default `Date.now`. */
  now?: () => number;
}

/** ResolvedStateOptions is SamplingStateOptions with every default applied. */
export interface ResolvedStateOptions {
  readonly url: string;
  readonly clusterNodes: readonly string[];
  /** How to reach Redis: url, clusterNodes and the credentials, TLS and Sentinel fields above, together. */
  readonly connection: RedisConnectionConfig;
  readonly keyPrefix: string;
  readonly syncIntervalMs: number;
  readonly ledgerTtlMs: number;
  readonly ledgerMaxEntries: number;
  readonly ledgerDroppedSample: number;
  readonly windowMs: number;
  readonly degradedBoost: number;
  readonly degradedDecayMs: number;
  readonly logger?: Logger;
  readonly metrics?: Registry;
  readonly latencySlices: number;
  readonly sketchRelativeAccuracy: number;
  readonly rateWindowMs: number;
  readonly errorWindowMs: number;
  readonly errorBucketMs: number;
  readonly baselineHalfLifeMs: number;
  readonly minErrorVolume: number;
  readonly maxKeys: number;
  readonly maxPendingDecisions: number;
  readonly shards: number;
  readonly redisTimeoutMs: number;
  readonly latencyRefreshMs: number;
  readonly now: () => number;
}

/** DEFAULT_* are the defaults documented on SamplingStateOptions. */
export const DEFAULT_SYNC_INTERVAL_MS = 1000;
export const DEFAULT_LEDGER_TTL_MS = 3_600_000;
export const DEFAULT_LEDGER_MAX_ENTRIES = 100_000;
export const DEFAULT_LEDGER_DROPPED_SAMPLE = 0.01;
export const DEFAULT_WINDOW_MS = 300_000;
export const DEFAULT_DEGRADED_BOOST = 2;
export const DEFAULT_DEGRADED_DECAY_MS = 60_000;
export const DEFAULT_LATENCY_SLICES = 5;
export const DEFAULT_SKETCH_RELATIVE_ACCURACY = 0.01;
export const DEFAULT_RATE_WINDOW_MS = 10_000;
export const DEFAULT_ERROR_WINDOW_MS = 60_000;
export const DEFAULT_ERROR_BUCKET_MS = 10_000;
export const DEFAULT_BASELINE_HALF_LIFE_MS = 1_800_000;
export const DEFAULT_MIN_ERROR_VOLUME = 20;
export const DEFAULT_MAX_KEYS = 10_000;
export const DEFAULT_MAX_PENDING_DECISIONS = 50_000;
export const DEFAULT_SHARDS_STANDALONE = 1;
export const DEFAULT_SHARDS_CLUSTER = 16;
export const DEFAULT_REDIS_TIMEOUT_MS = 2000;
export const DEFAULT_LATENCY_REFRESH_MS = 5000;

/** ERR_STATE_OPTIONS is the code of the error thrown for invalid state options (a programming or config-mapping error). */
export const ERR_STATE_OPTIONS = 'ERR_STATE_OPTIONS';

/** Fields that must be positive integers, in the order their problems are reported. */
const POSITIVE_INT_FIELDS = [
  'syncIntervalMs',
  'ledgerTtlMs',
  'ledgerMaxEntries',
  'windowMs',
  'latencySlices',
  'rateWindowMs',
  'errorWindowMs',
  'errorBucketMs',
  'baselineHalfLifeMs',
  'maxKeys',
  'maxPendingDecisions',
  'shards',
  'redisTimeoutMs',
  'latencyRefreshMs',
] as const;
/** Fields that must be finite numbers >= 0, reported after POSITIVE_INT_FIELDS. */
const NON_NEGATIVE_FIELDS = ['degradedDecayMs', 'minErrorVolume'] as const;

/**
 * resolveStateOptions applies the defaults and checks every field; it throws one PipelineError
 * (code ERR_STATE_OPTIONS, not retriable) listing every problem. The processor's config schema should
 * already have rejected bad values; this is the last line of defence, never a silent clamp.
 */
export function resolveStateOptions(o: SamplingStateOptions): ResolvedStateOptions {
  const clusterNodes = o.clusterNodes ?? [];
  const url = o.url ?? DEFAULT_REDIS_URL;
  const r: ResolvedStateOptions = {
    url,
    clusterNodes,
    connection: {
      url,
      cluster_nodes: [...clusterNodes],
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.passwordFile !== undefined ? { password_file: o.passwordFile } : {}),
      ...(o.tls !== undefined ? { tls: o.tls } : {}),
      ...(o.sentinel !== undefined ? { sentinel: o.sentinel } : {}),
    },
    keyPrefix: o.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX,
    syncIntervalMs: o.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS,
    ledgerTtlMs: o.ledgerTtlMs ?? DEFAULT_LEDGER_TTL_MS,
    ledgerMaxEntries: o.ledgerMaxEntries ?? DEFAULT_LEDGER_MAX_ENTRIES,
    ledgerDroppedSample: o.ledgerDroppedSample ?? DEFAULT_LEDGER_DROPPED_SAMPLE,
    windowMs: o.windowMs ?? DEFAULT_WINDOW_MS,
    degradedBoost: o.degradedBoost ?? DEFAULT_DEGRADED_BOOST,
    degradedDecayMs: o.degradedDecayMs ?? DEFAULT_DEGRADED_DECAY_MS,
    logger: o.logger,
    metrics: o.metrics,
    latencySlices: o.latencySlices ?? DEFAULT_LATENCY_SLICES,
    sketchRelativeAccuracy: o.sketchRelativeAccuracy ?? DEFAULT_SKETCH_RELATIVE_ACCURACY,
    rateWindowMs: o.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS,
    errorWindowMs: o.errorWindowMs ?? DEFAULT_ERROR_WINDOW_MS,
    errorBucketMs: o.errorBucketMs ?? DEFAULT_ERROR_BUCKET_MS,
    baselineHalfLifeMs: o.baselineHalfLifeMs ?? DEFAULT_BASELINE_HALF_LIFE_MS,
    minErrorVolume: o.minErrorVolume ?? DEFAULT_MIN_ERROR_VOLUME,
    maxKeys: o.maxKeys ?? DEFAULT_MAX_KEYS,
    maxPendingDecisions: o.maxPendingDecisions ?? DEFAULT_MAX_PENDING_DECISIONS,
    shards: o.shards ?? (clusterNodes.length > 0 ? DEFAULT_SHARDS_CLUSTER : DEFAULT_SHARDS_STANDALONE),
    redisTimeoutMs: o.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS,
    latencyRefreshMs: o.latencyRefreshMs ?? DEFAULT_LATENCY_REFRESH_MS,
    now: o.now ?? Date.now,
  };
  const problems: string[] = [];
  const positiveInt = (name: keyof ResolvedStateOptions, v: number): void => {
    if (!Number.isInteger(v) || v <= 0) problems.push(`${name} must be a positive integer (got ${v})`);
  };
  const nonNegative = (name: keyof ResolvedStateOptions, v: number): void => {
    if (!Number.isFinite(v) || v < 0) problems.push(`${name} must be a finite number >= 0 (got ${v})`);
  };
  if (/[{}]/.test(r.keyPrefix))
    problems.push(`keyPrefix must not contain '{' or '}' (got ${JSON.stringify(r.keyPrefix)})`);
  for (const n of clusterNodes) {
    if (!/^[^:\s]+:\d+$/.test(n)) problems.push(`clusterNodes entries must be host:port (got ${JSON.stringify(n)})`);
  }
  if (clusterNodes.length > 0 && o.sentinel !== undefined) problems.push('clusterNodes and sentinel are exclusive');
  if (o.password !== undefined && o.passwordFile !== undefined)
    problems.push('password and passwordFile are exclusive');
  for (const name of POSITIVE_INT_FIELDS) positiveInt(name, r[name]);
  for (const name of NON_NEGATIVE_FIELDS) nonNegative(name, r[name]);
  if (!(r.ledgerDroppedSample >= 0 && r.ledgerDroppedSample <= 1)) {
    problems.push(`ledgerDroppedSample must be in [0, 1] (got ${r.ledgerDroppedSample})`);
  }
  if (!Number.isFinite(r.degradedBoost) || r.degradedBoost < 1)
    problems.push(`degradedBoost must be >= 1 (got ${r.degradedBoost})`);
  if (!(r.sketchRelativeAccuracy > 0 && r.sketchRelativeAccuracy < 1)) {
    problems.push(`sketchRelativeAccuracy must be in (0, 1) (got ${r.sketchRelativeAccuracy})`);
  }
  if (r.rateWindowMs % 1000 !== 0) problems.push(`rateWindowMs must be whole seconds (got ${r.rateWindowMs})`);
  if (r.windowMs % r.latencySlices !== 0)
    problems.push(`windowMs (${r.windowMs}) must be a multiple of latencySlices (${r.latencySlices})`);
  if (r.errorWindowMs % r.errorBucketMs !== 0) {
    problems.push(`errorWindowMs (${r.errorWindowMs}) must be a multiple of errorBucketMs (${r.errorBucketMs})`);
  }
  if (problems.length > 0) {
    throw new PipelineError(ERR_STATE_OPTIONS, `invalid sampling state options: ${problems.join('; ')}`, {
      retriable: false,
    });
  }
  return r;
}
