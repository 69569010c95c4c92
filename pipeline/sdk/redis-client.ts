// Shared Redis client settings: the `redis` config keys that say where and how to connect (url, username,
// password or password_file, tls, cluster_nodes, sentinel), their cross-field checks, and their translation
// into an ioredis client: one server, a Redis Cluster, or the master of a Sentinel group (failover followed
// by ioredis). Files (passwords, PEM) are read when the client is built, never at import or parse time.

import * as fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { bool, stringList, withKeyHints, type KeyHint } from './config-types';
import { checkClientTls, clientTlsFields } from './tls-config';

/** DEFAULT_REDIS_URL is where a single Redis server is looked for when nothing else is configured. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** DEFAULT_REDIS_KEY_PREFIX starts every key tusk-collector writes when no `key_prefix` is configured. */
export const DEFAULT_REDIS_KEY_PREFIX = 'tusk:';

/** mean is the hint for a key we spell differently. */
function mean(key: string): KeyHint {
  return { note: `did you mean "${key}"?` };
}

/** hostPortList is a "host:port" list, or one comma-separated string (@env); empty = unset. */
function hostPortList() {
  const address = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'expected "host:port"');
  return stringList().pipe(z.array(address));
}

/**
 * redisTlsSchema is a `tls` section of the Redis client: present = TLS (unless `enabled: false`), with the
 * client TLS keys of tls-config.ts: `ca_file`, `cert_file` / `key_file` (both or neither),
 * `insecure_skip_verify` (tests only), `server_name_override` (default '' = the host connected to).
 */
export const redisTlsSchema = withKeyHints(
  z
    .object({ enabled: bool().default(true), ...clientTlsFields })
    .strict()
    .superRefine(checkClientTls),
  { ca: mean('ca_file'), key: mean('key_file'), ca_cert_file: mean('ca_file') },
);

/** RedisTlsConfig is a parsed `tls` section. */
export type RedisTlsConfig = z.output<typeof redisTlsSchema>;

/**
 * redisSentinelSchema is the `sentinel` section: the master of the group `master_name`, found through the
 * sentinels `nodes` ("host:port", at least one). `username` / `password` (or `password_file`) authenticate
 * to the sentinels (default: none; the data nodes use the top-level ones). `tls`: TLS to the sentinels;
 * absent = the same as the top-level `tls`.
 */
export const redisSentinelSchema = withKeyHints(
  z
    .object({
      master_name: z.string().min(1),
      nodes: hostPortList().pipe(z.array(z.string()).min(1, 'at least one sentinel "host:port" is required')),
      username: z.string().min(1).optional(),
      password: z.string().optional(),
      password_file: z.string().min(1).optional(),
      tls: redisTlsSchema.optional(),
    })
    .strict()
    .superRefine((c, ctx) => checkPasswordOnce(c, ctx)),
  { sentinels: mean('nodes'), addresses: mean('nodes'), sentinel_password: mean('password') },
);

/** RedisSentinelConfig is a parsed `sentinel` section. */
export type RedisSentinelConfig = z.output<typeof redisSentinelSchema>;

/**
 * redisConnectionFields are spread into a component's strict `redis` schema (refine it with
 * checkRedisConnection, hint unknown keys with REDIS_KEY_HINTS):
 * - `url` (default "redis://127.0.0.1:6379"): one server, `redis://[user[:password]@]host[:port][/db]`,
 *   `rediss://` for TLS. Not used with `cluster_nodes` or `sentinel`.
 * - `username` (ACL user; default: none = "default") and `password` or `password_file` (a file holding the
 *   password, e.g. a mounted secret; one trailing newline ignored). Use @env for `password`.
 * - `tls`: see redisTlsSchema; applies to every data node (the cluster's masters, Sentinel's master).
 * - `cluster_nodes`: Redis Cluster seed nodes "host:port"; the other nodes are discovered.
 * - `sentinel`: see redisSentinelSchema. Exclusive with `cluster_nodes`.
 */
