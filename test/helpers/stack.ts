// Fault injection on the local stack (Kafka, Redis, Jaeger) for end-to-end fault tests, through the
// project's own scripts: scripts/stack/down.sh (clean stop), kill.sh (kill -9) and up.sh (start and wait
// until ready). Every call is bounded in time. `restoreStack` is meant for after/afterEach hooks: it
// starts any of the given services that is not running, so a failed test never leaves the stack down.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './collector-process';

export type StackService = 'kafka' | 'redis' | 'jaeger';

const SCRIPTS = path.join(REPO_ROOT, 'scripts', 'stack');
const STATE = process.env.TUSK_STACK_STATE ?? path.join(REPO_ROOT, '.stack');
const MAIN_PORT: Record<StackService, number> = { kafka: 9092, redis: 6379, jaeger: 16686 };

function run(script: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [path.join(SCRIPTS, script), ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** stackDown stops a service cleanly (down.sh); resolves with the time it took (ms). */
export async function stackDown(svc: StackService, timeoutMs = 90_000): Promise<number> {
  const t = Date.now();
  const r = await run('down.sh', [svc], timeoutMs);
  if (r.code !== 0) throw new Error(`down.sh ${svc} failed (${r.code}):\n${r.output}`);
  return Date.now() - t;
}

/** stackKill kills a service with SIGKILL (kill.sh); resolves with the time it took (ms). */
export async function stackKill(svc: StackService, timeoutMs = 30_000): Promise<number> {
  const t = Date.now();
  const r = await run('kill.sh', [svc], timeoutMs);
  if (r.code !== 0) throw new Error(`kill.sh ${svc} failed (${r.code}):\n${r.output}`);
  return Date.now() - t;
}

/** stackUp starts a service and waits until it is ready (up.sh); resolves with the time it took (ms). */
export async function stackUp(svc: StackService, timeoutMs = 180_000): Promise<number> {
  const t = Date.now();
  const r = await run('up.sh', [svc], timeoutMs);
  if (r.code !== 0) throw new Error(`up.sh ${svc} failed (${r.code}):\n${r.output}`);
  return Date.now() - t;
}

/** stackPid is the pid recorded in the service's pid file (undefined when none). */
export function stackPid(svc: StackService): number | undefined {
  try {
    const text = fs.readFileSync(path.join(STATE, svc, `${svc}.pid`), 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** portOpen says whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** stackRunning: the recorded pid is alive and the main port answers. */
export async function stackRunning(svc: StackService): Promise<boolean> {
  const pid = stackPid(svc);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return portOpen(MAIN_PORT[svc]);
}

/** restoreStack starts every given service that is not running (for after hooks); never throws. */
export async function restoreStack(services: readonly StackService[]): Promise<void> {
  for (const svc of services) {
    if (await stackRunning(svc)) continue;
    try {
      const ms = await stackUp(svc);
      console.log(`      [stack] restored ${svc} in ${ms} ms`);
    } catch (err) {
      console.error(`      [stack] could not restore ${svc}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** requireStack fails fast (with a clear message) when a service the test needs is not up. */
export async function requireStack(services: readonly StackService[]): Promise<void> {
  for (const svc of services) {
    if (!(await stackRunning(svc))) {
      const ms = await stackUp(svc);
      console.log(`      [stack] ${svc} was not running; started it in ${ms} ms`);
    }
  }
}
