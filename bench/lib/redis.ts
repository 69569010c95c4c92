// A private Redis for the benchmark (redis-server from the stack's Debian package, its own port, no
// persistence), so that Redis operations per span count our sampler's commands only, not those of
// other test runs sharing the stack's Redis on 6379. Stopped (by its pid) when the benchmark ends.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { freePort, portOpen } from './ports';

export interface RedisCounters {
  /** total_commands_processed */
  commands: number;
  /** calls per command (INFO commandstats), e.g. { evalsha: 12, hincrby: 40 } */
  perCommand: Record<string, number>;
  /** microseconds of server time per command (INFO commandstats usec), e.g. { evalsha: 950 } */
  usecPerCommand: Record<string, number>;
  /** used_memory, bytes */
  usedMemory: number;
}

export class PrivateRedis {
  private _child?: ChildProcess;
  private _client?: Redis;
  port = 0;
  version = '';

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this._child?.pid;
  }

  async start(dir: string): Promise<void> {
    this.port = await freePort();
    fs.mkdirSync(dir, { recursive: true });
    this._child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--logfile',
        path.join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(this.port))) {
      if (this._child.exitCode !== null)
        throw new Error(`redis-server exited with ${this._child.exitCode}; see ${dir}/redis.log`);
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    this._client = new Redis(this.url, { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 1 });
    await this._client.connect();
    this.version = /redis_version:(\S+)/.exec(await this._client.info('server'))?.[1] ?? '?';
  }

  /** reset deletes every key and returns freed memory to the OS, so the next run's RSS starts low. */
  async reset(): Promise<void> {
    await this._client!.flushall();
    await this._client!.call('MEMORY', 'PURGE');
  }

  /** counters reads INFO stats + commandstats (this reading itself is 1 command, callers subtract it). */
  async counters(): Promise<RedisCounters> {
    const text = await this._client!.info('all');
    const commands = Number(/total_commands_processed:(\d+)/.exec(text)?.[1] ?? 0);
    const perCommand: Record<string, number> = {};
    const usecPerCommand: Record<string, number> = {};
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      perCommand[m[1]] = Number(m[2]);
      usecPerCommand[m[1]] = Number(m[3]);
    }
    return { commands, perCommand, usecPerCommand, usedMemory: Number(/^used_memory:(\d+)/m.exec(text)?.[1] ?? 0) };
  }

  async stop(): Promise<void> {
    await this._client?.quit().catch(() => undefined);
    const child = this._child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}

/** diffCounters is b - a, minus the `own` INFO commands the benchmark issued in between. */
export function diffCounters(a: RedisCounters, b: RedisCounters, own: number): RedisCounters {
  const perCommand: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.perCommand)) {
    const d = v - (a.perCommand[k] ?? 0) - (k === 'info' ? own : 0);
    if (d > 0) perCommand[k] = d;
  }
  const usecPerCommand: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.usecPerCommand)) {
    const d = v - (a.usecPerCommand[k] ?? 0);
    if (d > 0 && k !== 'info') usecPerCommand[k] = d;
  }
  return {
    commands: Math.max(0, b.commands - a.commands - own),
    perCommand,
    usecPerCommand,
    usedMemory: b.usedMemory - a.usedMemory,
  };
}