export const redisConnectionFields = {
  url: z.string().min(1).default(DEFAULT_REDIS_URL),
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  password_file: z.string().min(1).optional(),
  tls: redisTlsSchema.optional(),
  cluster_nodes: hostPortList().optional(),
  sentinel: redisSentinelSchema.optional(),
};

/** REDIS_KEY_HINTS are the keys users write for a `redis` section that we spell differently. */
export const REDIS_KEY_HINTS: Readonly<Record<string, KeyHint>> = {
  master_name: { note: 'write sentinel { master_name: "...", nodes: ["host:port", ...] }' },
  sentinel_nodes: { note: 'write sentinel { master_name: "...", nodes: ["host:port", ...] }' },
  sentinel_password: { note: 'write sentinel { password: "..." }' },
  requirepass: mean('password'),
  auth: mean('password'),
  ssl: mean('tls'),
};

/** RedisConnectionConfig is the parsed connection part of a `redis` section. */
export interface RedisConnectionConfig {
  url: string;
  username?: string;
  password?: string;
  password_file?: string;
  tls?: RedisTlsConfig;
  cluster_nodes?: string[];
  sentinel?: RedisSentinelConfig;
}

function checkPasswordOnce(c: { password?: string; password_file?: string }, ctx: z.RefinementCtx): void {
  if (c.password !== undefined && c.password_file !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['password_file'], message: 'set password or password_file, not both' });
  }
}

/**
 * checkRedisConnection adds an issue for each contradiction in a parsed `redis` section: `sentinel` with
 * `cluster_nodes`; a url that is not redis:// or rediss://; the user or the password both in the url and
 * in `username` / `password` (`password_file`); rediss:// with `tls { enabled: false }`; and, with
 * `cluster_nodes` or `sentinel`, a url carrying credentials or rediss:// (it is not used there, so they
 * would be silently lost).
 */
export function checkRedisConnection(c: RedisConnectionConfig, ctx: z.RefinementCtx): void {
  checkPasswordOnce(c, ctx);
  const clustered = (c.cluster_nodes?.length ?? 0) > 0;
  if (clustered && c.sentinel !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['sentinel'],
      message: 'sentinel and cluster_nodes are exclusive (Redis Cluster fails over by itself): set one of them',
    });
  }
  const u = parseRedisUrl(c.url);
  if (u === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message: 'expected redis://[user[:password]@]host[:port][/db], or rediss://... for TLS',
    });
    return;
  }
  const hasUrlCreds = u.username !== '' || u.password !== '';
  const mode = clustered ? 'cluster_nodes' : c.sentinel !== undefined ? 'sentinel' : undefined;
  if (mode !== undefined && (hasUrlCreds || u.tls)) {
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message:
        `url is not used with ${mode}, so its ${hasUrlCreds ? 'credentials' : 'rediss:// (TLS)'} would be ` +
        'ignored: set username / password' +
        (u.tls ? ' and tls {}' : '') +
        ' instead',
    });
  } else {
    if (u.username !== '' && c.username !== undefined)
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'the user is set twice (in url and username)' });
    if (u.password !== '' && (c.password !== undefined || c.password_file !== undefined)) {
      const key = c.password !== undefined ? 'password' : 'password_file';
      ctx.addIssue({ code: 'custom', path: [key], message: `the password is set twice (in url and ${key})` });
    }
  }
  if (mode === undefined && u.tls && c.tls?.enabled === false) {
    ctx.addIssue({
      code: 'custom',
      path: ['tls', 'enabled'],
      message: 'url is rediss:// (TLS) but tls.enabled is false',
    });
  }
}

/** ParsedRedisUrl is what a redis:// or rediss:// URL says. */
interface ParsedRedisUrl {
  host: string;
  port: number;
  db: number;
  username: string;
  password: string;
  tls: boolean;
}

