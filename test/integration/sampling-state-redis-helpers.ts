// Helpers of the sampling-state Redis integration tests: make sure the stack Redis (127.0.0.1:6379) is up
// (starting it with scripts/stack/up.sh, never skipping), unique key prefixes and cleanup, and private
// redis-server processes (single server or a 3-master cluster) that a test may stop and restart for real.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { LedgerRecord } from '../../processors/tail-sampling/state';
import { freePort } from '../helpers/ports';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../..');
export const STACK_REDIS_URL = 'redis://127.0.0.1:6379';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** keptDecision is a minimal ledger record keeping `traceId` by `policy` (no reason, no inputs). */
export function keptDecision(traceId: string, policy: string, decidedAt: number): LedgerRecord {
  return { traceId, decision: 'sampled', policy, reason: '', inputs: {}, decidedAt };
}

/** pingRedis resolves true when a Redis answers PING at `url` within 1 s. */
export async function pingRedis(url: string): Promise<boolean> {
  const c = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** ensureStackRedis starts the stack Redis with `bash scripts/stack/up.sh redis` when it does not answer. */
export async function ensureStackRedis(): Promise<void> {
  if (await pingRedis(STACK_REDIS_URL)) return;
  await run('bash', [join(REPO, 'scripts/stack/up.sh'), 'redis'], { cwd: REPO, timeout: 60_000 });
  if (!(await pingRedis(STACK_REDIS_URL)))
    throw new Error('Redis at 127.0.0.1:6379 is not reachable even after scripts/stack/up.sh redis');
}

let counter = 0;
/** uniquePrefix returns a key prefix no other test run uses. */
export function uniquePrefix(test: string): string {
  return `tusk-it:${test}:${process.pid}-${Date.now().toString(36)}-${counter++}:`;
}

/** deleteByPrefix removes every key under `prefix` from the server at `url` (SCAN + UNLINK). */
export async function deleteByPrefix(url: string, prefix: string): Promise<number> {
  const c = new Redis(url, { connectTimeout: 1000, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await c.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    c.disconnect();
  }
  return deleted;
}

/** keysByPrefix lists the keys under `prefix` (SCAN). */
export async function keysByPrefix(url: string, prefix: string): Promise<string[]> {
  const c = new Redis(url, { connectTimeout: 1000, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
  } finally {
    c.disconnect();
  }
  return out;
}

/**
 * PrivateRedis is a redis-server process on its own loopback port, started with the flags the stack
 * script uses (no persistence, daemonized, pid file), so a test can stop it for real and restart it
 * without disturbing the shared stack Redis other test runs use.
 */
export class PrivateRedis {
  private readonly _dir = mkdtempSync(join(tmpdir(), 'tusk-redis-'));

  private constructor(
    readonly port: number,
    private readonly _extra: string[],
  ) {}

  /** start creates and starts a server on a free port. */
  static async start(extra: string[] = []): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), extra);
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get dir(): string {
    return this._dir;
  }

  /** up (re)starts the server and waits until it answers PING. */
  async up(): Promise<void> {
    execFileSync('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--dir',
      this._dir,
      '--pidfile',
      join(this._dir, 'redis.pid'),
      '--logfile',
      join(this._dir, 'redis.log'),
      ...this._extra,
    ]);
    const deadline = Date.now() + 10_000;
    while (!(await pingRedis(this.url))) {
      if (Date.now() > deadline) throw new Error(`private redis on ${this.port} did not start: ${this.log()}`);
      await sleep(50);
    }
  }

  /** down stops the server for real (SHUTDOWN NOSAVE) and waits until the port is closed. */
  async down(): Promise<void> {
    try {
      execFileSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave'], { stdio: 'ignore' });
    } catch {
      // redis-cli reports the dropped connection as an error: expected.
    }
    const deadline = Date.now() + 10_000;
    while (await pingRedis(this.url)) {
      if (Date.now() > deadline) throw new Error(`private redis on ${this.port} did not stop`);
      await sleep(50);
    }
  }

  /** destroy stops the server (if up) and removes its directory. */
  async destroy(): Promise<void> {
    if (await pingRedis(this.url)) await this.down();
    rmSync(this._dir, { recursive: true, force: true });
  }

  log(): string {
    try {
      return readFileSync(join(this._dir, 'redis.log'), 'utf8').slice(-2000);
    } catch {
      return '(no log)';
    }
  }
}

/** PrivateCluster is a 3-master Redis Cluster of private servers on loopback (no replicas). */
export class PrivateCluster {
  private constructor(readonly nodes: PrivateRedis[]) {}

  static async start(): Promise<PrivateCluster> {
    const nodes: PrivateRedis[] = [];
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await PrivateRedis.start([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    const c = new PrivateCluster(nodes);
    execFileSync('redis-cli', ['--cluster', 'create', ...c.addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: 'ignore',
      timeout: 30_000,
    });
    const deadline = Date.now() + 20_000;
    for (const n of nodes) {
      for (;;) {
        const info = execFileSync('redis-cli', ['-p', String(n.port), 'cluster', 'info']).toString();
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster did not converge: ${info}`);
        await sleep(100);
      }
    }
    return c;
  }

  get addresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  /** Keys stored on each node (SCAN per node). */
  async keysPerNode(prefix: string): Promise<number[]> {
    return Promise.all(this.nodes.map(async (n) => (await keysByPrefix(n.url, prefix)).length));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
