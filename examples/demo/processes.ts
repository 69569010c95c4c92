// Child processes of the demo: the three services (TypeScript run through tsx's require hook) and
// tusk-collector (bin/tusk-collector.js). Each runs in its own process group, so a Ctrl-C in the
// terminal reaches only the launcher, which then stops them in order (services flush to a collector
// that is still up). Services also stop when the launcher's pipe to their stdin closes.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const COLLECTOR_BIN = path.join(REPO_ROOT, 'bin', 'tusk-collector.js');

/** Most output lines a child keeps in memory (for tests and error reports). */
const MAX_KEPT_LINES = 200_000;

/** A running child process. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Output lines so far (stdout and stderr), up to MAX_KEPT_LINES. */
  readonly lines: string[];
  /** Resolves with the exit code (or signal name) once it exited. */
  readonly exited: Promise<number | string>;
  /** Sends `signal`, then SIGKILL after `timeoutMs`; resolves when it exited. Idempotent. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

interface StartOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** A line that means "ready"; its text is returned. */
  ready: (line: string) => boolean;
  readyTimeoutMs: number;
  /** Also append every line to this file. */
  logFile?: string;
}

function startChild(opts: StartOptions): Promise<{ child: Child; readyLine: string }> {
  const proc = spawn(process.execPath, opts.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  void exited.then(() => log?.end());
  let onLine: ((line: string) => void) | undefined;
  for (const stream of [proc.stdout!, proc.stderr!]) {
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (lines.length < MAX_KEPT_LINES) lines.push(line);
      log?.write(line + '\n');
      onLine?.(line);
    });
  }
  let stopping: Promise<number | string> | undefined;
  const child: Child = {
    name: opts.name,
    process: proc,
    lines,
    exited,
    stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill(signal);
          const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
          try {
            await exited;
          } finally {
            clearTimeout(timer);
          }
        }
        proc.stdin?.destroy();
        return exited;
      })();
      return stopping;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      onLine = undefined;
      void child.stop('SIGKILL');
      reject(new Error(`${opts.name} not ready after ${opts.readyTimeoutMs} ms:\n${lines.slice(-30).join('\n')}`));
    }, opts.readyTimeoutMs);
    onLine = (line) => {
      if (!opts.ready(line)) return;
      onLine = undefined;
      clearTimeout(timer);
      resolve({ child, readyLine: line });
    };
    void exited.then((code) => {
      if (!onLine) return;
      onLine = undefined;
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited (${code}) before it was ready:\n${lines.slice(-30).join('\n')}`));
    });
  });
}

/** The demo services. */
export type ServiceName = 'order' | 'payment' | 'inventory';

/** A running demo service. */
export interface ServiceChild extends Child {
  readonly url: string;
  readonly metricsUrl: string | undefined;
  /** Its JSON log lines so far, parsed (other lines are skipped). */
  logs(): Array<Record<string, unknown>>;
}

/**
 * startService runs examples/demo/<service>.ts with `env` (SERVICE_NAME, PORT, METRICS_PORT,
 * TRACING_ENDPOINT, PAYMENT_URL...) and resolves once it logged `listening`.
 */
export async function startService(
  service: ServiceName,
  env: Record<string, string>,
  logFile?: string,
  readyTimeoutMs = 30_000,
): Promise<ServiceChild> {
  const { child, readyLine } = await startChild({
    name: service,
    args: ['--require', require.resolve('tsx/cjs'), path.join(__dirname, `${service}.ts`)],
    env: { DEMO_EXIT_WITH_PARENT: '1', ...env },
    ready: (line) => line.includes('"msg":"listening"'),
    readyTimeoutMs,
    logFile,
  });
  const ready = JSON.parse(readyLine) as { url: string; metrics?: string };
  return {
    ...child,
    url: ready.url,
    metricsUrl: ready.metrics,
    logs: () =>
      child.lines.flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
}

/** startCollectorChild runs `tusk-collector run <config>` and resolves once it printed its banner. */
export async function startCollectorChild(
  config: string,
  env: Record<string, string>,
  logFile?: string,
  readyTimeoutMs = 60_000,
): Promise<Child> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'pipeline', 'runtime', 'cli', 'main.js'))) {
    throw new Error('tusk-collector is not built: run `npm run build` first');
  }
  const { child } = await startChild({
    name: 'tusk-collector',
    args: [COLLECTOR_BIN, 'run', config],
    env,
    ready: (line) => line.includes('tusk-collector: running'),
    readyTimeoutMs,
    logFile,
  });
  return child;
}