function parseRedisUrl(url: string): ParsedRedisUrl | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') return undefined;
  const db = u.pathname === '' || u.pathname === '/' ? 0 : Number(u.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0) return undefined;
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? 6379 : Number(u.port),
    db,
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    tls: u.protocol === 'rediss:',
  };
}

function splitHostPort(n: string): { host: string; port: number } {
  const i = n.lastIndexOf(':');
  return { host: n.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(n.slice(i + 1)) };
}

/** RedisClientTuning are the timeouts and reconnect policy a component chooses for its client. */
export interface RedisClientTuning {
  /** Connect timeout, ms (also the cluster's slot refresh timeout and the sentinels' command timeout). */
  readonly connectTimeoutMs: number;
  /** Per-command timeout, ms; undefined = none. */
  readonly commandTimeoutMs?: number;
  /** Delay before reconnect attempt `attempt` (1, 2, ...), ms. The client never gives up. */
  readonly retryDelayMs: (attempt: number) => number;
}

/** RedisClientPlan is the ioredis constructor input a config maps to (see redisClientPlan). */
export type RedisClientPlan =
  | { readonly kind: 'server' | 'sentinel'; readonly options: RedisOptions }
  | {
      readonly kind: 'cluster';
      readonly nodes: Array<{ host: string; port: number }>;
      readonly options: ClusterOptions;
    };

/** FileReader reads a file as text (injectable for tests). */
export type FileReader = (path: string) => string;

const readText: FileReader = (p) => fs.readFileSync(p, 'utf8');

function tlsOptions(tls: RedisTlsConfig | undefined, read: FileReader): ConnectionOptions | undefined {
  if (tls === undefined || !tls.enabled) return undefined;
  const o: ConnectionOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  if (tls.ca_file !== '') o.ca = read(tls.ca_file);
  if (tls.cert_file !== '') o.cert = read(tls.cert_file);
  if (tls.key_file !== '') o.key = read(tls.key_file);
  if (tls.server_name_override !== '') o.servername = tls.server_name_override;
  return o;
}

function password(c: { password?: string; password_file?: string }, read: FileReader): string | undefined {
  if (c.password_file !== undefined) return read(c.password_file).replace(/\r?\n$/, '');
  return c.password;
}

/**
 * redisClientPlan maps a parsed connection config onto ioredis options (reading password and PEM files with
 * `read`). Common to every kind: lazy connect, no offline queue, one retry per request (callers handle
 * failures), reconnects forever with `tuning.retryDelayMs`. Sentinel: the master of `master_name`, asked
 * to the sentinels at every (re)connect; a failover is followed when the old master drops its clients (Sentinel
 * has it do so when it demotes it, and a dead one drops them anyway) or answers READONLY (then the client
 * reconnects). ioredis' optional failover detector is left off: when it fires while a reconnect is resolving
 * the master, that ioredis client ends for good ("Connection is closed.") instead of reconnecting.
 */
