// The replicas of a cluster, as each one's console lists them. A process that has Redis settings (a
// tail_sampling processor with state "redis" in its pipeline file) announces itself under the configured key
// prefix: one small record per replica (id, pipelines, advertised admin URL, version, start time, last seen),
// written with a TTL of a few refresh periods by ONE client on a timer, never per span or per request. The
// same refresh reads the others' records; the console answers from that copy.

import os from 'node:os';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  createRedisClient,
  DEFAULT_REDIS_KEY_PREFIX,
  DEFAULT_REDIS_URL,
  describeRedisError,
  type RedisSentinelConfig,
  type RedisTlsConfig,
} from '../sdk/redis-client';

/** One replica's announcement. */
export interface ReplicaRecord {
  /** The replica id (a sampler's is the id its decisions carry as `decidedBy`). */
  readonly id: string;
  /** Pipelines this process runs (its tier). */
  readonly pipelines: readonly string[];
  /** Where its console is, or null when it cannot be derived (wildcard bind without `advertise`). */
  readonly adminUrl: string | null;
  readonly version: string;
  readonly hostname: string;
  /** Unix ms. */
  readonly startedAt: number;
  /** Unix ms of its last refresh. */
  readonly lastSeen: number;
}

/** What the console shows about the replicas (GET /v1/replicas). */
export type ReplicasView =
  | {
      readonly available: true;
      readonly self: ReplicaRecord;
      /** Every replica that announced itself within the TTL, this one included (`self: true`), by id. */
      readonly replicas: ReadonlyArray<ReplicaRecord & { readonly self: boolean; readonly stale: boolean }>;
      readonly refreshMs: number;
      readonly ttlMs: number;
      /** Unix ms of the last successful read, 0 before the first. */
      readonly refreshedAt: number;
      /** Why the last refresh failed (the list is then the last one read), or null. */
      readonly error: string | null;
    }
  | { readonly available: false; readonly reason: string };

/**
 * Redis settings of the announcement: the sampling state's (same server, credentials, TLS, Sentinel and key
 * prefix; the keys of pipeline/sdk/redis-client.ts).
 */
export interface ReplicaRedisSettings {
  readonly url: string;
  readonly clusterNodes: readonly string[];
  readonly keyPrefix: string;
  readonly username?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly tls?: RedisTlsConfig;
  readonly sentinel?: RedisSentinelConfig;
}

