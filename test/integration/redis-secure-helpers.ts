// Helpers of the Redis Cluster / Sentinel integration tests: a throwaway CA and server certificate made with
// openssl, and private redis-server processes (TLS only, an ACL user, the default user off) started from
// config files in a temp dir: a 3-master Redis Cluster, or a master + replica + 3 sentinels. Every process is
// tracked by its pid file and stopped by stopAll(), which also removes the temp dir.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { freePort } from '../helpers/ports';
import { sleep } from './sampling-state-redis-helpers';

export const USER = 'tusk';
export const PASSWORD = 'data-s3cret';
export const SENTINEL_PASSWORD = 'sentinel-s3cret';
export const MASTER_NAME = 'tuskmaster';

export { sleep };

/** waitFor polls `check` every 100 ms until it returns a value, or throws `what` after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => T | undefined | Promise<T | undefined>) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** captureLogger is a pino logger at info level whose lines are kept in `lines` (parsed JSON). */
export function captureLogger(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** SecureRedisSet owns a temp dir with the certificates and every redis-server process started in it. */
export class SecureRedisSet {
  readonly dir = mkdtempSync(join(tmpdir(), 'tusk-redis-secure-'));
  private readonly _pidFiles: string[] = [];
  private readonly _names = new Map<number, string>();

  constructor() {
    // A CA, and a server certificate for 127.0.0.1 / localhost signed by it (valid 2 days).
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
    ssl(
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'],
      ...['-days', '2', '-subj', '/CN=tusk-test-ca'],
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(join(this.dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl(
      ...['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'],
      ...['-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf'],
    );
  }

  get caFile(): string {
    return join(this.dir, 'ca.crt');
  }

  /** The `tls` section a client uses to reach these servers (CA of this set, verification on). */
  get tls() {
    return {
      enabled: true,
      ca_file: this.caFile,
      cert_file: '',
      key_file: '',
      insecure_skip_verify: false,
      server_name_override: '',
    };
  }

  /** cli runs redis-cli over TLS against a port (`auth`: data ACL user, or the sentinels' password). */
  cli(port: number, auth: 'data' | 'sentinel', ...args: string[]): string {
    const creds = auth === 'data' ? ['--user', USER, '--pass', PASSWORD] : ['-a', SENTINEL_PASSWORD];
    return execFileSync(
      'redis-cli',
      ['--tls', '--cacert', this.caFile, '-h', '127.0.0.1', '-p', String(port), ...creds, '--no-auth-warning', ...args],
      { stdio: 'pipe', timeout: 30_000 },
    )
      .toString()
      .trim();
  }

  /** tryCli is cli returning undefined instead of throwing. */
  tryCli(port: number, auth: 'data' | 'sentinel', ...args: string[]): string | undefined {
    try {
      return this.cli(port, auth, ...args);
    } catch {
      return undefined;
    }
  }

  private _start(name: string, port: number, lines: string[], sentinel: boolean): void {
    const d = join(this.dir, name);
    mkdirSync(d);
    const conf = join(d, 'redis.conf');
    writeFileSync(
      conf,
      [
        'port 0',
        `tls-port ${port}`,
        'bind 127.0.0.1',
        `tls-cert-file ${join(this.dir, 'server.crt')}`,
        `tls-key-file ${join(this.dir, 'server.key')}`,
        `tls-ca-cert-file ${this.caFile}`,
        'tls-auth-clients no',
        'tls-replication yes',
        'daemonize yes',
        `dir ${d}`,
        `pidfile ${join(d, 'redis.pid')}`,
        `logfile ${join(d, 'redis.log')}`,
        ...lines,
        '',
      ].join('\n'),
    );
    this._pidFiles.push(join(d, 'redis.pid'));
    this._names.set(port, name);
    execFileSync('redis-server', sentinel ? [conf, '--sentinel'] : [conf], { stdio: 'pipe' });
  }

  /** dataNode starts a TLS-only data server with the ACL user (default user off); resolves when it answers. */
  async dataNode(name: string, extra: string[] = []): Promise<number> {
    const port = await freePort();
    this._start(
      name,
      port,
      [
        'save ""',
        'appendonly no',
        'user default off',
        `user ${USER} on >${PASSWORD} ~* &* +@all`,
        `masteruser ${USER}`,
        `masterauth ${PASSWORD}`,
        ...extra,
      ],
      false,
    );
    await waitFor(`${name} on ${port}`, 10_000, () =>
      this.tryCli(port, 'data', 'ping') === 'PONG' ? true : undefined,
    );
    return port;
  }

  /** cluster starts 3 TLS cluster masters and creates the cluster; resolves when every node says ok. */
  async cluster(): Promise<number[]> {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      ports.push(
        await this.dataNode(`node${i}`, [
          'cluster-enabled yes',
          'cluster-config-file nodes.conf',
          'cluster-node-timeout 2000',
          'tls-cluster yes',
        ]),
      );
    }
    const seeds = ports.map((p) => `127.0.0.1:${p}`);
    this.cli(ports[0], 'data', '--cluster', 'create', ...seeds, '--cluster-replicas', '0', '--cluster-yes');
    for (const p of ports) {
      await waitFor(`cluster_state:ok on ${p}`, 20_000, () =>
        this.tryCli(p, 'data', 'cluster', 'info')?.includes('cluster_state:ok') ? true : undefined,
      );
    }
    return ports;
  }

  /**
   * sentinelGroup starts a master, one replica and 3 sentinels (TLS, password) watching them with fast
   * failure detection; resolves when every sentinel knows the replica and the other sentinels.
   */
  async sentinelGroup(): Promise<{ master: number; replica: number; sentinels: number[] }> {
    const master = await this.dataNode('master');
    const replica = await this.dataNode('replica', [`replicaof 127.0.0.1 ${master}`]);
    await waitFor('replica in sync', 20_000, () =>
      this.tryCli(replica, 'data', 'info', 'replication')?.includes('master_link_status:up') ? true : undefined,
    );
    const sentinels: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      this._start(
        `sentinel${i}`,
        port,
        [
          `requirepass ${SENTINEL_PASSWORD}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master} 2`,
          `sentinel auth-user ${MASTER_NAME} ${USER}`,
          `sentinel auth-pass ${MASTER_NAME} ${PASSWORD}`,
          `sentinel sentinel-pass ${SENTINEL_PASSWORD}`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
        ],
        true,
      );
      sentinels.push(port);
    }
    for (const s of sentinels) {
      await waitFor(`sentinel ${s} to see the replica and 2 other sentinels`, 30_000, () => {
        const info = this.tryCli(s, 'sentinel', 'info', 'sentinel') ?? '';
        return /slaves=1,sentinels=3/.test(info) ? true : undefined;
      });
    }
    return { master, replica, sentinels };
  }

  /** kill9 kills the server listening on `port` (one started here) with SIGKILL. */
  kill9(port: number): void {
    const name = this._names.get(port);
    if (name === undefined) throw new Error(`no server of this set on port ${port}`);
    process.kill(Number(readFileSync(join(this.dir, name, 'redis.pid'), 'utf8').trim()), 'SIGKILL');
  }

  /** masterPort asks a sentinel which port the group's master is on. */
  masterPort(sentinel: number): number | undefined {
    const out = this.tryCli(sentinel, 'sentinel', 'sentinel', 'get-master-addr-by-name', MASTER_NAME);
    const port = Number(out?.split('\n')[1]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  }

  /** stopAll kills every process started here (SIGTERM, then SIGKILL after 5 s) and removes the temp dir. */
  async stopAll(): Promise<void> {
    const pids: number[] = [];
    for (const f of this._pidFiles.splice(0)) {
      try {
        pids.push(Number(readFileSync(f, 'utf8').trim()));
      } catch {
        // never started, or already gone
      }
    }
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (pids.some(alive) && Date.now() < deadline) await sleep(50);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