export function redisClientPlan(
  c: RedisConnectionConfig,
  tuning: RedisClientTuning,
  read: FileReader = readText,
): RedisClientPlan {
  const base: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: tuning.connectTimeoutMs,
    commandTimeout: tuning.commandTimeoutMs,
  };
  const auth: RedisOptions = {};
  if (c.username !== undefined) auth.username = c.username;
  const pw = password(c, read);
  if (pw !== undefined) auth.password = pw;
  const tls = tlsOptions(c.tls, read);
  if (c.cluster_nodes !== undefined && c.cluster_nodes.length > 0) {
    return {
      kind: 'cluster',
      nodes: c.cluster_nodes.map(splitHostPort),
      options: {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: tuning.retryDelayMs,
        slotsRefreshTimeout: tuning.connectTimeoutMs,
        scaleReads: 'master',
        redisOptions: { ...base, ...auth, ...(tls ? { tls } : {}) },
      },
    };
  }
  const s = c.sentinel;
  if (s !== undefined) {
    const sentinelTls = s.tls === undefined ? tls : tlsOptions(s.tls, read);
    const sentinelPassword = password(s, read);
    return {
      kind: 'sentinel',
      options: {
        ...base,
        ...auth,
        sentinels: s.nodes.map(splitHostPort),
        name: s.master_name,
        role: 'master',
        ...(s.username !== undefined ? { sentinelUsername: s.username } : {}),
        ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
        ...(sentinelTls ? { sentinelTLS: sentinelTls } : {}),
        ...(tls ? { tls, enableTLSForSentinelMode: true } : {}),
        sentinelRetryStrategy: tuning.retryDelayMs,
        sentinelCommandTimeout: tuning.connectTimeoutMs,
        retryStrategy: tuning.retryDelayMs,
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
      },
    };
  }
  const u = parseRedisUrl(c.url);
  if (u === undefined) throw new TypeError(`invalid Redis URL ${JSON.stringify(redactRedisUrl(c.url))}`);
  if (u.username !== '') auth.username = u.username;
  if (u.password !== '') auth.password = u.password;
  const urlTls = tls ?? (u.tls ? {} : undefined);
  return {
    kind: 'server',
    options: {
      ...base,
      ...auth,
      host: u.host,
      port: u.port,
      db: u.db,
      ...(urlTls ? { tls: urlTls } : {}),
      retryStrategy: tuning.retryDelayMs,
    },
  };
}

/** createRedisClient builds the (not yet connected: call `connect()`) ioredis client of a connection config. */
export function createRedisClient(c: RedisConnectionConfig, tuning: RedisClientTuning): Redis | Cluster {
  const plan = redisClientPlan(c, tuning);
  return plan.kind === 'cluster' ? new Cluster(plan.nodes, plan.options) : new Redis(plan.options);
}

/**
 * redisTarget names what a connection config points at, for logs and health details, without credentials:
 * `redis://host:port`, `rediss://host:port`, `cluster [tls] a:1,b:2`, `sentinel mymaster@a:1,b:2 [tls]`.
 */
export function redisTarget(c: RedisConnectionConfig): string {
  const tls = c.tls !== undefined && c.tls.enabled ? ' tls' : '';
  if (c.cluster_nodes !== undefined && c.cluster_nodes.length > 0) return `cluster${tls} ${c.cluster_nodes.join(',')}`;
  if (c.sentinel !== undefined) return `sentinel${tls} ${c.sentinel.master_name}@${c.sentinel.nodes.join(',')}`;
  const url = redactRedisUrl(c.url);
  return tls !== '' ? url.replace(/^redis:/, 'rediss:') : url;
}

/** redactRedisUrl removes credentials from a Redis URL. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'redis (unparsable url)';
  }
}

const AUTH_ERROR = /WRONGPASS|NOAUTH|invalid password|without any password configured|invalid username-password/i;
const TLS_ERROR_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO/;

/**
 * describeRedisError renders a client error as one line that says what to fix: authentication failures
 * ("check redis username / password", or the sentinel's) and TLS failures ("check redis tls") are named as
 * such; the cause a Redis Cluster client wraps (its last node error) is shown instead of its generic "Failed
 * to refresh slots cache".
 */
export function describeRedisError(err: unknown): string {
  const inner = (err as { lastNodeError?: unknown } | null)?.lastNodeError;
  const e = inner instanceof Error ? inner : err;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (AUTH_ERROR.test(message)) {
    const which = /sentinel/i.test(message) ? 'redis sentinel username / password' : 'redis username / password';
    return `authentication failed: ${message} (check ${which})`;
  }
  if ((typeof code === 'string' && TLS_ERROR_CODE.test(code)) || /certificate|handshake|ssl|tls/i.test(message)) {
    return `TLS failed: ${message} (check redis tls)`;
  }
  return message;
}