/** Options of a ReplicaRegistry. */
export interface ReplicaRegistryOptions {
  readonly redis: ReplicaRedisSettings;
  /** This replica's record without `lastSeen` (read at every refresh). */
  readonly self: () => Omit<ReplicaRecord, 'lastSeen'>;
  /** Refresh period, ms. Default 5000. */
  readonly refreshMs?: number;
  /** TTL of a record, ms; a few refresh periods. Default 3 x refreshMs. */
  readonly ttlMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export const DEFAULT_REPLICA_REFRESH_MS = 5000;
/** A record not refreshed for this many periods is shown as stale (it expires at the TTL). */
const STALE_PERIODS = 2;

type Client = Redis | Cluster;

/**
 * redisSettingsOf finds the Redis settings of the first tail_sampling processor with state "redis" in a
 * config's components, or undefined when there is none.
 */
export function redisSettingsOf(
  components: Iterable<{ readonly type: string; readonly config: unknown }>,
): ReplicaRedisSettings | undefined {
  for (const c of components) {
    if (c.type !== 'tail_sampling' || typeof c.config !== 'object' || c.config === null) continue;
    const cfg = c.config as {
      state?: unknown;
      redis?: {
        url?: unknown;
        cluster_nodes?: unknown;
        key_prefix?: unknown;
        username?: string;
        password?: string;
        password_file?: string;
        tls?: RedisTlsConfig;
        sentinel?: RedisSentinelConfig;
      };
    };
    if (cfg.state !== 'redis' || cfg.redis === undefined) continue;
    const r = cfg.redis;
    const nodes = Array.isArray(r.cluster_nodes) ? r.cluster_nodes.map(String) : [];
    return {
      url: typeof r.url === 'string' ? r.url : DEFAULT_REDIS_URL,
      clusterNodes: nodes,
      keyPrefix: typeof r.key_prefix === 'string' ? r.key_prefix : DEFAULT_REDIS_KEY_PREFIX,
      ...(r.username !== undefined ? { username: r.username } : {}),
      ...(r.password !== undefined ? { password: r.password } : {}),
      ...(r.password_file !== undefined ? { passwordFile: r.password_file } : {}),
      ...(r.tls !== undefined ? { tls: r.tls } : {}),
      ...(r.sentinel !== undefined ? { sentinel: r.sentinel } : {}),
    };
  }
  return undefined;
}

/**
 * advertisedAdminUrl is `advertise` when set, else http://host:port of the bound admin address; null for a
 * wildcard bind (0.0.0.0, ::), which other hosts cannot use.
 */
export function advertisedAdminUrl(
  advertise: string,
  bound: { address: string; port: number } | undefined,
): string | null {
  if (advertise !== '') return advertise.replace(/\/+$/, '');
  if (bound === undefined) return null;
  if (bound.address === '0.0.0.0' || bound.address === '::' || bound.address === '') return null;
  const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  return `http://${host}:${bound.port}`;
}

/** defaultReplicaId names a replica that has no sampler id: host, process id and a random suffix. */
export function defaultReplicaId(): string {
  return `${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
}

/** ReplicaRegistry announces this replica and reads the others; start() returns at once, stop() is idempotent. */
export class ReplicaRegistry {
  private readonly _refreshMs: number;
  private readonly _ttlMs: number;
  private readonly _now: () => number;
  private _client: Client | undefined;
  private _timer: NodeJS.Timeout | undefined;
  private _running: Promise<void> | undefined;
  private _stopped = false;
  private _others: ReplicaRecord[] = [];
  private _refreshedAt = 0;
  private _error: string | null = 'not refreshed yet';
  private _lastSelf: ReplicaRecord | undefined;

  constructor(private readonly _o: ReplicaRegistryOptions) {
    this._refreshMs = _o.refreshMs ?? DEFAULT_REPLICA_REFRESH_MS;
    this._ttlMs = _o.ttlMs ?? 3 * this._refreshMs;
    this._now = _o.now ?? Date.now;
  }

  private get _indexKey(): string {
    return `${this._o.redis.keyPrefix}{replicas}`;
  }

  private _recordKey(id: string): string {
    return `${this._indexKey}:${id}`;
  }

  /** start opens the one client and refreshes now and every refreshMs (Redis down: retried at the next one). */
  start(): void {
    if (this._client !== undefined || this._stopped) return;
    const r = this._o.redis;
    try {
      this._client = createRedisClient(
        {
          url: r.url,
          cluster_nodes: [...r.clusterNodes],
          username: r.username,
          password: r.password,
          password_file: r.passwordFile,
          tls: r.tls,
          sentinel: r.sentinel,
        },
        { connectTimeoutMs: 2000, retryDelayMs: (times) => Math.min(200 * times, 5000) },
      );
    } catch (err) {
      // an unreadable password or PEM file: the sampling state reports it at start; nothing to announce with
      this._error = `redis client: ${describeRedisError(err)}`;
      return;
    }
    this._client.on('error', (err: unknown) => {
      this._error = `redis unreachable: ${describeRedisError(err)}`;
    });
    this._client.connect().catch(() => undefined);
    const tick = () => {
      this._running ??= this.refresh().finally(() => (this._running = undefined));
    };
    tick();
    this._timer = setInterval(tick, this._refreshMs);
    this._timer.unref();
  }

  /** refresh writes this replica's record and reads everyone's (two round trips); never throws. */
  async refresh(): Promise<void> {
    const c = this._client;
    if (c === undefined) return;
    const now = this._now();
    const self: ReplicaRecord = { ...this._o.self(), lastSeen: now };
    this._lastSelf = self;
    try {
      const written = await c
        .multi()
        .set(this._recordKey(self.id), JSON.stringify(self), 'PX', this._ttlMs)
        .sadd(this._indexKey, self.id)
        .pexpire(this._indexKey, this._ttlMs * 4)
        .smembers(this._indexKey)
        .exec();
      const failed = written?.find(([err]) => err !== null)?.[0];
      if (failed) throw failed;
      const ids = (written?.[3]?.[1] as string[] | undefined) ?? [];
      const values = ids.length === 0 ? [] : await c.mget(ids.map((id) => this._recordKey(id)));
      const others: ReplicaRecord[] = [];
      const gone: string[] = [];
      ids.forEach((id, i) => {
        const v = values[i];
        if (v === null || v === undefined) gone.push(id);
        else if (id !== self.id) {
          const rec = parseRecord(v);
          if (rec !== undefined) others.push(rec);
        }
      });
      if (gone.length > 0) await c.srem(this._indexKey, ...gone);
      this._others = others;
      this._refreshedAt = now;
      this._error = null;
    } catch (err) {
      this._error = `redis unreachable: ${describeRedisError(err)}`;
      this._o.logger?.debug({ err }, 'replica announcement failed; retried at the next refresh');
    }
  }

  /** view is what /v1/replicas answers; no I/O (the copy of the last refresh). */
  view(): ReplicasView {
    const now = this._now();
    const self = this._lastSelf ?? { ...this._o.self(), lastSeen: now };
    const staleAfter = STALE_PERIODS * this._refreshMs;
    const replicas = [
      { ...self, self: true, stale: this._error !== null },
      ...this._others
        .filter((r) => now - r.lastSeen <= this._ttlMs)
        .map((r) => ({ ...r, self: false, stale: now - r.lastSeen > staleAfter })),
    ].sort((a, b) => a.id.localeCompare(b.id));
    return {
      available: true,
      self,
      replicas,
      refreshMs: this._refreshMs,
      ttlMs: this._ttlMs,
      refreshedAt: this._refreshedAt,
      error: this._error,
    };
  }

  /** stop ends the timer, removes this replica's record (best effort) and closes the client; idempotent. */
  async stop(): Promise<void> {
    if (this._stopped) return;
    this._stopped = true;
    if (this._timer !== undefined) clearInterval(this._timer);
    const c = this._client;
    this._client = undefined;
    if (c === undefined) return;
    await this._running;
    const id = this._lastSelf?.id;
    if (id !== undefined && c.status === 'ready') {
      await Promise.race([
        c
          .multi()
          .del(this._recordKey(id))
          .srem(this._indexKey, id)
          .exec()
          .catch(() => undefined),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
    }
    c.disconnect();
  }
}

function parseRecord(text: string): ReplicaRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<ReplicaRecord>;
    if (typeof v.id !== 'string' || typeof v.lastSeen !== 'number') return undefined;
    return {
      id: v.id,
      pipelines: Array.isArray(v.pipelines) ? v.pipelines.map(String) : [],
      adminUrl: typeof v.adminUrl === 'string' ? v.adminUrl : null,
      version: typeof v.version === 'string' ? v.version : '?',
      hostname: typeof v.hostname === 'string' ? v.hostname : '?',
      startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0,
      lastSeen: v.lastSeen,
    };
  } catch {
    return undefined;
  }
}
