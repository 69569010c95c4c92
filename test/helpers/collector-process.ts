// Runs the real `tusk-collector` binary as a child process for end-to-end tests, waits until it
// prints its banner, and stops it with a signal (SIGTERM for a graceful drain, SIGKILL for crash tests).

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO_ROOT, 'bin', 'tusk-collector.js');

/** A running collector child process. */
export interface CollectorProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout + stderr). */
  output(): string;
  /** Sends `signal` and resolves with the exit code (or signal name) once it has exited. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

/**
 * startCollector runs `tusk-collector run <file> [args]` and resolves once it is listening. `wrapper` is a
 * command the node process is exec'd through (e.g. `ip netns exec NS`: the child pid stays the collector's).
 */
export async function startCollector(
  file: string,
  args: string[],
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
  wrapper: readonly string[] = [],
): Promise<CollectorProcess> {
  const argv = [...wrapper, process.execPath, BIN, 'run', file, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, TUSK_LOG_LEVEL: process.env.TUSK_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  const proc: CollectorProcess = {
    child,
    output: () => out,
    async stop(signal = 'SIGTERM', timeoutMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (!out.includes('tusk-collector: running')) {
    if (child.exitCode !== null)
      throw new Error(`collector exited with ${child.exitCode} before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`collector not ready after ${readyTimeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return proc;
}
